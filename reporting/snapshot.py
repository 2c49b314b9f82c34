"""The Opt In & Out Snapshot: who is opted in or out on chosen lines, now or as of a moment.

The current snapshot reads the consent rows. As of a moment, each (contact, line) status is
computed from the event log in one query, by the rule the engine keeps the consent rows with:
events ordered by `occurred_at` (then recording order), refused ones aside; the status is the
latest event's, and "since" and the source are those of the first event of its run.

The rows are SQL of our own rather than a QuerySet: the as-of statuses are a derived table
(DISTINCT ON on PostgreSQL, ROW_NUMBER elsewhere) that the ORM can only reach through an
`id IN (...)` which PostgreSQL misestimates into a million index probes (19 s at 1M rows
instead of 3 s). `SnapshotRows` offers what django-tables2 needs from a QuerySet: ordering,
slicing and counting, plus totals and a streamed read for the CSV.
"""

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import psycopg
from django.db import connection, transaction
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from core.bulk_sql import parameter_marks
from core.csv_download import spreadsheet_safe_sql
from crm.as_of import statuses_as_of_sql
from crm.consent_days import Step, Tally, day_of, start_of_day
from crm.models import (
    ConsentDay,
    ConsentEvent,
    ConsentOutcome,
    ConsentSource,
    ConsentStatus,
    Line,
)
from reporting.snapshot_pages import BOTH, DEFAULT_ORDER, FIELDS, moment_of, page_rows

TREND_WEEKS = 12
# What each sortable field is in SQL; contact and line ids break ties, so pages never overlap.
ORDERABLE = {
    "contact_name": "ct.name",
    "phone": "ct.phone",
    "line_name": "l.name",
    "status": "s.status",
    "status_since": "s.occurred_at",
    "status_source": "s.source",
}
# Below one in this many of the lines' statuses, a page of one status is read by the full
# query rather than by walking the contacts (reporting.snapshot_pages).
RARE_STATUS_SHARE = 20
# PostgreSQL memory for one report query's sorts and hashes.
QUERY_WORK_MEM = "128MB"
LIBPQ_CHUNKED_ROWS = 170000


def _current_statuses(line_ids: list[int]) -> tuple[str, list]:
    return (
        "SELECT c.contact_id, c.line_id, c.status, c.since AS occurred_at, e.source"
        " FROM crm_consent c JOIN crm_consentevent e ON e.id = c.cause_id"
        f" WHERE c.line_id IN ({parameter_marks(line_ids)})",
        line_ids,
    )


@contextmanager
def _roomy_cursor():
    """A cursor in a transaction with room to sort and hash a million rows in memory (the
    default 4 MB makes PostgreSQL spill to disk); other databases take it as it is."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{QUERY_WORK_MEM}'")
        try:
            yield cursor
        finally:
            cursor.execute("SET LOCAL work_mem TO DEFAULT")


class SnapshotRows:
    """The report's rows: dicts of FIELDS, in a chosen order, read a slice at a time."""

    model = None

    def __init__(
        self,
        lines: Sequence[Line],
        status: str = BOTH,
        as_of: datetime | None = None,
        ordering: Sequence[str] = DEFAULT_ORDER,
    ):
        self.lines = list(lines)
        self.status = status
        self.as_of = as_of
        self.ordering = tuple(ordering)
        self.query = SimpleNamespace(order_by=self.ordering)

    def order_by(self, *fields: str) -> "SnapshotRows":
        """The same rows in another order; unknown fields are ignored."""
        known = tuple(field for field in fields if field.lstrip("-") in ORDERABLE)
        return SnapshotRows(self.lines, self.status, self.as_of, known or DEFAULT_ORDER)

    def count(self) -> int:
        sql, params = self._statuses()
        with _roomy_cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM ({sql}) s{self._where()}", [*params, *self._status_param()]
            )
            return cursor.fetchone()[0]

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[dict]:
        if not isinstance(key, slice) or key.step is not None:
            raise TypeError("Snapshot rows are read a slice at a time.")
        start = key.start or 0
        if key.stop is not None and (page := self._page(int(start), int(key.stop))) is not None:
            return page
        return self.sorted_slice(int(start), key.stop)

    def sorted_slice(self, start: int, stop: int | None) -> list[dict]:
        """Rows `start` to `stop` by the full query: every pair's status, sorted. Any order
        can be read so, and it is what the page walk is tested against."""
        everything = "ALL" if connection.vendor == "postgresql" else "-1"
        limit = f" LIMIT {everything}" if stop is None else f" LIMIT {int(stop) - int(start)}"
        sql, params = self._select(_columns(), start_limit=f"{limit} OFFSET {int(start)}")
        with _roomy_cursor() as cursor:
            cursor.execute(sql, params)
            rows = [dict(zip(FIELDS, row, strict=True)) for row in cursor.fetchall()]
        for row in rows:
            row["status_since"] = moment_of(row["status_since"])
        return rows

    def _page(self, start: int, stop: int) -> list[dict] | None:
        """One page through the indexes (reporting.snapshot_pages) when that is the cheaper
        way, judged by the rollups' totals: none when the rows end before `start`; the full
        query when the status asked for is rare among these lines' statuses, since the walk
        would pass over the contacts of the other one to find a page of it."""
        counts = statuses_counted([line.pk for line in self.lines], self.as_of)
        wanted = ConsentStatus.values if self.status == BOTH else [self.status]
        matching = sum(count[status] for count in counts.values() for status in wanted)
        with_status = sum(sum(count.values()) for count in counts.values())
        if matching <= start:
            return []
        if matching * RARE_STATUS_SHARE < with_status:
            return None
        return page_rows(self.lines, self.status, self.as_of, start, stop, ordering=self.ordering)

    def __iter__(self) -> Iterator[dict]:
        return iter(self[0:])

    def csv_sql(self) -> tuple[str, list]:
        """The CSV's rows as one SELECT: labelled and spreadsheet-safe in the database."""
        statuses = dict(ConsentStatus.choices)
        sources = dict(ConsentSource.choices)
        columns = (
            f"{spreadsheet_safe_sql('ct.name')}, ct.phone, {spreadsheet_safe_sql('l.name')},"
            f" {_label_sql('s.status', statuses)}, {_utc_iso_sql('s.occurred_at')},"
            f" {_label_sql('s.source', sources)}"
        )
        sql, params = self._select(columns)
        return sql, [*_label_params(statuses), *_label_params(sources), *params]

    def csv_rows(self, chunk_size: int = 5000) -> Iterator[tuple]:
        """The CSV's rows, streamed from the database: memory stays flat whatever the size.

        On PostgreSQL the query runs as one statement read in chunks (libpq's chunked rows
        mode): unlike a server-side cursor, it may use parallel workers, and with enough
        memory its sort of a million rows stays off the disk. Elsewhere, Django's chunked
        cursor.
        """
        sql, params = self.csv_sql()
        if connection.vendor != "postgresql":
            with connection.chunked_cursor() as cursor:
                cursor.execute(sql, params)
                while rows := cursor.fetchmany(chunk_size):
                    yield from rows
            return
        connection.ensure_connection()
        # Chunks need libpq 17 (the binary wheels bundle it); older ones stream row by row.
        size = chunk_size if psycopg.pq.version() >= LIBPQ_CHUNKED_ROWS else 1
        with transaction.atomic(), connection.connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{QUERY_WORK_MEM}'")
            try:
                yield from cursor.stream(sql, params, size=size)
            finally:
                cursor.execute("SET LOCAL work_mem TO DEFAULT")

    def totals(self) -> dict[int, tuple[int, int]]:
        """Per line id: (opted in, opted out), from the daily rollups; see `statuses_counted`."""
        counts = statuses_counted([line.pk for line in self.lines], self.as_of)
        return {
            line_id: (count[ConsentStatus.OPTED_IN], count[ConsentStatus.OPTED_OUT])
            for line_id, count in counts.items()
        }

    def _statuses(self) -> tuple[str, list]:
        line_ids = [line.pk for line in self.lines]
        if self.as_of:
            return statuses_as_of_sql(self.as_of, line_ids=line_ids)
        return _current_statuses(line_ids)

    def _where(self) -> str:
        return "" if self.status == BOTH else " WHERE s.status = %s"

    def _status_param(self) -> list:
        return [] if self.status == BOTH else [self.status]

    def _select(self, columns: str, start_limit: str = "") -> tuple[str, list]:
        sql, params = self._statuses()
        order = ", ".join(
            f"{ORDERABLE[field.lstrip('-')]}{' DESC' if field.startswith('-') else ''}"
            for field in self.ordering
        )
        return (
            f"SELECT {columns} FROM ({sql}) s"
            " JOIN crm_contact ct ON ct.id = s.contact_id JOIN crm_line l ON l.id = s.line_id"
            f"{self._where()} ORDER BY {order}, s.contact_id, s.line_id{start_limit}",
            [*params, *self._status_param()],
        )


def _utc_iso_sql(column: str) -> str:
    """The time as ISO 8601 in UTC to the second (2026-01-02T03:04:05Z), on either database."""
    if connection.vendor == "postgresql":
        return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
    return f"strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', {column})"


def _columns() -> str:
    return "s.contact_id, s.line_id, ct.name, ct.phone, l.name, s.status, s.occurred_at, s.source"


def _label_sql(column: str, labels: dict) -> str:
    return "CASE " + " ".join([f"WHEN {column} = %s THEN %s"] * len(labels)) + f" ELSE {column} END"


def _label_params(labels: dict) -> list[str]:
    return [item for pair in labels.items() for item in pair]


@dataclass(frozen=True)
class LineTotals:
    line: Line
    opted_in: int
    opted_out: int

    @property
    def with_status(self) -> int:
        return self.opted_in + self.opted_out

    @property
    def opt_out_rate(self) -> float | None:
        """Opted out among the contacts with a status on the line; None when there are none."""
        return self.opted_out / self.with_status if self.with_status else None


def line_totals(rows: SnapshotRows) -> list[LineTotals]:
    """Per chosen line, whatever the status filter: contacts opted in and opted out."""
    counts = SnapshotRows(rows.lines, BOTH, rows.as_of).totals()
    return [
        LineTotals(
            line=line,
            opted_in=counts.get(line.pk, (0, 0))[0],
            opted_out=counts.get(line.pk, (0, 0))[1],
        )
        for line in rows.lines
    ]


@dataclass(frozen=True)
class WeekCounts:
    week: date
    opted_in: int
    opted_out: int


def weekly_trend(lines: Sequence[Line], until: datetime | None = None) -> list[WeekCounts]:
    """Opt-ins and opt-outs that changed a status, per week, over the last 12 weeks: whole
    days from the rollups, the day of `until` from its events up to then."""
    until = until or timezone.now()
    last_day = day_of(until)
    first_week = last_day - timedelta(days=last_day.weekday(), weeks=TREND_WEEKS - 1)
    counts = Counter()
    days = (
        ConsentDay.objects.filter(line__in=lines, day__gte=first_week, day__lt=last_day)
        .values_list("day", "status")
        .annotate(total=Sum("changes"))
        .order_by()
    )
    for day, status, total in days:
        counts[(_week_of(day), status)] += total
    today = (
        ConsentEvent.objects.filter(
            line__in=lines,
            outcome=ConsentOutcome.CHANGED,
            occurred_at__gte=start_of_day(last_day),
            occurred_at__lte=until,
        )
        .values_list("status")
        .annotate(total=Count("pk"))
        .order_by()
    )
    for status, total in today:
        counts[(_week_of(last_day), status)] += total
    weeks = [first_week + timedelta(weeks=n) for n in range(TREND_WEEKS)]
    return [
        WeekCounts(
            week=week,
            opted_in=counts[(week, ConsentStatus.OPTED_IN)],
            opted_out=counts[(week, ConsentStatus.OPTED_OUT)],
        )
        for week in weeks
    ]


def _week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def statuses_counted(line_ids: list[int], as_of: datetime | None = None) -> dict[int, Counter]:
    """Per line id, how many contacts are in each status, now or at `as_of`.

    Now: the sum of every day's rollup. At a moment: the days before its day, plus the
    transitions of that day's events up to the moment, each against the pair's event before
    it. The cost follows the number of days and one day's events, not the log's size.
    """
    days = ConsentDay.objects.filter(line_id__in=line_ids)
    if as_of is not None:
        days = days.filter(day__lt=day_of(as_of))
    counts: dict[int, Counter] = defaultdict(Counter)
    for line_id, status, net in (
        days.values_list("line_id", "status").annotate(net=Sum("net")).order_by()
    ):
        counts[line_id][status] += net
    if as_of is None:
        return counts
    previous = (
        ConsentEvent.objects.filter(contact_id=OuterRef("contact_id"), line_id=OuterRef("line_id"))
        .exclude(outcome=ConsentOutcome.REFUSED)
        .filter(
            Q(occurred_at__lt=OuterRef("occurred_at"))
            | Q(occurred_at=OuterRef("occurred_at"), pk__lt=OuterRef("pk"))
        )
        .order_by("-occurred_at", "-pk")
        .values("status")[:1]
    )
    that_day = (
        ConsentEvent.objects.filter(
            line_id__in=line_ids,
            occurred_at__gte=start_of_day(day_of(as_of)),
            occurred_at__lte=as_of,
        )
        .exclude(outcome=ConsentOutcome.REFUSED)
        .annotate(previous=Subquery(previous))
        .values_list("contact_id", "line_id", "occurred_at", "pk", "status", "outcome", "previous")
    )
    moves = Tally()
    for *event, before in that_day:
        moves.move(Step(*event), before or "")
    for (line_id, _, status), net in moves.net.items():
        counts[line_id][status] += net
    return counts
