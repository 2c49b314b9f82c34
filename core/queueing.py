"""Queue Celery tasks once the data they need is committed."""

import logging

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, *args) -> None:
    """Queue `task` after the current transaction commits.

    Robust: a broker that is down (or, in-process, a task that fails) is logged and does not
    undo or fail the request; what was stored stays pending and a periodic sweep queues it again.
    """
    transaction.on_commit(lambda: task.delay(*args), robust=True)
