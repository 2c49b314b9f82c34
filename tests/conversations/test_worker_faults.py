"""A worker killed with SIGKILL mid-task, then a new one: every message handled exactly once.

The workers are real processes (tests/support/fault_worker.py) on Redis and this test's PostgreSQL
database; the first stops dead at a chosen point and is killed with its whole process group,
as the kernel's OOM killer or a lost machine would. Recovery is what production has: the beat
sweep re-queues what waits too long (its clock is moved by back-dating rows).
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conversations.models import Direction, Message, MessageStatus
from conversations.tasks import deliver_message, sweep_pending_messages
from crm.models import Consent, ConsentEvent, ConsentStatus
from tests.support.celery_broker import wait_until
from tests.support.webhook_client import inbound_params, post_inbound

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("signed_account", "redis_broker"),
]


def sweep_as_beat_would_later() -> None:
    """Run the periodic sweep in a worker, after the stall thresholds have passed."""
    long_ago = timezone.now() - timedelta(minutes=30)
    Message.objects.update(created_at=long_ago, updated_at=long_ago)
    sweep_pending_messages.delay()


def stop_message(line) -> Message:
    assert post_inbound(Client(), inbound_params(line, body="STOP")).status_code == 200
    return Message.objects.get(direction=Direction.INBOUND)


def test_killed_while_processing_an_inbound_message_it_is_processed_once(workers, line):
    first = workers.start(pause="processing")
    inbound = stop_message(line)
    wait_until(workers.marker.exists, timeout=60)
    workers.kill(first)

    inbound.refresh_from_db()
    assert inbound.status == MessageStatus.RECEIVED  # its transaction died with the worker
    assert ConsentEvent.objects.count() == 0

    workers.start()
    sweep_as_beat_would_later()
    wait_until(
        lambda: Message.objects.filter(
            direction=Direction.OUTBOUND, status=MessageStatus.SENT
        ).exists(),
        timeout=60,
    )
    sweep_as_beat_would_later()  # a second sweep finds nothing left to do
    inbound.refresh_from_db()
    assert inbound.status == MessageStatus.PROCESSED
    event = ConsentEvent.objects.get()
    assert (event.status, event.message) == (ConsentStatus.OPTED_OUT, inbound)
    assert Consent.objects.get(line=line).status == ConsentStatus.OPTED_OUT
    [reply] = Message.objects.filter(direction=Direction.OUTBOUND)
    assert reply.in_reply_to == inbound
    wait_until(lambda: len(workers.sent()) >= 1)
    assert workers.sent() == [{"to": inbound.remote_number, "reference": str(reply.pk)}], (
        workers.logs()
    )


def test_killed_after_the_provider_took_the_reply_it_is_never_sent_twice(workers, line):
    first = workers.start(pause="provider")
    inbound = stop_message(line)
    wait_until(workers.marker.exists, timeout=60)
    workers.kill(first)

    [reply] = Message.objects.filter(direction=Direction.OUTBOUND)
    assert reply.status == MessageStatus.SENDING  # claimed, and the provider has it
    assert len(workers.sent()) == 1

    workers.start()
    deliver_message.delay(reply.pk)  # the lost task delivered again, as Redis would
    sweep_as_beat_would_later()
    wait_until(
        lambda: (
            Message.objects.filter(pk=reply.pk)
            .exclude(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING])
            .exists()
        ),
        timeout=60,
    )
    assert len(workers.sent()) == 1, workers.logs()
    reply.refresh_from_db()
    assert (reply.status, reply.error_code) == (MessageStatus.FAILED, "unconfirmed")
    inbound.refresh_from_db()
    assert inbound.status == MessageStatus.PROCESSED
    assert ConsentEvent.objects.count() == 1
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1
