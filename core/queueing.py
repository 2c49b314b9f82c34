"""Queue Celery tasks once the data they need is committed.

Tasks are queued by name. Each app's `tasks` module sits on top of the app: it imports the
services it runs, so the services cannot import it back to queue work. A service names the
job instead (a constant it owns, which the task is registered under), and Celery's registry
finds the task; the dependency runs one way.
"""

from celery import Task, current_app
from django.db import transaction


def enqueue_on_commit(task_name: str, *args) -> None:
    """Queue the task registered as `task_name` after the current transaction commits.

    Robust: a broker that is down (or, in-process, a task that fails) is logged and does not
    undo or fail the request; what was stored stays pending and a periodic sweep queues it again.
    """
    transaction.on_commit(lambda: registered_task(task_name).delay(*args), robust=True)


def registered_task(task_name: str) -> Task:
    """The Celery task of that name, importing the apps' `tasks` modules the first time."""
    if task_name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[task_name]
