"""Bulk work never delays a STOP: imports, broadcasts and webhooks out go to the `bulk` queue,
texts and confirmations to `celery`, each served by its own worker."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.test import Client

from capacity_sms.celery import app
from conversations.models import Direction, Message, MessageStatus, Purpose
from core.queueing import registered_task
from crm.import_files import read_upload
from crm.imports import contact_import_create, contact_import_queue
from crm.models import Consent, ConsentStatus, ContactImport, ImportStatus
from tests.support.celery_broker import wait_until
from tests.support.webhook_client import inbound_params, post_inbound

QUEUE_OF = {
    "conversations.tasks.process_inbound_message": "celery",
    "conversations.tasks.deliver_message": "celery",
    "conversations.tasks.sweep_pending_messages": "celery",
    "conversations.tasks.send_due_messages": "celery",
    "conversations.tasks.deliver_messages": "bulk",
    "crm.tasks.import_contacts": "bulk",
    "crm.tasks.verify_consent_logs": "bulk",
    "crm.tasks.compact_consent_days": "bulk",
    "broadcasts.tasks.send_broadcast": "bulk",
    "broadcasts.tasks.start_due_broadcasts": "bulk",
    "api.tasks.deliver_webhooks": "bulk",
    "api.tasks.deliver_due_webhooks": "bulk",
}


@pytest.mark.parametrize(("task", "queue"), QUEUE_OF.items())
def test_each_task_goes_to_its_queue(task, queue):
    assert registered_task(task).name == task  # imports the tasks modules, run alone too
    assert app.amqp.router.route({}, task)["queue"].name == queue


@pytest.fixture
def bulk_worker(redis_broker):
    """A single-process worker serving only the bulk queue, in a process of its own (two
    workers in one process would share kombu's event loop), on the test database."""
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
            **{
                **database,
                "HOST": database["HOST"] or "127.0.0.1",
                "PORT": database["PORT"] or 5432,
            }
        ),
        "REDIS_URL": redis_broker,
    }
    process = subprocess.Popen(  # noqa: S603 (the venv's own celery)
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "capacity_sms",
            "worker",
            "-Q",
            "bulk",
            "--pool",
            "solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "WARNING",
        ],
        env=env,
    )
    yield process
    process.kill()
    process.wait(timeout=10)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_stop_is_processed_while_a_big_import_holds_the_bulk_worker(
    redis_broker, signed_account, line, admin_user, outbox, bulk_worker
):
    app.control.purge()
    rows = "".join(f"+1415{2_000_000 + n:07d},opted_in\n" for n in range(30_000))
    contact_import = contact_import_create(
        account=signed_account,
        user=admin_user,
        uploaded=read_upload("big.csv", f"phone,Sales\n{rows}".encode()),
    )
    contact_import_queue(
        contact_import=contact_import, mapping={"0": "phone", "1": f"consent:{line.pk}"}
    )
    wait_until(lambda: ContactImport.objects.get().processed_rows > 0, timeout=60)
    with start_worker(app, queues=["celery"], perform_ping_check=False, shutdown_timeout=20):
        assert post_inbound(Client(), inbound_params(line, body="STOP")).status_code == 200
        wait_until(
            lambda: Message.objects.filter(
                direction=Direction.OUTBOUND,
                purpose=Purpose.OPT_OUT_CONFIRMATION,
                status=MessageStatus.SENT,
            ).exists()
        )
    assert Consent.objects.get(line=line, contact__phone="+12025550143").status == (
        ConsentStatus.OPTED_OUT
    )
    still = ContactImport.objects.get()
    assert still.status == ImportStatus.RUNNING  # the import was running all along
    assert still.processed_rows < still.total_rows
