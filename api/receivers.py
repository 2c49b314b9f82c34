"""Consent and message changes become webhook deliveries, in the transaction that made them.

The lower layers announce (crm.signals, conversations.signals); these receivers ask which of
the account's endpoints listen (one query) and, only if some do, build the payloads and queue
one delivery per endpoint and event.
"""

from collections import defaultdict

from django.dispatch import receiver

from api.models import WebhookEndpoint, WebhookEvent
from api.representations import consent_events_data
from api.serializers import MessageSerializer
from api.services import webhook_deliveries_record
from conversations.models import Message
from conversations.signals import message_blocked, message_received, message_status_changed
from core.config_cache import cached
from crm.models import ConsentEvent
from crm.signals import consent_changed


def listening(account_id: int, event_type: str) -> list[WebhookEndpoint]:
    """The account's endpoints for the event (kept in memory until endpoints change: asked
    on every message and consent change)."""
    return cached(
        f"endpoints:{account_id}:{event_type}",
        lambda: list(WebhookEndpoint.objects.subscribed(account_id, event_type).only("pk")),
    )


@receiver(consent_changed, dispatch_uid="api.consent_changed")
def consent_changed_to_webhooks(sender, account_id: int, events: list[ConsentEvent], **kwargs):
    endpoints = listening(account_id, WebhookEvent.CONSENT_CHANGED)
    if not endpoints:
        return
    loaded = consent_events_data(
        ConsentEvent.objects.filter(pk__in=[event.pk for event in events]).order_by("pk")
    )
    webhook_deliveries_record(
        endpoints=endpoints,
        account_id=account_id,
        event_type=WebhookEvent.CONSENT_CHANGED,
        items=[(event["contact_id"], event) for event in loaded],
    )


def _messages_to_webhooks(event_type: str, messages: list[Message]) -> None:
    by_account = defaultdict(list)
    for message in messages:
        by_account[message.line.account_id].append(message)
    for account_id, account_messages in by_account.items():
        endpoints = listening(account_id, event_type)
        if not endpoints:
            continue
        webhook_deliveries_record(
            endpoints=endpoints,
            account_id=account_id,
            event_type=event_type,
            items=[
                (message.contact_id, MessageSerializer(message).data)
                for message in account_messages
            ],
        )


@receiver(message_received, dispatch_uid="api.message_received")
def message_received_to_webhooks(sender, messages: list[Message], **kwargs) -> None:
    _messages_to_webhooks(WebhookEvent.MESSAGE_RECEIVED, messages)


@receiver(message_blocked, dispatch_uid="api.message_blocked")
def message_blocked_to_webhooks(sender, messages: list[Message], **kwargs) -> None:
    _messages_to_webhooks(WebhookEvent.MESSAGE_BLOCKED, messages)


@receiver(message_status_changed, dispatch_uid="api.message_status_changed")
def message_status_to_webhooks(sender, messages: list[Message], **kwargs) -> None:
    _messages_to_webhooks(WebhookEvent.MESSAGE_STATUS, messages)
