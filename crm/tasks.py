"""Celery tasks for contacts: thin, ids only, safe to run twice."""

from datetime import timedelta

from celery import Task, shared_task
from django.db import OperationalError
from django.db.models import Q
from django.utils import timezone

from crm import imports
from crm.models import ContactImport, ImportStatus

IMPORT_QUEUED_STALL = timedelta(minutes=2)
# A running import commits a chunk every few seconds; one silent this long lost its worker.
IMPORT_RUNNING_STALL = timedelta(minutes=10)
IMPORT_MAX_RETRIES = 8


class ContactImportTask(Task):
    """An import whose task gives up (retries spent, or an error no retry mends) ends failed,
    with a Resume button, never left running."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        imports.contact_import_fail(import_id=args[0], error=exc)


@shared_task(
    name=imports.IMPORT_TASK,
    base=ContactImportTask,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=IMPORT_MAX_RETRIES,
)
def import_contacts(import_id: int) -> None:
    imports.contact_import_run(import_id)


@shared_task
def sweep_stalled_imports() -> int:
    """Queue again imports whose task never started or whose worker went away.

    Running the same import twice is safe: each chunk's progress is claimed before it is
    written, so a second run stops at its first chunk.
    """
    now = timezone.now()
    stalled = list(
        ContactImport.objects.filter(
            Q(status=ImportStatus.QUEUED, queued_at__lt=now - IMPORT_QUEUED_STALL)
            | Q(status=ImportStatus.RUNNING, progress_at__lt=now - IMPORT_RUNNING_STALL)
        ).values_list("pk", flat=True)
    )
    ContactImport.objects.filter(pk__in=stalled).update(queued_at=now, progress_at=now)
    for import_id in stalled:
        import_contacts.delay(import_id)
    return len(stalled)
