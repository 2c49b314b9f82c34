"""A worker killed with SIGKILL mid-broadcast, then a new one: nobody texted twice.

Real worker processes (tests/support/fault_worker.py) on Redis and this test's PostgreSQL
database. Recovery is production's: beat queues stalled broadcasts again and the sweep queues
stalled texts (its clock moved by back-dating rows).
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from broadcasts.models import Broadcast, BroadcastRecipient, BroadcastStatus
from broadcasts.services import broadcast_confirm, broadcast_create
from broadcasts.tasks import start_due_broadcasts
from conversations.models import Direction, Message, MessageStatus
from conversations.sending import UNCONFIRMED_ERROR
from conversations.tasks import sweep_pending_messages
from tests.support.celery_broker import wait_until
from tests.support.factories import ContactFactory

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("redis_broker"),
]
AUDIENCE = 40


@pytest.fixture
def broadcast(account, line, manager):
    for index in range(AUDIENCE):
        ContactFactory(account=account, phone=f"+1202555{index:04d}", name=f"P{index}")
    draft = broadcast_create(
        account=account, user=manager, name="Flash sale", line=line, body="Hi {first_name}"
    )
    return draft


def beat_later() -> None:
    """What beat does once the stall thresholds have passed: stalled broadcasts and stalled
    texts queued again, texts left mid-hand-over failed as unconfirmed."""
    long_ago = timezone.now() - timedelta(minutes=30)
    Broadcast.objects.update(progress_at=long_ago)
    Message.objects.update(created_at=long_ago, updated_at=long_ago)
    start_due_broadcasts.delay()
    sweep_pending_messages.delay()


def settled() -> bool:
    return (
        Broadcast.objects.filter(status=BroadcastStatus.SENT).exists()
        and not Message.objects.filter(
            status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]
        ).exists()
    )


def test_killed_mid_chunk_the_chunk_is_done_again_whole_and_once(workers, broadcast, manager):
    first = workers.start(pause="broadcast-chunk")
    broadcast_confirm(broadcast=broadcast, user=manager)
    wait_until(workers.marker.exists, timeout=60)
    workers.kill(first)
    assert not Message.objects.exists()  # the chunk's transaction died with the worker
    assert BroadcastRecipient.objects.filter(message__isnull=True).count() == AUDIENCE

    workers.start()
    beat_later()
    wait_until(lambda: len(workers.sent()) == AUDIENCE, timeout=90)
    beat_later()  # a second round finds nothing left to do
    wait_until(settled, timeout=60)
    sent = Counter(entry["to"] for entry in workers.sent())
    assert len(sent) == AUDIENCE
    assert set(sent.values()) == {1}, workers.logs()
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == AUDIENCE


def test_killed_while_handing_texts_over_nobody_is_texted_twice(workers, broadcast, manager):
    first = workers.start(pause="provider", pause_after=3)
    broadcast_confirm(broadcast=broadcast, user=manager)
    wait_until(workers.marker.exists, timeout=60)
    workers.kill(first)
    assert len(workers.sent()) == 3

    workers.start()
    beat_later()
    wait_until(settled, timeout=90)
    sent = Counter(entry["to"] for entry in workers.sent())
    assert set(sent.values()) == {1}, workers.logs()
    texts = Message.objects.filter(direction=Direction.OUTBOUND)
    assert texts.count() == AUDIENCE
    handed = {text.remote_number for text in texts.filter(status=MessageStatus.SENT)}
    unconfirmed = texts.filter(status=MessageStatus.FAILED, error_code=UNCONFIRMED_ERROR)
    # Only the group in the hands of the killed worker is uncertain: it is failed, never sent
    # again; every other text went out once.
    assert handed <= set(sent)
    assert handed | {text.remote_number for text in unconfirmed} == {
        text.remote_number for text in texts
    }
    assert 0 < unconfirmed.count() < AUDIENCE
