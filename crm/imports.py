"""Contact imports: reading an uploaded CSV, mapping its columns, importing it in chunks.

A file is checked as a whole when it is uploaded (size, encoding, a header and at least one
row), so a file that cannot be read is refused before anything is stored. Rows are then read
one by one: a bad row is reported with its row number (the header is row 1, as in a
spreadsheet) and the good rows still import. Each chunk of rows commits with the progress
counters, so a worker that dies resumes where the last chunk ended, and importing the same
file again finds everything already stored and changes nothing.
"""

import csv
import hashlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from capacity_sms.csv_download import FORMULA_PREFIXES
from capacity_sms.queueing import enqueue_on_commit
from crm import tasks
from crm.consent import ImportedStatus, record_imported_consents
from crm.models import ConsentStatus, Contact, ContactImport, ImportStatus, Line
from crm.phones import normalize_phone
from keywords.matching import normalize

logger = logging.getLogger(__name__)

MEGABYTE = 1024 * 1024
CHUNK_ROWS = 2000
MAX_COLUMNS = 100
# Consent records older than text messaging itself are typing errors.
EARLIEST_CONSENT_DATE = date(1990, 1, 1)
EMAIL_MAX_LENGTH = Contact._meta.get_field("email").max_length
BAD_ROWS_KEPT = 10_000
SAMPLE_ROWS = 3
DELIMITERS = ",;\t|"
NAME_MAX_LENGTH = Contact._meta.get_field("name").max_length


class Column:
    """What a column of the file holds (the mapping's values)."""

    PHONE = "phone"
    NAME = "name"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    EMAIL = "email"
    LINE = "line"
    STATUS = "status"
    CONSENT_DATE = "consent_date"
    CONSENT_ON = "consent:"  # followed by a line id: that line's status, one column per line

    CHOICES = (
        (PHONE, "Phone number"),
        (NAME, "Name"),
        (FIRST_NAME, "First name"),
        (LAST_NAME, "Last name"),
        (EMAIL, "E-mail"),
        (LINE, "Line (its name or number) of the row's consent status"),
        (STATUS, "Consent status on the row's line"),
        (CONSENT_DATE, "Date the consent was given or revoked"),
    )


def consent_column(line: Line) -> str:
    return f"{Column.CONSENT_ON}{line.pk}"


# Words accepted in a consent cell, compared in keyword normal form (case, spaces, hyphens and
# underscores do not matter). An empty cell changes nothing.
STATUS_WORDS = {
    **dict.fromkeys(
        ["opted in", "opt in", "optin", "optedin", "in", "subscribed", "yes", "y", "true", "1"],
        ConsentStatus.OPTED_IN,
    ),
    **dict.fromkeys(
        [
            *("opted out", "opt out", "optout", "optedout", "out", "unsubscribed", "no", "n"),
            *("false", "0", "stop", "revoked"),
        ],
        ConsentStatus.OPTED_OUT,
    ),
    **dict.fromkeys(["", "not defined", "none", "unknown", "-"], None),
}

HEADER_GUESSES = {
    Column.PHONE: {"phone", "phone number", "mobile", "mobile number", "cell", "number", "tel"},
    Column.NAME: {"name", "full name", "contact", "contact name"},
    Column.FIRST_NAME: {"first name", "firstname", "given name"},
    Column.LAST_NAME: {"last name", "lastname", "surname", "family name"},
    Column.EMAIL: {"email", "e mail", "email address", "e mail address"},
    Column.LINE: {"line", "line number", "line name"},
    Column.STATUS: {"status", "consent", "consent status", "opt status", "opt in status"},
    Column.CONSENT_DATE: {"consent date", "date", "opt in date", "opt out date", "since"},
}


class RowError(Exception):
    """Why one row cannot be imported, in words for the person who made the file."""


@dataclass(frozen=True)
class UploadedFile:
    file_name: str
    data: bytes
    delimiter: str
    headers: list[str]
    total_rows: int


@dataclass
class ContactRow:
    number: int
    phone: str
    name: str = ""
    email: str = ""
    statuses: list[tuple[int, str]] = field(default_factory=list)  # (line id, status)
    occurred_at: datetime | None = None


def max_megabytes() -> float:
    return settings.CONTACT_IMPORT_MAX_BYTES / MEGABYTE


def check_size(size: int) -> None:
    """Refuse a file over the limit before reading it."""
    limit = settings.CONTACT_IMPORT_MAX_BYTES
    if size > limit:
        raise ValidationError(
            "The file is %(size).1f MB; the limit is %(limit).0f MB. Split it into smaller files.",
            code="too_large",
            params={"size": size / MEGABYTE, "limit": limit / MEGABYTE},
        )


def read_upload(file_name: str, data: bytes) -> UploadedFile:
    """Check an uploaded file as a whole; raise ValidationError saying what is wrong with it."""
    check_size(len(data))
    text = decode(data)
    if not text.strip():
        raise ValidationError("The file is empty.", code="empty")
    delimiter = _sniff_delimiter(text)
    try:
        records = list(_records(text, delimiter))
    except csv.Error as error:
        raise ValidationError(
            "The file cannot be read as CSV: %(why)s.", code="malformed", params={"why": error}
        ) from error
    if not records:
        raise ValidationError("The file is empty.", code="empty")
    _, headers = records[0]
    if len(headers) > MAX_COLUMNS:
        raise ValidationError(
            "The file has %(count)d columns; at most %(limit)d can be imported.",
            code="too_wide",
            params={"count": len(headers), "limit": MAX_COLUMNS},
        )
    if len(records) < 2:
        raise ValidationError("The file has a header row but no contacts.", code="no_rows")
    return UploadedFile(
        file_name=file_name,
        data=data,
        delimiter=delimiter,
        headers=[header.strip() for header in headers],
        total_rows=len(records) - 1,
    )


def create_import(*, account, user, uploaded: UploadedFile) -> ContactImport:
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


def decode(data: bytes) -> str:
    """The file as text: UTF-8, with or without the byte-order mark spreadsheets write."""
    if data.startswith(b"PK\x03\x04"):
        raise ValidationError(
            "This is a spreadsheet workbook, not a CSV file. Save it as “CSV UTF-8” and upload "
            "that.",
            code="not_csv",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        raise ValidationError(
            "The file is not UTF-8 text (line %(row)d has a byte UTF-8 does not allow). Save it "
            "as “CSV UTF-8” (Excel) or choose the UTF-8 encoding when exporting.",
            code="encoding",
            params={"row": row},
        ) from error
    if "\x00" in text:
        raise ValidationError("The file holds binary data: it is not a CSV file.", code="binary")
    return text


def _sniff_delimiter(text: str) -> str:
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first_line, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every non-blank record; the header is row 1."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if any(cell.strip() for cell in cells):
                yield number, cells
    except csv.Error as error:
        raise csv.Error(f"{error} (row {number + 1}, line {reader.line_num})") from error


def data_rows(contact_import: ContactImport) -> Iterator[tuple[int, list[str]]]:
    """The stored file's rows after the header, with their row numbers."""
    records = _records(decode(bytes(contact_import.data)), contact_import.delimiter)
    next(records, None)
    return records


def sample_rows(contact_import: ContactImport) -> list[list[str]]:
    rows = []
    for _, cells in data_rows(contact_import):
        rows.append(cells)
        if len(rows) == SAMPLE_ROWS:
            break
    return rows


def guess_mapping(headers: list[str], lines: list[Line]) -> dict[int, str]:
    """What each column probably holds, from its header; unknown headers are left unmapped."""
    by_header = {word: target for target, words in HEADER_GUESSES.items() for word in words}
    for line in lines:
        for word in (line.name, line.number, f"{line.name} ({line.number})"):
            by_header[normalize(word)] = consent_column(line)
            by_header[normalize(f"consent {word}")] = consent_column(line)
            by_header[normalize(f"consent: {word}")] = consent_column(line)
    guesses: dict[int, str] = {}
    for index, header in enumerate(headers):
        target = by_header.get(normalize(header))
        if target and target not in guesses.values():
            guesses[index] = target
    return guesses


class RowReader:
    """Turns one row's cells into a ContactRow, or says why it cannot be imported."""

    def __init__(self, mapping: dict[str, str], lines: list[Line], default_time: datetime):
        self.columns = {int(index): target for index, target in mapping.items() if target}
        self.lines_by_id = {line.pk: line for line in lines}
        self.lines_by_key = {}
        for line in lines:
            self.lines_by_key[normalize(line.name)] = line
            self.lines_by_key[line.number] = line
        self.default_time = default_time
        self.one_row_per_line = Column.LINE in self.columns.values()

    def read(self, number: int, cells: list[str]) -> ContactRow:
        values = {target: _cell(cells, index) for index, target in self.columns.items()}
        try:
            phone = normalize_phone(values.get(Column.PHONE, ""))
        except ValidationError as error:
            raise RowError(f"Phone number: {error.messages[0]}") from error
        row = ContactRow(number=number, phone=phone, name=self._name(values))
        row.email = self._email(values.get(Column.EMAIL, ""))
        row.occurred_at = self._date(values.get(Column.CONSENT_DATE, ""))
        row.statuses = self._statuses(values)
        return row

    def _name(self, values: dict[str, str]) -> str:
        name = values.get(Column.NAME) or " ".join(
            part for part in (values.get(Column.FIRST_NAME), values.get(Column.LAST_NAME)) if part
        )
        if len(name) > NAME_MAX_LENGTH:
            raise RowError(f"Name: longer than {NAME_MAX_LENGTH} characters.")
        if any(char in name for char in "\r\n"):
            raise RowError("Name: contains a line break.")
        return name

    @staticmethod
    def _email(email: str) -> str:
        if not email:
            return ""
        if len(email) > EMAIL_MAX_LENGTH:
            raise RowError(f"E-mail: longer than {EMAIL_MAX_LENGTH} characters.")
        try:
            validate_email(email)
        except ValidationError as error:
            raise RowError(f"E-mail: “{email}” is not a valid e-mail address.") from error
        return email

    def _date(self, text: str) -> datetime:
        if not text:
            return self.default_time
        try:
            moment = parse_datetime(text)
            if moment is None and (day := parse_date(text)) is not None:
                moment = datetime.combine(day, time.min)
            if moment is not None and timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        except (ValueError, OverflowError):
            moment = None
        if moment is None:
            raise RowError(
                f"Consent date: “{text}” is not a date (use YYYY-MM-DD or YYYY-MM-DD HH:MM)."
            )
        if not moment.date() >= EARLIEST_CONSENT_DATE or moment > timezone.now():
            raise RowError(
                f"Consent date: “{text}” is not between {EARLIEST_CONSENT_DATE:%Y} and now."
            )
        return moment

    def _statuses(self, values: dict[str, str]) -> list[tuple[int, str]]:
        statuses = []
        for target, text in values.items():
            if target.startswith(Column.CONSENT_ON):
                line = self.lines_by_id[int(target.removeprefix(Column.CONSENT_ON))]
                status = self._status(text, f"Consent on {line.name}")
                if status:
                    statuses.append((line.pk, status))
        if Column.STATUS in values:
            status = self._status(values[Column.STATUS], "Consent status")
            if status:
                statuses.append((self._line(values.get(Column.LINE, "")).pk, status))
        return statuses

    @staticmethod
    def _status(text: str, column: str) -> str | None:
        word = normalize(text)
        if word not in STATUS_WORDS:
            raise RowError(
                f"{column}: “{text}” is not a consent status (use opted_in or opted_out, or "
                "leave it empty)."
            )
        return STATUS_WORDS[word]

    def _line(self, text: str) -> Line:
        if not text:
            raise RowError("Line: empty, but the row has a consent status.")
        line = self.lines_by_key.get(normalize(text))
        if line is None:
            try:
                line = self.lines_by_key.get(normalize_phone(text))
            except ValidationError:
                line = None
        if line is None:
            raise RowError(f"Line: “{text}” is not one of this account's lines.")
        return line


def _cell(cells: list[str], index: int) -> str:
    """The cell's text, without the ' our own CSV downloads put before formula characters."""
    text = cells[index].strip() if index < len(cells) else ""
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_PREFIXES:
        return text[1:]
    return text


class ImportTakenOver(Exception):
    """Another run of the same import committed first; this one stops without writing."""


def run_import(import_id: int) -> None:
    """Import a queued file, resuming after the last committed chunk if it was interrupted."""
    contact_import = _start(import_id)
    if contact_import is None:
        return
    try:
        _import_rows(contact_import)
    except ImportTakenOver:
        return
    except OperationalError:
        raise  # the database is away: the task retries and resumes
    except Exception:
        logger.exception("Contact import %s stopped", import_id)
        mark_failed(
            import_id,
            f"Stopped by an internal error after {contact_import.processed_rows:,} rows; the "
            "rows before were imported. Resume the import to continue.",
        )
        return
    ContactImport.objects.filter(pk=import_id, status=ImportStatus.RUNNING).update(
        status=ImportStatus.DONE, finished_at=timezone.now()
    )


def mark_failed(import_id: int, error: str) -> None:
    ContactImport.objects.filter(pk=import_id).update(
        status=ImportStatus.FAILED, error=error, finished_at=timezone.now()
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
    room = BAD_ROWS_KEPT - len(contact_import.bad_rows)
    bad_rows = contact_import.bad_rows + [list(item) for item in bad[:room]]
    with transaction.atomic():
        claimed = ContactImport.objects.filter(
            pk=contact_import.pk,
            status=ImportStatus.RUNNING,
            processed_rows=contact_import.processed_rows,
        ).update(processed_rows=processed, progress_at=timezone.now(), bad_rows=bad_rows)
        if not claimed:
            raise ImportTakenOver
        created, updated = _store_rows(contact_import, rows)
        ContactImport.objects.filter(pk=contact_import.pk).update(
            created_count=F("created_count") + created,
            updated_count=F("updated_count") + updated,
            skipped_count=F("skipped_count") + len(rows) - created - updated,
            bad_count=F("bad_count") + len(bad),
        )
    contact_import.processed_rows = processed
    contact_import.bad_rows = bad_rows


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


def queue_import(contact_import: ContactImport, mapping: dict[str, str] | None = None) -> None:
    """Save the mapping and queue the import (again, to resume one that stopped)."""
    if mapping is not None:
        contact_import.mapping = mapping
    contact_import.status = ImportStatus.QUEUED
    contact_import.queued_at = timezone.now()
    contact_import.error = ""
    contact_import.save(update_fields=["mapping", "status", "queued_at", "error"])
    enqueue_on_commit(tasks.import_contacts, contact_import.pk)
