"""Reading an uploaded contacts CSV: checking the file, guessing its columns, reading rows.

A file is checked as a whole when it is uploaded (size, encoding, a header and at least one
row), so a file that cannot be read is refused before anything is stored. Rows are then read
one by one: a bad row is reported with its row number (the header is row 1, as in a
spreadsheet) and the reason, in words for the person who made the file.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from core.csv_download import FORMULA_PREFIXES
from core.phones import normalize_phone
from core.text import normalize
from crm.models import ConsentStatus, Contact, Line

MEGABYTE = 1024 * 1024
MAX_COLUMNS = 100
# Consent records older than text messaging itself are typing errors.
EARLIEST_CONSENT_DATE = date(1990, 1, 1)
EMAIL_MAX_LENGTH = Contact._meta.get_field("email").max_length
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
    warnings: list[str] = field(default_factory=list)  # what was left out of an imported row


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
        all_records = list(records(text, delimiter))
    except csv.Error as error:
        raise ValidationError(
            "The file cannot be read as CSV: %(why)s.", code="malformed", params={"why": error}
        ) from error
    if not all_records:
        raise ValidationError("The file is empty.", code="empty")
    _, headers = all_records[0]
    if len(headers) > MAX_COLUMNS:
        raise ValidationError(
            "The file has %(count)d columns; at most %(limit)d can be imported.",
            code="too_wide",
            params={"count": len(headers), "limit": MAX_COLUMNS},
        )
    if len(all_records) < 2:
        raise ValidationError("The file has a header row but no contacts.", code="no_rows")
    return UploadedFile(
        file_name=file_name,
        data=data,
        delimiter=delimiter,
        headers=[header.strip() for header in headers],
        total_rows=len(all_records) - 1,
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


def records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every non-blank record; the header is row 1."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if any(cell.strip() for cell in cells):
                yield number, cells
    except csv.Error as error:
        raise csv.Error(f"{error} (row {number + 1}, line {reader.line_num})") from error


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
        row.email, warning = self._email(values.get(Column.EMAIL, ""))
        if warning:
            row.warnings.append(warning)
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
    def _email(email: str) -> tuple[str, str]:
        """The address, or none and why: a bad e-mail address does not cost the row its
        number and consent, which matter more."""
        if not email:
            return "", ""
        if len(email) > EMAIL_MAX_LENGTH:
            return "", f"E-mail: longer than {EMAIL_MAX_LENGTH} characters; imported without it."
        try:
            validate_email(email)
        except ValidationError:
            return "", f"E-mail: “{email}” is not a valid e-mail address; imported without it."
        return email, ""

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
