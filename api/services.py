"""Actions of the API's own things (keys, webhook endpoints) and of other systems through it."""

import secrets
import uuid
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from api.destinations import url_problem
from api.keys import key_hash, new_key, visible_prefix
from api.models import (
    ApiKey,
    DeliveryStatus,
    IdempotentRequest,
    KeyAccess,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from conversations.models import Message
from conversations.sending import send_new_message
from core.lengths import too_long
from core.queueing import enqueue_on_commit, in_process
from crm import consent
from crm.models import Account, ConsentEvent, ConsentSource, Line
from crm.services import contact_get_or_create

# An event from another system may carry its own time, a little ahead of our clock at most.
CLOCK_SLACK = timedelta(minutes=5)
DELIVER_TASK = "api.tasks.deliver_webhooks"


def api_key_create(
    *, account: Account, name: str, access: str, created_by: AbstractBaseUser | None = None
) -> tuple[ApiKey, str]:
    """A new key for the account; returns it with the secret, which is never shown again."""
    name = name.strip()
    errors = {}
    if not name:
        errors["name"] = ["Name the key after the system that will use it."]
    elif message := too_long(ApiKey, "name", name):
        errors["name"] = message
    if access not in KeyAccess.values:
        errors["access"] = [f"Choose one of: {', '.join(KeyAccess.values)}."]
    if errors:
        raise ValidationError(errors)
    secret = new_key()
    api_key = ApiKey.objects.create(
        account=account,
        name=name,
        access=access,
        prefix=visible_prefix(secret),
        key_hash=key_hash(secret),
        created_by=created_by,
    )
    return api_key, secret


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """The key stops working at once; it stays listed, as the source of what it recorded."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_consent_record(
    *,
    api_key: ApiKey,
    phone: str,
    line: Line,
    status: str,
    occurred_at: datetime | None = None,
    consent_text: str = "",
    page_url: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
    note: str = "",
) -> ConsentEvent:
    """Another system's opt-in or opt-out, recorded by the consent engine with source `api`.

    The engine keeps its rule: an opt-in from the API never lifts an opt-out (the event is
    recorded, refused). The contact is created for a number not seen before.
    """
    _check_line(api_key, line)
    if occurred_at is not None and occurred_at > timezone.now() + CLOCK_SLACK:
        raise ValidationError({"occurred_at": ["This time is in the future."]})
    with transaction.atomic():
        contact, _ = contact_get_or_create(account=api_key.account, phone=phone)
        return consent.record_consent(
            contact=contact,
            line=line,
            status=status,
            source=ConsentSource.API,
            occurred_at=occurred_at,
            api_key=api_key,
            consent_text=consent_text,
            page_url=page_url,
            ip_address=ip_address,
            user_agent=user_agent,
            note=note,
        )


def api_message_send(
    *, api_key: ApiKey, line: Line, to: str, body: str, send_at: datetime | None = None
) -> Message:
    """A text from another system, through the one gate (raises SendBlocked, stored blocked,
    when it refuses). A new number becomes a contact."""
    _check_line(api_key, line)
    return send_new_message(line=line, body=body, sent_by=None, phone=to, send_at=send_at)


def idempotent_requests_prune(*, older_than: datetime) -> int:
    """Forget the answers to requests older than `older_than`; how many were forgotten."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=older_than).delete()
    return deleted


def webhook_deliveries_prune(*, older_than: datetime) -> int:
    """Forget deliveries settled (delivered or given up) before `older_than`, with their
    tries; pending ones stay whatever their age. How many were forgotten."""
    settled = WebhookDelivery.objects.filter(created_at__lt=older_than).exclude(
        status=DeliveryStatus.PENDING
    )
    _, deleted = settled.delete()
    return deleted.get(WebhookDelivery._meta.label, 0)


def _check_line(api_key: ApiKey, line: Line) -> None:
    if line.account_id != api_key.account_id:
        raise ValidationError({"line": ["No line of this account has this number or id."]})


def webhook_endpoint_validate(*, url: str, events: list[str], description: str = "") -> str:
    """The rules of an endpoint; returns its events as stored (comma-separated, in order)."""
    errors: dict[str, list[str]] = {}
    if problem := url_problem(url):
        errors["url"] = [problem]
    elif message := too_long(WebhookEndpoint, "url", url):
        errors["url"] = message
    unknown = sorted(set(events) - set(WebhookEvent.values))
    if unknown:
        errors["events"] = [f"Unknown events: {', '.join(unknown)}."]
    elif not events:
        errors["events"] = ["Choose at least one event."]
    if message := too_long(WebhookEndpoint, "description", description):
        errors["description"] = message
    if errors:
        raise ValidationError(errors)
    return ",".join(event for event in WebhookEvent.values if event in events)


def webhook_endpoint_create(
    *, account: Account, url: str, events: list[str], description: str = ""
) -> WebhookEndpoint:
    """A new endpoint with its own signing secret."""
    url, description = url.strip(), description.strip()
    stored = webhook_endpoint_validate(url=url, events=events, description=description)
    return WebhookEndpoint.objects.create(
        account=account,
        url=url,
        description=description,
        events=stored,
        secret="whsec_" + secrets.token_urlsafe(32),
    )


def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, events: list[str], description: str = ""
) -> WebhookEndpoint:
    url, description = url.strip(), description.strip()
    endpoint.events = webhook_endpoint_validate(url=url, events=events, description=description)
    endpoint.url, endpoint.description = url, description
    endpoint.save(update_fields=["url", "events", "description"])
    return endpoint


@transaction.atomic
def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Switch an endpoint (back) on; what waited for it is tried again now."""
    endpoint.is_active = True
    endpoint.failing_since = endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.save(update_fields=["is_active", "failing_since", "disabled_at", "disabled_reason"])
    endpoint.deliveries.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=timezone.now())
    send_soon([endpoint.pk])
    return endpoint


def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> WebhookEndpoint:
    """Stop sending to the endpoint: no new deliveries are queued for it, and those pending
    wait until it is switched back on (the change feed has what it misses meanwhile)."""
    endpoint.is_active = False
    endpoint.disabled_at = timezone.now()
    endpoint.disabled_reason = reason[
        : WebhookEndpoint._meta.get_field("disabled_reason").max_length
    ]
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint with its deliveries and their log."""
    endpoint.delete()


@transaction.atomic
def webhook_delivery_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the event again now (the same event id, so a receiver can tell it is a repeat),
    after the contact's earlier pending deliveries, like any other."""
    now = timezone.now()
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    delivery.created_at = now
    delivery.save(update_fields=["status", "next_attempt_at", "created_at"])
    if delivery.endpoint.is_active:
        send_soon([delivery.endpoint_id])
    return delivery


def webhook_deliveries_record(
    *,
    endpoints: list[WebhookEndpoint],
    account_id: int,
    event_type: str,
    items: list[tuple[int | None, dict]],
) -> int:
    """Queue the events for the endpoints (the account's, listening to this type).

    `items` are (contact id, data). Called inside the transaction that made the change, so an
    event is delivered exactly when the change commits; the sending happens in a worker.
    Returns the number of deliveries queued.
    """
    now = timezone.now()
    events = [(contact_id, data, uuid.uuid4()) for contact_id, data in items]
    deliveries = [
        WebhookDelivery(
            endpoint=endpoint,
            event_id=event_id,
            event_type=event_type,
            contact_id=contact_id,
            payload=_envelope(event_id, event_type, account_id, now, data),
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint in endpoints
        for contact_id, data, event_id in events
    ]
    WebhookDelivery.objects.bulk_create(deliveries, batch_size=1000)
    send_soon([endpoint.pk for endpoint in endpoints])
    return len(deliveries)


def send_soon(endpoint_ids: list[int]) -> None:
    """Have a worker send to these endpoints once the transaction commits.

    In-process (no broker) the scheduler's sweep sends them instead: a receiver's slowness
    must never hold up the request or task that asked.
    """
    if in_process():
        return
    for endpoint_id in endpoint_ids:
        enqueue_on_commit(DELIVER_TASK, endpoint_id)


def _envelope(event_id, event_type: str, account_id: int, now: datetime, data: dict) -> dict:
    return {
        "id": f"evt_{event_id.hex}",
        "type": event_type,
        "created_at": now.isoformat(),
        "account_id": account_id,
        "data": data,
    }
