"""Sending webhook deliveries: signed, one endpoint at a time, in order per contact, retried
with exponential backoff for a day.

A worker leases an endpoint for a short while (a column, not a transaction, so nothing is
held open during the HTTP calls), then sends what is due: for each contact only its oldest
pending delivery, so a contact's events arrive in the order they happened even across
retries. An endpoint whose every attempt failed for a day is switched off; admins see a
banner and switch it back on when it is fixed.
"""

import json
import logging
import time
from datetime import datetime, timedelta

import requests
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from api.destinations import UnsafeDestination, check_destination
from api.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.services import webhook_endpoint_disable
from api.signing import SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)

RETRY_FOR = timedelta(hours=24)
DISABLE_AFTER = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
LEASE = timedelta(minutes=2)
# One task sends for this long at most, then queues itself again: the lease stays valid.
BUDGET_SECONDS = 25.0
BATCH_SIZE = 20
TIMEOUTS = (3.05, 10)
USER_AGENT = "capacity_sms-webhooks/1"


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failures: 30 s, 1 min, 2 min … at most 1 h."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def endpoint_deliver(endpoint_id: int) -> bool:
    """Send the endpoint's due deliveries; True when some are still due (queue it again)."""
    if not _take_lease(endpoint_id):
        return False
    deadline = time.monotonic() + BUDGET_SECONDS
    try:
        while True:
            endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
            batch = _due_heads(endpoint, timezone.now()) if endpoint.is_active else []
            if not batch:
                return False
            for delivery in batch:
                if time.monotonic() >= deadline:
                    return True
                _attempt(endpoint, delivery)
                if not endpoint.is_active:
                    return False
    finally:
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(leased_until=None)


def endpoints_due(*, now: datetime | None = None) -> list[int]:
    """Active endpoints with a delivery due and no worker on them (for the periodic sweep)."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        endpoint=OuterRef("pk"), status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    )
    return list(
        WebhookEndpoint.objects.filter(is_active=True)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .filter(Exists(due))
        .values_list("pk", flat=True)
    )


def _take_lease(endpoint_id: int) -> bool:
    now = timezone.now()
    return bool(
        WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + LEASE)
    )


def _due_heads(endpoint: WebhookEndpoint, now: datetime) -> list[WebhookDelivery]:
    """The oldest pending delivery of each contact, when it is due."""
    earlier = WebhookDelivery.objects.filter(
        endpoint=endpoint,
        status=DeliveryStatus.PENDING,
        contact_id=OuterRef("contact_id"),
        pk__lt=OuterRef("pk"),
    )
    return list(
        WebhookDelivery.objects.filter(
            endpoint=endpoint, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        .exclude(Exists(earlier))
        .order_by("pk")[:BATCH_SIZE]
    )


def _attempt(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> None:
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Capacity-Event-Id": f"evt_{delivery.event_id.hex}",
        "Capacity-Event-Type": delivery.event_type,
        SIGNATURE_HEADER: sign(endpoint.secret, body, int(time.time())),
    }
    started = time.monotonic()
    code, error = None, ""
    try:
        check_destination(endpoint.url)
        with requests.post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=TIMEOUTS,
            allow_redirects=False,
            stream=True,
        ) as response:
            code = response.status_code
        if not 200 <= code < 300:
            error = f"The endpoint answered {code}."
    except UnsafeDestination as refused:
        error = str(refused)
    except requests.RequestException as failure:
        error = f"{type(failure).__name__}: {failure}"
    duration_ms = round((time.monotonic() - started) * 1000)
    _record(endpoint, delivery, code, error, duration_ms)


@transaction.atomic
def _record(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, code: int | None, error: str, ms: int
) -> None:
    now = timezone.now()
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        response_code=code,
        duration_ms=ms,
        error=error[: WebhookAttempt._meta.get_field("error").max_length],
    )
    delivery.attempts += 1
    if not error:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since"])
    else:
        if now - delivery.created_at >= RETRY_FOR:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        _note_failure(endpoint, now)
    delivery.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at"])


def _note_failure(endpoint: WebhookEndpoint, now: datetime) -> None:
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since"])
    elif now - endpoint.failing_since >= DISABLE_AFTER:
        logger.warning("Webhook endpoint %s failed for a day: switched off", endpoint.pk)
        webhook_endpoint_disable(
            endpoint=endpoint,
            reason=f"Every delivery failed from {endpoint.failing_since:%Y-%m-%d %H:%M} UTC "
            "for a day.",
        )
