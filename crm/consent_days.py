"""Daily consent rollups (`ConsentDay`): what the snapshot adds up instead of every event.

A pair's status at a moment is that of its latest event by `occurred_at` (then id), refused
events aside (crm.as_of). So the number of contacts in a status at the end of a day is the sum,
over the days up to it, of the status's transitions: +1 on the day of an event whose status
differs from the pair's previous one, -1 for the status it left. `net` keeps that sum per
line and day; `changes` counts the events recorded as changing a status.

The engine knows most transitions without reading anything: an event at or after the pair's
latest that changes its status is one. An older event arriving late (superseded) is placed
into the history, which moves the transitions around it: that case reads the pair's history.
"""

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from core.bulk_sql import insert_rows
from crm.models import ConsentDay, ConsentDaysZone, ConsentEvent, ConsentOutcome

logger = logging.getLogger(__name__)

# (line id, day, status)
Key = tuple[int, date, str]


def day_of(moment: datetime) -> date:
    """The day a moment belongs to: its date in the server's time zone, as the chart's."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def start_of_day(day: date) -> datetime:
    """The first moment of a day in the server's time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


@dataclass(frozen=True)
class Step:
    """One event of a pair's history as the rollups see it."""

    contact_id: int
    line_id: int
    occurred_at: datetime
    id: int
    status: str
    outcome: str

    @classmethod
    def of(cls, event: ConsentEvent) -> "Step":
        return cls(
            event.contact_id,
            event.line_id,
            event.occurred_at,
            event.pk,
            event.status,
            event.outcome,
        )


class Tally:
    """Rollup changes gathered in a transaction, then appended together."""

    def __init__(self) -> None:
        self.net: Counter[Key] = Counter()
        self.changes: Counter[Key] = Counter()

    def move(self, step: Step, previous: str, sign: int = 1) -> None:
        """`step`'s pair moves from `previous` (empty: Not Defined) to `step.status`."""
        if previous == step.status:
            return
        day = day_of(step.occurred_at)
        self.net[(step.line_id, day, step.status)] += sign
        if previous:
            self.net[(step.line_id, day, previous)] -= sign

    def count_change(self, step: Step) -> None:
        if step.outcome == ConsentOutcome.CHANGED:
            self.changes[(step.line_id, day_of(step.occurred_at), step.status)] += 1

    def add_history(self, steps: Iterable[Step], sign: int = 1) -> None:
        """The transitions of whole histories: each pair's steps together, by time then id."""
        pair, previous = None, ""
        for step in steps:
            if step.outcome == ConsentOutcome.REFUSED:
                continue
            if (step.contact_id, step.line_id) != pair:
                pair, previous = (step.contact_id, step.line_id), ""
            self.move(step, previous, sign)
            previous = step.status

    def add_recorded(self, events: list[ConsentEvent], statuses_before: dict) -> None:
        """Events just written, each on a pair whose status before them was
        `statuses_before[(contact id, line id)]` (absent: Not Defined).

        Appended events move the status only when they change it. Late ones are placed into
        their pair's history: the transitions of the history with them, less those without.
        """
        late = []
        for event in events:
            step = Step.of(event)
            self.count_change(step)
            if event.outcome == ConsentOutcome.SUPERSEDED:
                late.append(step)
            elif event.outcome == ConsentOutcome.CHANGED:
                self.move(step, statuses_before.get((event.contact_id, event.line_id), ""))
        if late:
            new_ids = {step.id for step in late}
            histories = list(histories_of({(step.contact_id, step.line_id) for step in late}))
            self.add_history(histories)
            self.add_history((step for step in histories if step.id not in new_ids), sign=-1)

    def save(self) -> int:
        """Append the gathered changes as new rows (no existing row is locked); how many."""
        rows = []
        for line_id, day, status in sorted(self.net.keys() | self.changes.keys()):
            net, changes = self.net[(line_id, day, status)], self.changes[(line_id, day, status)]
            if net or changes:
                rows.append(
                    ConsentDay(line_id=line_id, day=day, status=status, net=net, changes=changes)
                )
        insert_rows(rows)
        return len(rows)


def histories_of(pairs: set[tuple[int, int]]) -> Iterator[Step]:
    """The events of these pairs, each pair's in order."""
    contact_ids = {contact_id for contact_id, _ in pairs}
    events = (
        ConsentEvent.objects.filter(contact_id__in=contact_ids)
        .order_by("contact_id", "line_id", "occurred_at", "pk")
        .values_list("contact_id", "line_id", "occurred_at", "pk", "status", "outcome")
    )
    return (Step(*row) for row in events if (row[0], row[1]) in pairs)


def cut_in_server_zone() -> bool:
    """Whether the rollups' days were cut in the server's time zone (see ConsentDaysZone)."""
    return ConsentDaysZone.objects.filter(pk=1, time_zone=settings.TIME_ZONE).exists()


def rebuild_unless_in_server_zone() -> int | None:
    """Rebuild the rollups when their days were cut in another zone than the server's, or
    never recorded one; the rows written, or None when they were right.

    The zone is read again under the rebuild's lock: two processes noticing the change (a
    migrate and the compaction task, or a rebuild outlasting the task's period) rebuild once.
    """
    if cut_in_server_zone():
        return None
    with transaction.atomic():
        _lock_against_new_rows()
        previous = ConsentDaysZone.objects.filter(pk=1).values_list("time_zone", flat=True).first()
        if previous == settings.TIME_ZONE:
            return None
        rows = rebuild()
    if previous:
        logger.warning(
            "Consent rollups rebuilt for time zone %s (they were cut in %s): %d rows.",
            settings.TIME_ZONE,
            previous,
            rows,
        )
    else:  # a new database, or one migrated from before the rollups
        logger.info("Consent rollups built, days cut in %s: %d rows.", settings.TIME_ZONE, rows)
    return rows


def rebuild_after_migrate(sender, using: str = DEFAULT_DB_ALIAS, plan=None, **kwargs) -> None:
    """post_migrate: a deploy runs `migrate`, so a changed TIME_ZONE (or rollups never built)
    is mended there, before the new processes serve pages. Skipped when migrating back (the
    models of today may not match the tables) and where the tables are not there."""
    if using != DEFAULT_DB_ALIAS or any(backwards for _, backwards in plan or []):
        return
    if ConsentDaysZone._meta.db_table in connections[using].introspection.table_names():
        rebuild_unless_in_server_zone()


def _lock_against_new_rows() -> None:
    """PostgreSQL: no change appends a rollup row until this transaction ends (a change under
    way waits at its append). SQLite has one writer at a time already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {ConsentDay._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


@transaction.atomic
def compact() -> int:
    """Merge each (line, day, status) that has several rows into one; how many rows it removed.

    The rows merged are exactly those the DELETE removed (RETURNING), so a change committed
    meanwhile is either merged or left as its own row, never lost or counted twice.
    """
    table = ConsentDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE (line_id, day, status) IN (SELECT line_id, day, status"  # noqa: S608
            f" FROM {table} GROUP BY line_id, day, status HAVING COUNT(*) > 1)"
            " RETURNING line_id, day, status, net, changes"
        )
        merged = cursor.fetchall()
    tally = Tally()
    for line_id, day, status, net, changes in merged:
        key = (line_id, _as_date(day), status)
        tally.net[key] += net
        tally.changes[key] += changes
    return len(merged) - tally.save()


def _as_date(value) -> date:
    """A date read by raw SQL: SQLite gives text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


@transaction.atomic
def rebuild(chunk_size: int = 20_000) -> int:
    """Recompute every rollup from the event log, cutting days in the server's time zone, and
    record that zone; how many rows it wrote. Streams the log pair by pair, so memory holds
    days, not events.

    On PostgreSQL the rollups' table is locked against new rows first: a change committing
    between the DELETE and the read of the log would otherwise be counted twice (its own row
    kept, its event read again). A change under way waits for the rebuild and appends after."""
    _lock_against_new_rows()
    ConsentDay.objects.all().delete()
    ConsentDaysZone.objects.update_or_create(pk=1, defaults={"time_zone": settings.TIME_ZONE})
    events = (
        ConsentEvent.objects.order_by("contact_id", "line_id", "occurred_at", "pk")
        .values_list("contact_id", "line_id", "occurred_at", "pk", "status", "outcome")
        .iterator(chunk_size=chunk_size)
    )
    tally = Tally()

    def counted(steps: Iterable[Step]) -> Iterator[Step]:
        for step in steps:
            tally.count_change(step)
            yield step

    tally.add_history(counted(Step(*row) for row in events))
    tally.save()
    return ConsentDay.objects.count()
