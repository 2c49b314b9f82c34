"""The send path through Redis and a real Celery worker (not eager mode)."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from capacity_sms.celery import app
from conversations.models import MessageStatus
from conversations.sending import SendBlocked, send_message
from crm import consent
from crm.models import ConsentSource

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    app.conf.task_always_eager = False
    app.control.purge()
    try:
        with start_worker(app, perform_ping_check=False, shutdown_timeout=20) as running:
            yield running
    finally:
        app.conf.task_always_eager = True


def wait_for_status(message, status, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.status == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"message still {message.status!r}, expected {status!r}")


def test_worker_delivers_a_queued_message_and_the_gate_blocks_after_an_opt_out(
    worker, contact, line, agent, outbox
):
    message = send_message(contact=contact, line=line, body="From a real worker", sent_by=agent)
    assert message.status == MessageStatus.QUEUED
    wait_for_status(message, MessageStatus.SENT)
    assert [sms.body for sms in outbox] == ["From a real worker"]

    consent.opt_out(contact=contact, line=line, source=ConsentSource.AGENT, user=agent)
    with pytest.raises(SendBlocked):
        send_message(contact=contact, line=line, body="Never sent", sent_by=agent)
    assert len(outbox) == 1
