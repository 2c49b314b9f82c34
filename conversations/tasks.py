"""Celery tasks for sending: thin, ids only, safe to run twice."""

from datetime import timedelta

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from conversations import sending
from conversations.backends import ProviderUnavailable
from conversations.models import Direction, Message, MessageStatus

STALLED_AFTER = timedelta(minutes=2)

RETRYING = {
    "acks_late": True,
    "autoretry_for": (ProviderUnavailable, OperationalError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
}


@shared_task(**RETRYING)
def deliver_message(message_id: int) -> None:
    sending.deliver(message_id)


@shared_task(**RETRYING)
def deliver_messages(message_ids: list[int]) -> None:
    for message_id in message_ids:
        sending.deliver(message_id)


@shared_task(acks_late=True)
def requeue_stalled_messages() -> int:
    """Queue again outbound messages still queued minutes later (say, the broker was down)."""
    stalled = list(
        Message.objects.filter(
            direction=Direction.OUTBOUND,
            status=MessageStatus.QUEUED,
            created_at__lt=timezone.now() - STALLED_AFTER,
        ).values_list("pk", flat=True)[:10_000]
    )
    for start in range(0, len(stalled), sending.DELIVERY_BATCH_SIZE):
        deliver_messages.delay(stalled[start : start + sending.DELIVERY_BATCH_SIZE])
    return len(stalled)
