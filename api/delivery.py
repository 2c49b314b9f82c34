"""Sending webhook deliveries: signed, one endpoint at a time, in order per contact, retried
with exponential backoff for a day.

A worker leases an endpoint for a short while (columns, not a transaction, so nothing is held
open during the HTTP calls), renews the lease before each attempt and records an attempt only
while it still holds it (each attempt ends within a bounded time, well inside the lease), then
sends what is due: for each contact only its oldest
pending delivery, so a contact's events arrive in the order they happened even across
retries. An endpoint whose every attempt failed for a day is switched off; admins see a
banner and switch it back on when it is fixed.
"""

import http.client
import json
import logging
import time
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from api.destinations import UnsafeDestination, post
from api.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.services import webhook_endpoint_disable
from api.signing import SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)

RETRY_FOR = timedelta(hours=24)
DELIVERY_LOG_KEPT_FOR = timedelta(days=30)
DISABLE_AFTER = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
LEASE = timedelta(minutes=2)
# One task sends for this long at most, then queues itself again: the lease stays valid.
BUDGET_SECONDS = 25.0
BATCH_SIZE = 20
CONNECT_TIMEOUT = 3.05
# The whole attempt, however slowly the receiver answers; far inside the lease.
TOTAL_TIMEOUT = 15.0
USER_AGENT = "capacity_sms-webhooks/1"


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failures: 30 s, 1 min, 2 min … at most 1 h."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def endpoint_deliver(endpoint_id: int) -> bool:
    """Send the endpoint's due deliveries; True when some are still due (queue it again)."""
    lease = _take_lease(endpoint_id)
    if lease is None:
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
                if not _renew(endpoint_id, lease) or not _attempt(endpoint, delivery, lease):
                    return False
                if not endpoint.is_active:
                    return False
    finally:
        WebhookEndpoint.objects.filter(pk=endpoint_id, lease_token=lease).update(
            leased_until=None, lease_token=None
        )


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


def _take_lease(endpoint_id: int) -> uuid.UUID | None:
    """A token of this worker's lease on the endpoint, or None when another worker has it."""
    now, token = timezone.now(), uuid.uuid4()
    taken = (
        WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + LEASE, lease_token=token)
    )
    return token if taken else None


def _renew(endpoint_id: int, lease: uuid.UUID) -> bool:
    """Extend the lease for one more attempt; False when it was lost (taken over)."""
    return bool(
        WebhookEndpoint.objects.filter(pk=endpoint_id, lease_token=lease).update(
            leased_until=timezone.now() + LEASE
        )
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


def _attempt(endpoint: WebhookEndpoint, delivery: WebhookDelivery, lease: uuid.UUID) -> bool:
    """Send one delivery and record the outcome; False when the lease was lost meanwhile
    (nothing recorded: the worker that holds it now decides)."""
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
        code = post(
            endpoint.url,
            body,
            headers,
            connect_timeout=CONNECT_TIMEOUT,
            total_timeout=TOTAL_TIMEOUT,
        )
        if not 200 <= code < 300:
            error = f"The endpoint answered {code}."
    except UnsafeDestination as refused:
        error = str(refused)
    except (OSError, http.client.HTTPException) as failure:
        error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
    duration_ms = round((time.monotonic() - started) * 1000)
    return _record(endpoint, delivery, lease, code, error, duration_ms)


@transaction.atomic
def _record(
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    lease: uuid.UUID,
    code: int | None,
    error: str,
    ms: int,
) -> bool:
    # FOR NO KEY UPDATE: it must not wait for transactions that are queueing deliveries for
    # the endpoint (their foreign keys take a KEY SHARE lock on its row).
    held = WebhookEndpoint.objects.select_for_update(no_key=True).filter(
        pk=endpoint.pk, lease_token=lease
    )
    if not held.exists():
        return False
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
    return True


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
