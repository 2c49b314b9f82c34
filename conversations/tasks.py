"""Celery tasks for sending: thin, ids only, safe to run twice."""

from datetime import timedelta

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from conversations import inbound, sending
from conversations.backends import ProviderUnavailable
from core.config_cache import one_generation
from core.queueing import publish

INBOUND_STALLED_AFTER = timedelta(minutes=1)
OUTBOUND_STALLED_AFTER = timedelta(minutes=2)
# Well past the provider call's timeout, and the wait for the contact's lock before it.
SENDING_STALLED_AFTER = timedelta(minutes=10)

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
    sending.deliver_many(message_ids)


@shared_task(name=inbound.PROCESS_INBOUND_TASK, **RETRYING)
def process_inbound_message(message_id: int) -> None:
    with one_generation():
        inbound.process_inbound(message_id)


@shared_task(acks_late=True)
def sweep_pending_messages() -> dict[str, int]:
    """Queue again what waits too long: inbound not processed, outbound not handed over.

    Covers a broker that was down when the message was stored and a worker that died; both
    tasks are idempotent, so a message queued twice is still handled once. Outbound messages
    whose worker died during the provider call are failed as unconfirmed, never sent again.
    """
    now = timezone.now()
    stalled = inbound.stalled_inbound(older_than=now - INBOUND_STALLED_AFTER)
    # Only what the broker took counts as an attempt: a broker failing mid-sweep must not use
    # up the attempts of messages it never queued.
    queued = [pk for pk in stalled if publish(inbound.PROCESS_INBOUND_TASK, pk)]
    inbound.inbound_requeues_count(message_ids=queued)
    undelivered = sending.stalled_outbound(older_than=now - OUTBOUND_STALLED_AFTER)
    size = sending.DELIVERY_BATCH_SIZE
    batches = [undelivered[start : start + size] for start in range(0, len(undelivered), size)]
    handed = sum(len(batch) for batch in batches if publish(sending.DELIVER_MANY_TASK, batch))
    unconfirmed = sending.mark_unconfirmed(older_than=now - SENDING_STALLED_AFTER)
    return {"inbound": len(queued), "outbound": handed, "unconfirmed": unconfirmed}


@shared_task(acks_late=True)
def send_due_messages() -> int:
    """Queue the scheduled and deferred messages whose time has come (beat, every minute).

    A message the broker does not take stays queued and is picked up by the sweep."""
    due = sending.messages_due()
    size = sending.DELIVERY_BATCH_SIZE
    for start in range(0, len(due), size):
        publish(sending.DELIVER_MANY_TASK, due[start : start + size])
    return len(due)
