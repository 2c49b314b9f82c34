"""Configuration kept in memory (core.config_cache) is never used once it has changed."""

import pytest
from django.utils import timezone

from api.services import webhook_endpoint_create
from conversations.models import Direction, Message
from core import config_cache
from crm.models import Consent, ConsentStatus
from crm.services import line_create
from keywords.models import Action
from keywords.services import responder_save, responder_set_active
from tests.support.webhook_client import inbound_params, new_sid, post_inbound

pytestmark = pytest.mark.usefixtures("signed_account")


def replies_to(line) -> list[str]:
    return list(
        Message.objects.filter(line=line, direction=Direction.OUTBOUND)
        .order_by("pk")
        .values_list("body", flat=True)
    )


def test_a_responder_saved_after_a_text_was_processed_answers_the_next(
    client, account, line, deliver, outbox
):
    deliver(client, inbound_params(line, body="HOURS", MessageSid=new_sid()))
    assert replies_to(line) == []
    responder = responder_save(
        account=account,
        name="Hours",
        keywords=["HOURS"],
        lines=[],
        action=Action.REPLY,
        reply="Open 9 to 5.",
        is_active=True,
    )
    deliver(client, inbound_params(line, body="HOURS", MessageSid=new_sid()))
    assert replies_to(line) == ["Open 9 to 5."]
    responder_set_active(responder=responder, is_active=False)
    deliver(client, inbound_params(line, body="HOURS", MessageSid=new_sid()))
    assert replies_to(line) == ["Open 9 to 5."]


def test_a_line_added_after_its_number_was_refused_is_found_at_once(client, account, line, deliver):
    params = {**inbound_params(line, body="STOP"), "To": "+14155550999"}
    assert post_inbound(client, params).status_code == 404  # unknown, and remembered so
    added = line_create(
        account=account, number="+14155550999", name="Support", consent_policy=line.consent_policy
    )
    assert deliver(client, {**params, "MessageSid": new_sid()}).status_code == 200
    assert Consent.objects.get(line=added).status == ConsentStatus.OPTED_OUT


def test_a_cache_that_cannot_be_reached_means_reading_the_database(
    client, line, deliver, monkeypatch, caplog
):
    def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(config_cache.cache, "get", unreachable)
    assert deliver(client, inbound_params(line, body="STOP")).status_code == 200
    assert Consent.objects.get(line=line).status == ConsentStatus.OPTED_OUT
    assert "Configuration cache unreachable" in caplog.text


def test_a_change_committed_elsewhere_retires_what_this_process_loaded(
    django_capture_on_commit_callbacks,
):
    loads = []

    def load():
        loads.append(1)
        return len(loads)

    assert config_cache.cached("answer", load) == 1
    assert config_cache.cached("answer", load) == 1
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        config_cache.config_changed()
        assert config_cache.cached("answer", load) == 2  # a reader during the transaction
    assert len(callbacks) == 1
    assert config_cache.cached("answer", load) == 3  # the commit retired what it read
    assert config_cache.cached("answer", load) == 3


def test_without_a_shared_cache_every_read_goes_to_the_database(settings):
    """Several gunicorn processes without Redis: none could tell the others of a change."""
    settings.CONFIG_CACHE_IN_MEMORY = False
    loads = []
    config_cache.cached("answer", lambda: loads.append(1))
    config_cache.cached("answer", lambda: loads.append(1))
    assert len(loads) == 2


def test_a_task_reads_the_generation_once_for_all_its_values(monkeypatch):
    reads = []
    real_get = config_cache.cache.get

    def counted_get(*args, **kwargs):
        reads.append(args[0])
        return real_get(*args, **kwargs)

    config_cache.cached("warm", lambda: 0)
    monkeypatch.setattr(config_cache.cache, "get", counted_get)
    with config_cache.one_generation():
        for key in ("responders:1", "languages:1", "endpoints:1:message.received"):
            config_cache.cached(key, lambda: 0)
    assert reads == [config_cache.GENERATION_KEY]


def test_numbers_that_are_no_line_are_not_remembered(client, line):
    """Anyone can post to the webhook: its misses must not grow a process's memory."""
    config_cache.cached("warm", lambda: 0)
    before = len(config_cache._values)
    for n in range(20):
        params = {**inbound_params(line, body="hi"), "To": f"+1415555{9000 + n:04d}"}
        assert post_inbound(client, params).status_code == 404
    assert len(config_cache._values) == before


def test_an_endpoints_delivery_health_does_not_retire_the_configuration(account):
    endpoint = webhook_endpoint_create(
        account=account, url="https://hooks.example.com/in", events=["consent.changed"]
    )
    config_cache.cached("answer", lambda: 1)
    endpoint.failing_since = timezone.now()
    endpoint.save(update_fields=["failing_since"])
    assert config_cache.cached("answer", lambda: 2) == 1
    endpoint.is_active = False
    endpoint.save(update_fields=["is_active"])
    assert config_cache.cached("answer", lambda: 3) == 3
