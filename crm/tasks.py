"""Celery tasks for contacts: thin, ids only, safe to run twice."""

from celery import Task, shared_task
from django.db import OperationalError
from django.utils import timezone

from crm import imports
from crm.models import Account
from crm.services import consent_anchors_record, consent_days_compact, consent_log_verify

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
    stalled = imports.stalled_imports_take(now=timezone.now())
    for import_id in stalled:
        import_contacts.delay(import_id)
    return len(stalled)


@shared_task
def anchor_consent_logs() -> int:
    """Seal each account's finished days of consent events (crm.ledger); idempotent, so it
    runs hourly and catches up on days missed while beat was down."""
    return sum(
        len(consent_anchors_record(account=account)) for account in Account.objects.order_by("pk")
    )


@shared_task
def verify_consent_logs() -> int:
    """Recompute every account's consent log (as `manage.py verify_consent_log` does), so
    the admin always shows a recent verification; how many accounts do not match."""
    return sum(
        not consent_log_verify(account=account).intact for account in Account.objects.order_by("pk")
    )


@shared_task
def compact_consent_days() -> int:
    """Merge the day rows the consent engine appended (crm.consent_days), so the snapshot's
    totals add up a row per day; safe beside changes being recorded."""
    return consent_days_compact()
