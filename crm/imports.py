"""Running a contact import: stored, mapped, then imported in chunks by a Celery task.

Each chunk of rows commits with the progress counters, so a worker that dies resumes where the
last chunk ended, and importing the same file again finds everything already stored and changes
nothing.
"""

import hashlib
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.queueing import enqueue_on_commit
from crm.consent import ImportedStatus, record_imported_consents
from crm.import_files import (
    ContactRow,
    RowError,
    RowReader,
    UploadedFile,
    decode,
    records,
)
from crm.models import Contact, ContactImport, ImportStatus, Line

logger = logging.getLogger(__name__)

IMPORT_QUEUED_STALL = timedelta(minutes=2)
# A running import commits a chunk every few seconds; one silent this long lost its worker.
IMPORT_RUNNING_STALL = timedelta(minutes=10)
# The task that runs `contact_import_run` (crm.tasks registers it under this name).
IMPORT_TASK = "crm.tasks.import_contacts"
CHUNK_ROWS = 2000
BAD_ROWS_KEPT = 10_000
SAMPLE_ROWS = 3


@transaction.atomic
def contact_import_create(*, account, user, uploaded: UploadedFile) -> ContactImport:
    """Store an uploaded file, waiting for its column mapping.

    Undated statuses in the file are dated by the first upload of the same content, so
    uploading the file again asserts nothing new.
    """
    digest = hashlib.sha256(uploaded.data).hexdigest()
    first_upload = (
        ContactImport.objects.filter(account=account, content_sha256=digest)
        .order_by("created_at")
        .values_list("undated_at", flat=True)
        .first()
    )
    return ContactImport.objects.create(
        account=account,
        uploaded_by=user,
        file_name=uploaded.file_name,
        data=uploaded.data,
        content_sha256=digest,
        undated_at=first_upload or timezone.now(),
        delimiter=uploaded.delimiter,
        headers=uploaded.headers,
        total_rows=uploaded.total_rows,
    )


def data_rows(contact_import: ContactImport) -> Iterator[tuple[int, list[str]]]:
    """The stored file's rows after the header, with their row numbers."""
    rows = records(decode(bytes(contact_import.data)), contact_import.delimiter)
    next(rows, None)
    return rows


def sample_rows(contact_import: ContactImport) -> list[list[str]]:
    rows = []
    for _, cells in data_rows(contact_import):
        rows.append(cells)
        if len(rows) == SAMPLE_ROWS:
            break
    return rows


class ImportTakenOver(Exception):
    """Another run of the same import committed first; this one stops without writing."""


def contact_import_run(import_id: int) -> None:
    """Import a queued file, resuming after the last committed chunk if it was interrupted.

    Errors propagate: the task retries what a retry can mend (the database away) and marks
    the import failed otherwise (`contact_import_fail`).
    """
    contact_import = _start(import_id)
    if contact_import is None:
        return
    try:
        _import_rows(contact_import)
    except ImportTakenOver:
        return
    ContactImport.objects.filter(pk=import_id, status=ImportStatus.RUNNING).update(
        status=ImportStatus.DONE, finished_at=timezone.now()
    )


def contact_import_fail(*, import_id: int, error: BaseException) -> None:
    """An import the task gave up on: failed, saying how far it got, ready to be resumed."""
    if isinstance(error, OperationalError):
        reason = "The database was unavailable; resume the import to continue."
    else:
        processed = (
            ContactImport.objects.filter(pk=import_id)
            .values_list("processed_rows", flat=True)
            .first()
        )
        reason = (
            f"Stopped by an internal error after {processed or 0:,} rows; the rows before were "
            "imported. Resume the import to continue."
        )
    ContactImport.objects.filter(pk=import_id).update(
        status=ImportStatus.FAILED, error=reason, finished_at=timezone.now()
    )


def _start(import_id: int) -> ContactImport | None:
    with transaction.atomic():
        contact_import = ContactImport.objects.select_for_update().filter(pk=import_id).first()
        if contact_import is None or contact_import.status not in (
            ImportStatus.QUEUED,
            ImportStatus.RUNNING,
        ):
            return None
        contact_import.status = ImportStatus.RUNNING
        contact_import.started_at = contact_import.started_at or timezone.now()
        contact_import.progress_at = timezone.now()
        contact_import.save(update_fields=["status", "started_at", "progress_at"])
    return contact_import


def _import_rows(contact_import: ContactImport) -> None:
    lines = list(Line.objects.filter(account_id=contact_import.account_id))
    reader = RowReader(contact_import.mapping, lines, default_time=contact_import.undated_at)
    first_row_of: dict[tuple[str, int | None], int] = {}
    chunk: list[ContactRow] = []
    bad: list[tuple[int, str]] = []
    done = position = contact_import.processed_rows
    for position, (number, cells) in enumerate(data_rows(contact_import), start=1):
        try:
            row = reader.read(number, cells)
            _check_duplicate(row, first_row_of, reader.one_row_per_line)
        except RowError as error:
            if position > done:
                bad.append((number, str(error)))
        else:
            if position > done:
                chunk.append(row)
        if position - done >= CHUNK_ROWS:
            _commit_chunk(contact_import, chunk, bad, processed=position)
            done, chunk, bad = position, [], []
    _commit_chunk(contact_import, chunk, bad, processed=max(position, done))


def _check_duplicate(row: ContactRow, first_row_of: dict, one_row_per_line: bool) -> None:
    """A number may appear once; in a file with one row per line, once per line."""
    line_id = row.statuses[0][0] if one_row_per_line and row.statuses else None
    key = (row.phone, line_id)
    if key in first_row_of:
        raise RowError(f"Duplicate: the number {row.phone} is already on row {first_row_of[key]}.")
    first_row_of[key] = row.number


def _commit_chunk(
    contact_import: ContactImport,
    rows: list[ContactRow],
    bad: list[tuple[int, str]],
    processed: int,
) -> None:
    """Store a chunk and its progress in one transaction.

    The progress update comes first and only matches while the import is where this run left
    it: it locks the import's row, so a second run of the same import (a task delivered
    twice) waits, then finds the progress moved and stops instead of counting twice.
    """
    bad_rows = _kept(contact_import.bad_rows, bad)
    warned = [(row.number, warning) for row in rows for warning in row.warnings]
    warnings = _kept(contact_import.warnings, warned)
    with transaction.atomic():
        claimed = ContactImport.objects.filter(
            pk=contact_import.pk,
            status=ImportStatus.RUNNING,
            processed_rows=contact_import.processed_rows,
        ).update(
            processed_rows=processed,
            progress_at=timezone.now(),
            bad_rows=bad_rows,
            warnings=warnings,
        )
        if not claimed:
            raise ImportTakenOver
        created, updated = _store_rows(contact_import, rows)
        ContactImport.objects.filter(pk=contact_import.pk).update(
            created_count=F("created_count") + created,
            updated_count=F("updated_count") + updated,
            skipped_count=F("skipped_count") + len(rows) - created - updated,
            bad_count=F("bad_count") + len(bad),
            warning_count=F("warning_count") + len(warned),
        )
    contact_import.processed_rows = processed
    contact_import.bad_rows = bad_rows
    contact_import.warnings = warnings


def _kept(stored: list, new: list[tuple[int, str]]) -> list:
    """The stored [row, reason] pairs with the new ones, up to BAD_ROWS_KEPT in all."""
    return stored + [list(item) for item in new[: BAD_ROWS_KEPT - len(stored)]]


def rows_to_fix(contact_import: ContactImport) -> Iterator[list[str]]:
    """The file's rows that were not imported or were imported without a value, as they
    were uploaded, each followed by what to fix.

    Fixed and uploaded again, the file imports like the original: the header is the original
    header with a "Problem" column, which the mapping leaves unmapped. Each row is cut or padded
    to the header's width: cells past the last header have no column to be mapped to, so the
    import never read them, and the Problem stays under its own header.
    """
    problems: dict[int, list[str]] = {}
    for number, reason in contact_import.bad_rows:
        problems.setdefault(number, []).append(f"Not imported: {reason}")
    for number, warning in contact_import.warnings:
        problems.setdefault(number, []).append(warning)
    width = len(contact_import.headers)
    for number, cells in data_rows(contact_import):
        if number in problems:
            yield [*cells[:width], *[""] * (width - len(cells)), " ".join(problems[number])]


def _store_rows(contact_import: ContactImport, rows: list[ContactRow]) -> tuple[int, int]:
    """Create and update the rows' contacts and record their statuses, set by set.

    Returns how many rows created a contact and how many changed something else.
    """
    if not rows:
        return 0, 0
    account_id = contact_import.account_id
    rows_by_phone: dict[str, list[ContactRow]] = {}
    for row in rows:
        rows_by_phone.setdefault(row.phone, []).append(row)
    # Locked in id order before anything is written, like every consent change, so two
    # imports (or an import and the inbound worker) touching the same contacts never deadlock.
    contacts = {
        contact.phone: contact
        for contact in Contact.objects.filter(account_id=account_id, phone__in=rows_by_phone)
        .order_by("pk")
        .select_for_update(no_key=True)
    }
    new = [
        Contact(account_id=account_id, phone=phone, **_merged_details(phone_rows))
        for phone, phone_rows in rows_by_phone.items()
        if phone not in contacts
    ]
    Contact.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    creating_rows = {rows_by_phone[contact.phone][0].number for contact in new}
    changed_rows = _update_details(contacts, rows_by_phone)
    contacts.update(
        (contact.phone, contact)
        for contact in Contact.objects.filter(
            account_id=account_id, phone__in=[contact.phone for contact in new]
        ).only("id", "phone")
    )
    ContactImport.contacts.through.objects.bulk_create(
        [
            ContactImport.contacts.through(
                contactimport_id=contact_import.pk, contact_id=contact.pk
            )
            for contact in contacts.values()
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    row_of_pair = {}
    statuses = []
    for row in rows:
        for line_id, status in row.statuses:
            row_of_pair[contacts[row.phone].pk, line_id] = row.number
            statuses.append(
                ImportedStatus(
                    contact_id=contacts[row.phone].pk,
                    line_id=line_id,
                    status=status,
                    occurred_at=row.occurred_at,
                    note=f"Imported from {contact_import.file_name}, row {row.number}.",
                )
            )
    events = record_imported_consents(statuses, contact_import=contact_import)
    changed_rows |= {row_of_pair[event.contact_id, event.line_id] for event in events}
    changed_rows -= creating_rows
    return len(creating_rows), len(changed_rows)


def _merged_details(rows: list[ContactRow]) -> dict[str, str]:
    """A contact's name and e-mail from its rows: the first non-empty value of each."""
    return {
        "name": next((row.name for row in rows if row.name), ""),
        "email": next((row.email for row in rows if row.email), ""),
    }


def _update_details(contacts: dict[str, Contact], rows_by_phone) -> set[int]:
    """Fill in or correct stored names and e-mails; an empty cell never erases one."""
    changed, changed_rows = [], set()
    now = timezone.now()
    for phone, contact in contacts.items():
        details = _merged_details(rows_by_phone[phone])
        updates = {
            key: value for key, value in details.items() if value and value != getattr(contact, key)
        }
        if updates:
            for key, value in updates.items():
                setattr(contact, key, value)
            contact.updated_at = now
            changed.append(contact)
            changed_rows.add(rows_by_phone[phone][0].number)
    Contact.objects.bulk_update(changed, ["name", "email", "updated_at"], batch_size=500)
    return changed_rows


@transaction.atomic
def contact_import_queue(
    *, contact_import: ContactImport, mapping: dict[str, str] | None = None
) -> None:
    """Save the mapping and queue the import (again, to resume one that stopped)."""
    if mapping is not None:
        contact_import.mapping = mapping
    contact_import.status = ImportStatus.QUEUED
    contact_import.queued_at = timezone.now()
    contact_import.error = ""
    contact_import.save(update_fields=["mapping", "status", "queued_at", "error"])
    enqueue_on_commit(IMPORT_TASK, contact_import.pk)


@transaction.atomic
def stalled_imports_take(*, now: datetime) -> list[int]:
    """Imports whose task never started, or whose worker went away mid-file, stamped as
    queued again now (so the next sweep leaves them a while)."""
    stalled = list(
        ContactImport.objects.filter(
            Q(status=ImportStatus.QUEUED, queued_at__lt=now - IMPORT_QUEUED_STALL)
            | Q(status=ImportStatus.RUNNING, progress_at__lt=now - IMPORT_RUNNING_STALL)
        ).values_list("pk", flat=True)
    )
    ContactImport.objects.filter(pk__in=stalled).update(queued_at=now, progress_at=now)
    return stalled
