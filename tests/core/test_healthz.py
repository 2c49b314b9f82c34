"""`/healthz` for a load balancer: database and broker reachable, answered within 1 s."""

import time

import pytest

from capacity_sms import health


@pytest.mark.django_db(transaction=True)
def test_a_healthy_process_answers_ok_without_logging_in(client):
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 1
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_a_hung_database_is_a_503_in_time(client, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "database", lambda: time.sleep(3))
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 1
    assert response.status_code == 503
    assert response.json()["database"] == "timeout"


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_is_a_503_naming_it(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 1
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "error: ConnectionError"}


def test_only_get_is_answered(client):
    assert client.post("/healthz").status_code == 405
