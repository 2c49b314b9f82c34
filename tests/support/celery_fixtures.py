"""Fixtures for the tests that run real Celery workers on Redis."""

import pytest
from celery.contrib.testing.worker import start_worker

from capacity_sms.celery import app
from tests.support.celery_broker import use_broker


@pytest.fixture
def redis_broker():
    original = app.conf.broker_url
    use_broker(original, eager=False)
    yield original
    use_broker(original, eager=True)


@pytest.fixture
def worker(redis_broker):
    app.control.purge()
    with start_worker(
        app, perform_ping_check=False, shutdown_timeout=20, queues=["celery", "bulk"]
    ) as running:
        yield running
