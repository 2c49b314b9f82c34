"""Point the Celery app at a broker for a test, and back."""

from capacity_sms.celery import app


def use_broker(url: str | None, *, eager: bool) -> None:
    """Point the Celery app at another broker, dropping the pooled connections to the old one."""
    if url is not None:
        app.conf.broker_url = url
    app.conf.task_always_eager = eager
    app._pool = None
    app.amqp._producer_pool = None
