"""Redis down or hanging: pages keep working, webhooks answer at once, nothing is lost.

Redis holds the rate-limit counters (the cache) and Celery's queue. A Redis that refuses
connections fails fast; one that accepts them and never answers is worse, and is what these
tests use too: every call that reaches it must give up within a fraction of a second.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from capacity_sms.celery import app
from capacity_sms.settings import redis_cache
from conversations.models import Direction, Message, MessageStatus
from conversations.tasks import sweep_pending_messages
from core import queueing
from crm.models import ConsentEvent
from tests.support.celery_broker import use_broker
from tests.support.stuck_servers import hanging_server, refusing_url
from tests.support.webhook_client import inbound_params, post_inbound


@pytest.fixture(params=["refusing", "hanging"])
def broken_cache(request, settings):
    """The cache on a Redis that refuses connections, or on one that never answers."""
    if request.param == "refusing":
        settings.CACHES = {"default": redis_cache(refusing_url())}
        yield request.param
        return
    with hanging_server() as url:
        settings.CACHES = {"default": redis_cache(url)}
        yield request.param


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_logins_fail_open_with_a_warning_when_the_cache_is_broken(
    client, agent, broken_cache, caplog
):
    wrong, seconds = timed(
        lambda: client.post(reverse("login"), {"username": agent.username, "password": "bad"})
    )
    assert wrong.status_code == 200
    assert "Please enter a correct username and password" in wrong.content.decode()
    assert seconds < 1
    right, seconds = timed(
        lambda: client.post(reverse("login"), {"username": agent.username, "password": "pw"})
    )
    assert right.status_code == 302
    assert seconds < 1
    assert "cannot reach the cache to count; allowing the attempt" in caplog.text


def test_bad_signatures_are_refused_when_the_cache_is_broken(
    client, signed_account, line, broken_cache, caplog
):
    forged, seconds = timed(lambda: post_inbound(client, inbound_params(line), token="forged"))
    assert forged.status_code == 429
    assert seconds < 1
    assert "refusing the request" in caplog.text
    signed = post_inbound(client, inbound_params(line))
    assert signed.status_code == 200
    assert Message.objects.count() == 1


@pytest.fixture(params=["hanging", "refusing"])
def broken_broker(request):
    """Celery publishing for real (not in-process) to a broker that never answers, or that
    refuses connections; in-process again afterwards."""
    original = app.conf.broker_url
    if request.param == "refusing":
        use_broker(refusing_url(), eager=False)
        yield request.param
    else:
        with hanging_server() as url:
            use_broker(url, eager=False)
            yield request.param
    use_broker(original, eager=True)


def test_with_the_broker_broken_webhooks_answer_at_once_and_the_sweep_loses_nothing(
    client,
    signed_account,
    line,
    outbox,
    broken_broker,
    deliver,
    caplog,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    for _ in range(5):
        response, seconds = timed(lambda: deliver(client, inbound_params(line, body="STOP")))
        assert response.status_code == 200
        assert seconds < 1
    assert "Broker unavailable" in caplog.text
    stored = Message.objects.filter(direction=Direction.INBOUND)
    assert [message.status for message in stored] == [MessageStatus.RECEIVED] * 5

    use_broker(None, eager=True)  # the broker is back, and the sweep runs in a worker,
    monkeypatch.setattr(queueing, "_paused_until", 0.0)  # a process with no pause of its own
    stored.update(created_at=timezone.now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        sweep_pending_messages.apply()
    assert set(stored.values_list("status", flat=True)) == {MessageStatus.PROCESSED}
    assert ConsentEvent.objects.count() == 5
    assert len(outbox) == 1  # one opt-out confirmation for the one opt-out


@pytest.mark.postgres  # SQLite's in-memory test database locks whole tables across threads
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_webhooks_with_the_broker_hanging_leaves_pages_working(
    signed_account, line, agent
):
    # A server's threads have served requests before the burst: each test client's middleware
    # is built (WhiteNoise reads every static file then) and each thread has resolved URLs and
    # connected to the database. Only the burst is timed.
    clients = [Client() for _ in range(13)]

    def warm_up(number: int) -> int:
        return clients[number].get(reverse("login")).status_code

    def webhook(number: int) -> tuple[int, float]:
        try:
            sender = f"+120255501{number:02d}"
            response, seconds = timed(
                lambda: post_inbound(
                    clients[number], inbound_params(line, sender=sender, body="Hi")
                )
            )
            return response.status_code, seconds
        finally:
            connection.close()

    original = app.conf.broker_url
    with hanging_server() as url, ThreadPoolExecutor(max_workers=12) as pool:
        assert set(pool.map(warm_up, range(13))) == {200}
        use_broker(url, eager=False)
        try:
            answers = list(pool.map(webhook, range(12)))
            login, login_seconds = timed(lambda: clients[12].get(reverse("login")))
        finally:
            use_broker(original, eager=True)
    assert all(status == 200 and seconds < 1 for status, seconds in answers), answers
    assert (login.status_code, login_seconds < 1) == (200, True)
    assert Message.objects.filter(status=MessageStatus.RECEIVED).count() == 12
