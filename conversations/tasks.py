"""Celery tasks for sending: thin, ids only, safe to run twice."""

import logging
from datetime import timedelta

from celery import shared_task
from django.db import OperationalError
from django.db.models import F
from django.utils import timezone

from conversations import inbound, sending
from conversations.backends import ProviderUnavailable
from conversations.models import Direction, Message, MessageStatus

INBOUND_STALLED_AFTER = timedelta(minutes=1)
OUTBOUND_STALLED_AFTER = timedelta(minutes=2)
# Well past the provider call's timeout, and the wait for the contact's lock before it.
SENDING_STALLED_AFTER = timedelta(minutes=10)
logger = logging.getLogger(__name__)
SWEEP_LIMIT = 10_000
# A message that fails this many times (a bug, or data the code cannot handle) is left for a
# person instead of being retried every sweep for ever.
MAX_REQUEUES = 10

RETRYING = {
    "acks_late": True,
    "autoretry_for": (ProviderUnavailable, OperationalError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
}


@shared_task(name=sending.DELIVER_TASK, **RETRYING)
def deliver_message(message_id: int) -> None:
    sending.deliver(message_id)


@shared_task(name=sending.DELIVER_MANY_TASK, **RETRYING)
def deliver_messages(message_ids: list[int]) -> None:
    for message_id in message_ids:
        sending.deliver(message_id)


@shared_task(name=inbound.PROCESS_INBOUND_TASK, **RETRYING)
def process_inbound_message(message_id: int) -> None:
    inbound.process_inbound(message_id)


@shared_task(acks_late=True)
def sweep_pending_messages() -> dict[str, int]:
    """Queue again what waits too long: inbound not processed, outbound not handed over.

    Covers a broker that was down when the message was stored and a worker that died; both
    tasks are idempotent, so a message queued twice is still handled once. Outbound messages
    whose worker died during the provider call are failed as unconfirmed, never sent again.
    """
    now = timezone.now()
    unprocessed = list(
        Message.objects.filter(
            direction=Direction.INBOUND,
            status=MessageStatus.RECEIVED,
            created_at__lt=now - INBOUND_STALLED_AFTER,
            times_requeued__lt=MAX_REQUEUES,
        ).values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    _count_requeue(unprocessed)
    for message_id in unprocessed:
        process_inbound_message.delay(message_id)
    undelivered = list(
        Message.objects.filter(
            direction=Direction.OUTBOUND,
            status=MessageStatus.QUEUED,
            created_at__lt=now - OUTBOUND_STALLED_AFTER,
        ).values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for start in range(0, len(undelivered), sending.DELIVERY_BATCH_SIZE):
        deliver_messages.delay(undelivered[start : start + sending.DELIVERY_BATCH_SIZE])
    unconfirmed = sending.mark_unconfirmed(older_than=now - SENDING_STALLED_AFTER)
    return {"inbound": len(unprocessed), "outbound": len(undelivered), "unconfirmed": unconfirmed}


def _count_requeue(message_ids: list[int]) -> None:
    """Count one more attempt for each message; log those now at their last one."""
    Message.objects.filter(pk__in=message_ids).update(times_requeued=F("times_requeued") + 1)
    last_tries = list(
        Message.objects.filter(pk__in=message_ids, times_requeued=MAX_REQUEUES).values_list(
            "pk", flat=True
        )
    )
    if last_tries:
        logger.error(
            "Inbound messages %s queued for the last time (%d attempts); if they fail again "
            "they stay unprocessed until someone looks (Django admin, Messages, status Received).",
            last_tries,
            MAX_REQUEUES,
        )
