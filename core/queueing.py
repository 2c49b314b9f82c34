"""Queue Celery tasks once the data they need is committed, never waiting on a broken broker.

Tasks are queued by name. Each app's `tasks` module sits on top of the app: it imports the
services it runs, so the services cannot import it back to queue work. A service names the
job instead (a constant it owns, which the task is registered under), and Celery's registry
finds the task; the dependency runs one way.

Whatever is queued is stored first, and a periodic sweep queues again whatever waits too long,
so a broker that is down or hangs costs a delay, never a message. Publishing therefore gives up
fast (the broker settings bound each attempt to a fraction of a second), and after a failure
this process stops trying for a few seconds, so a request never waits on the broker at all
while it is known to be away.
"""

import logging
import threading
import time

from celery import Task, current_app
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)

# How long a process leaves the broker alone after it failed to take a task.
BROKER_PAUSE_SECONDS = 10.0
_paused_until = 0.0


def enqueue_on_commit(task_name: str, *args) -> None:
    """Queue the task registered as `task_name` after the current transaction commits.

    Robust: a broker that is down or hangs, or (in-process) a task that fails, is logged and
    does not undo or fail the request; what was stored stays pending for the sweep.
    """
    transaction.on_commit(lambda: publish(task_name, *args), robust=True)


def publish(task_name: str, *args) -> bool:
    """Hand the task to the broker now; False when it is left for the sweep (broker away)."""
    global _paused_until
    if time.monotonic() < _paused_until:
        return False
    try:
        registered_task(task_name).delay(*args)
    except BrokerUnavailable:
        _paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.warning(
            "Broker unavailable: %s%s left for the sweep; not publishing for %d s",
            task_name,
            args,
            BROKER_PAUSE_SECONDS,
            exc_info=True,
        )
        return False
    return True


def in_process() -> bool:
    """Whether tasks run in-process (no broker: development, the demo, most tests)."""
    return bool(current_app.conf.task_always_eager)


_discovering = threading.RLock()


def registered_task(task_name: str) -> Task:
    """The Celery task of that name, importing the apps' `tasks` modules the first time.

    One thread at a time: Celery's loader returns at once, having imported nothing, to a
    thread that asks while another is importing, and the task would be missing (seen under
    gunicorn's threads on a process's first texts, which then waited for the sweep)."""
    if task_name not in current_app.tasks:
        with _discovering:
            if task_name not in current_app.tasks:
                current_app.loader.import_default_modules()
    return current_app.tasks[task_name]
