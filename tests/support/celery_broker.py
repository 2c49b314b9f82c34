"""Point the Celery app at a broker for a test, and back; wait for what a worker does."""

import time

from capacity_sms.celery import app


def use_broker(url: str | None, *, eager: bool) -> None:
    """Point the Celery app at another broker, dropping the pooled connections to the old one."""
    if url is not None:
        app.conf.broker_url = url
    app.conf.task_always_eager = eager
    app._pool = None
    app.amqp._producer_pool = None


def wait_until(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")
