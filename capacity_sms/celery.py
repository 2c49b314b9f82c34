"""The Celery application; its settings come from Django's (the CELERY_ namespace)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "capacity_sms.settings")

app = Celery("capacity_sms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
