"""The Celery application; its settings come from Django's (the CELERY_ namespace)."""

import os

from celery import Celery
from celery.signals import task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "capacity_sms.settings")

app = Celery("capacity_sms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect(dispatch_uid="capacity_sms.close_old_connections")
def close_old_database_connections(sender=None, **kwargs) -> None:
    """Keep a worker's database connection from task to task, as a web request does.

    Celery's Django fixup closes it around every task unless CELERY_DB_REUSE_MAX is set: a
    connection per task cost a fifth of a worker's time on short tasks (py-spy). With reuse on,
    this closes what Django would close between requests: a connection older than
    CONN_MAX_AGE, or one an error left unusable (after a database restart, say).
    """
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()
