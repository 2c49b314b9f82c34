"""Redis down or hanging: pages keep working, webhooks answer at once, nothing is lost.

Redis holds the rate-limit counters (the cache) and Celery's queue. A Redis that refuses
connections fails fast; one that accepts them and never answers is worse, and is what these
tests use too: every call that reaches it must give up within a fraction of a second.
"""

import time

import pytest
from django.urls import reverse

from capacity_sms.settings import redis_cache
from conversations.models import Message
from tests.stuck_servers import hanging_server, refusing_url
from tests.webhook_client import inbound_params, post_inbound


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
