"""Through Redis and a real Celery worker (not eager mode): sending, inbound, broker outages."""

import threading
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_retry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.backends.signals import connection_created
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from capacity_sms.celery import app
from conversations.models import Direction, Message, MessageStatus, Purpose
from conversations.sending import SendBlocked, send_message
from conversations.tasks import sweep_pending_messages
from core import queueing
from crm import consent
from crm.models import (
    Consent,
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    Contact,
    ContactImport,
    ImportStatus,
)
from tests.support.celery_broker import use_broker, wait_until
from tests.support.webhook_client import inbound_params, post_inbound

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("signed_account"),
]
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def test_worker_delivers_a_queued_message_and_the_gate_blocks_after_an_opt_out(
    worker, contact, line, agent, outbox
):
    message = send_message(contact=contact, line=line, body="From a real worker", sent_by=agent)
    assert message.status == MessageStatus.QUEUED
    wait_until(lambda: Message.objects.get(pk=message.pk).status == MessageStatus.SENT)
    assert [sms.body for sms in outbox] == ["From a real worker"]

    consent.opt_out(contact=contact, line=line, source=ConsentSource.AGENT, user=agent)
    with pytest.raises(SendBlocked):
        send_message(contact=contact, line=line, body="Never sent", sent_by=agent)
    assert len(outbox) == 1


def test_signed_stop_through_the_worker_opts_out_that_line_only(
    worker, line, second_line, agent, outbox
):
    response = post_inbound(Client(), inbound_params(line, body="STOP"))
    assert response.status_code == 200
    wait_until(
        lambda: Message.objects.filter(
            direction=Direction.OUTBOUND, status=MessageStatus.SENT
        ).exists()
    )
    contact = Contact.objects.get(phone="+12025550143")
    assert Consent.objects.get(contact=contact, line=line).status == ConsentStatus.OPTED_OUT
    assert not Consent.objects.filter(contact=contact, line=second_line).exists()
    confirmation = Message.objects.get(direction=Direction.OUTBOUND)
    assert confirmation.purpose == Purpose.OPT_OUT_CONFIRMATION
    assert len(outbox) == 1
    with pytest.raises(SendBlocked):
        send_message(contact=contact, line=line, body="Promo", sent_by=agent)
    send_message(contact=contact, line=second_line, body="Other line is fine", sent_by=agent)


def test_with_redis_down_the_webhook_answers_fast_and_the_sweep_processes_once(
    redis_broker, line, outbox, monkeypatch
):
    use_broker(CLOSED_PORT_BROKER, eager=False)
    started = time.monotonic()
    response = post_inbound(Client(), inbound_params(line, body="STOP"))
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 1.0
    stored = Message.objects.get(direction=Direction.INBOUND)
    assert stored.status == MessageStatus.RECEIVED

    use_broker(redis_broker, eager=False)
    # The worker below runs in this process; a real one has no pause of its own to wait out.
    monkeypatch.setattr(queueing, "_paused_until", 0.0)
    app.control.purge()
    Message.objects.filter(pk=stored.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    with start_worker(app, perform_ping_check=False, shutdown_timeout=20):
        sweep_pending_messages.delay()
        sweep_pending_messages.delay()
        wait_until(
            lambda: Message.objects.filter(
                direction=Direction.OUTBOUND, status=MessageStatus.SENT
            ).exists()
        )
        time.sleep(1)  # let a second, duplicate processing show itself if there were one
    stored.refresh_from_db()
    assert stored.status == MessageStatus.PROCESSED
    assert ConsentEvent.objects.count() == 1
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1
    assert len(outbox) == 1


@pytest.mark.postgres
def test_the_same_delivery_in_two_threads_at_once_is_stored_and_answered_once(line, outbox):
    use_broker(None, eager=True)
    params = inbound_params(line, body="STOP")
    barrier = threading.Barrier(2)
    statuses = []

    def post():
        try:
            barrier.wait(timeout=10)
            statuses.append(post_inbound(Client(), params).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200, 200]
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 1
    assert ConsentEvent.objects.count() == 1
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1
    assert len(outbox) == 1


def test_an_uploaded_import_runs_in_the_worker_and_the_page_follows_it(worker, line, admin_user):
    client = Client()
    client.force_login(admin_user)
    rows = "".join(f"Person {n},20255501{n:02d},opted_out\n" for n in range(10, 40))
    upload = SimpleUploadedFile("crm.csv", f"name,phone,Sales\n{rows}".encode(), "text/csv")
    client.post(reverse("imports"), {"file": upload})
    contact_import = ContactImport.objects.get()
    mapping = {"column_0": "name", "column_1": "phone", "column_2": f"consent:{line.pk}"}
    assert (
        client.post(reverse("import-mapping", args=[contact_import.pk]), mapping).status_code == 302
    )
    wait_until(lambda: ContactImport.objects.get().status == ImportStatus.DONE)
    page = client.get(reverse("import", args=[contact_import.pk]), HTTP_HX_REQUEST="true")
    assert "30 of 30 rows (100%)" in page.content.decode()
    assert Consent.objects.filter(line=line, status=ConsentStatus.OPTED_OUT).count() == 30
    assert ConsentEvent.objects.filter(contact_import=contact_import).count() == 30


def test_the_worker_keeps_its_database_connection_from_task_to_task(worker, line, outbox):
    """Celery would open one per task; the worker's thread opens one for all these texts."""
    opened = []

    def count(sender, connection, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            opened.append(connection.alias)

    connection_created.connect(count)
    try:
        for n in range(6):
            post_inbound(Client(), inbound_params(line, body=f"Question {n}"))
        wait_until(
            lambda: (
                Message.objects.filter(
                    direction=Direction.INBOUND, status=MessageStatus.PROCESSED
                ).count()
                == 6
            )
        )
    finally:
        connection_created.disconnect(count)
    assert len(opened) <= 1


def test_a_connection_the_database_dropped_between_tasks_is_replaced_not_failed_on(
    worker, line, outbox
):
    """A database restart or failover between two texts: the kept connection is checked
    before the next task uses it (CONN_HEALTH_CHECKS), so the task does not fail and retry."""
    retried = []

    def count(sender=None, **kwargs):
        retried.append(sender.name)

    def processed() -> int:
        return Message.objects.filter(
            direction=Direction.INBOUND, status=MessageStatus.PROCESSED
        ).count()

    task_retry.connect(count)
    try:
        post_inbound(Client(), inbound_params(line, body="Before the restart"))
        wait_until(lambda: processed() == 1)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchall()  # the worker's connection was there, and is gone
        post_inbound(Client(), inbound_params(line, body="After the restart"))
        wait_until(lambda: processed() == 2)
    finally:
        task_retry.disconnect(count)
    assert retried == []
