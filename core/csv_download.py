"""CSV downloads: streamed with constant memory and safe to open in a spreadsheet (SPEC 7)."""

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

from django.db import connection
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

from core.phones import E164_REGEX

# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
E164_NUMBER = re.compile(E164_REGEX)
# In SQL, "$" may match before a final newline (SQLite's REGEXP is re.search); \Z may not.
E164_TO_THE_END = E164_REGEX.removesuffix("$") + r"\Z"
# Rows are sent in blocks of about this many characters: one write per row would cost more in
# the server than writing the rows.
BLOCK_SIZE = 64 * 1024
# Rows already safe (escaped by the database) are written this many at a time.
BATCH_ROWS = 2000


def spreadsheet_safe(value) -> str:
    """The cell as text, prefixed with ' where a spreadsheet would run it as a formula.

    A valid E.164 number starts with + but is data, so it is left as it is.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES) and not E164_NUMBER.fullmatch(text):
        return "'" + text
    return text


def spreadsheet_safe_sql(column: str) -> str:
    """`spreadsheet_safe` as an SQL expression, for downloads too big to escape row by row."""
    prefixes = ", ".join(f"'{prefix}'" for prefix in FORMULA_PREFIXES)
    matches_e164 = "REGEXP" if connection.vendor == "sqlite" else "~"
    return (
        f"CASE WHEN SUBSTR({column}, 1, 1) IN ({prefixes})"
        f" AND NOT ({column} {matches_e164} '{E164_TO_THE_END}')"
        f" THEN '''' || {column} ELSE {column} END"
    )


# Written first: without it Excel reads a UTF-8 file as the machine's legacy code page, and
# "José" arrives as "JosÃ©". Our own import, and Python's "utf-8-sig", skip it.
BYTE_ORDER_MARK = "\ufeff"


def csv_lines(
    header: Sequence, rows: Iterable[Sequence], free_text: Sequence[int] | None = None
) -> Iterator[str]:
    """The CSV text in blocks: the byte-order mark and the header alone first, so the
    download starts at once.

    `free_text` lists the columns that may hold anything typed by people (default: all);
    only those are made spreadsheet-safe, which matters at a million rows. With none (the
    database escaped them, see `spreadsheet_safe_sql`), rows are written in batches.
    """
    columns = range(len(header)) if free_text is None else free_text
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BYTE_ORDER_MARK)
    writer.writerow([spreadsheet_safe(cell) for cell in header])
    yield _drain(buffer)
    if not columns:
        rows = iter(rows)
        while batch := list(islice(rows, BATCH_ROWS)):
            writer.writerows(batch)
            yield _drain(buffer)
        return
    for row in rows:
        if columns:
            row = list(row)
            for index in columns:
                row[index] = spreadsheet_safe(row[index])
        writer.writerow(row)
        if buffer.tell() >= BLOCK_SIZE:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def csv_download(
    filename: str,
    header: Sequence,
    rows: Iterable[Sequence],
    free_text: Sequence[int] | None = None,
):
    """A streamed CSV attachment in UTF-8; `rows` should come from a server-side cursor."""
    response = StreamingHttpResponse(
        csv_lines(header, rows, free_text=free_text), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response
