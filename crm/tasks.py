"""Celery tasks for contacts: thin, ids only, safe to run twice."""

from datetime import timedelta

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from crm import imports
from crm.models import ContactImport, ImportStatus

IMPORT_STALLED_AFTER = timedelta(minutes=2)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def import_contacts(import_id: int) -> None:
    imports.run_import(import_id)


@shared_task
def sweep_stalled_imports() -> int:
    """Queue again imports whose task never started (the broker was down when queued)."""
    stalled = list(
        ContactImport.objects.filter(
            status=ImportStatus.QUEUED, queued_at__lt=timezone.now() - IMPORT_STALLED_AFTER
        ).values_list("pk", flat=True)
    )
    for import_id in stalled:
        import_contacts.delay(import_id)
    return len(stalled)
