"""The Opt In & Out Snapshot: who is opted in or out on chosen lines, now or as of a moment.

The current snapshot reads the consent rows. As of a moment, each (contact, line) status is
computed from the event log in one query, by the rule the engine keeps the consent rows with:
events ordered by `occurred_at` (then recording order), refused ones aside; the status is the
latest event's, and "since" and the source are those of the first event of its run.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import Lag, RowNumber, TruncWeek
from django.utils import timezone

from crm.models import Consent, ConsentEvent, ConsentOutcome, ConsentStatus, Line

BOTH = "both"
TREND_WEEKS = 12


def snapshot_base(lines: Sequence[Line], as_of: datetime | None) -> QuerySet:
    """One object per (contact, line) with a status: consent rows, or as-of events."""
    return _as_of_statuses(lines, as_of) if as_of else Consent.objects.filter(line__in=lines)


def snapshot_rows(base: QuerySet, status: str = BOTH) -> QuerySet:
    """The report's rows as dicts: contact_name, phone, line_name, status, since, source."""
    rows = base if status == BOTH else base.filter(status=status)
    since = "since" if rows.model is Consent else "occurred_at"
    source = "cause__source" if rows.model is Consent else "source"
    return rows.values(
        "contact_id",
        "line_id",
        "status",
        contact_name=F("contact__name"),
        phone=F("contact__phone"),
        line_name=F("line__name"),
        status_since=F(since),
        status_source=F(source),
    ).order_by("contact_name", "phone", "line_name")


def _as_of_statuses(lines: Sequence[Line], as_of: datetime) -> QuerySet:
    """The first event of each pair's last run up to `as_of`: its status held at that moment."""
    pair = [F("contact_id"), F("line_id")]
    history = (
        ConsentEvent.objects.filter(line__in=lines, occurred_at__lte=as_of)
        .exclude(outcome=ConsentOutcome.REFUSED)
        .annotate(
            previous=Window(Lag("status"), partition_by=pair, order_by=[F("occurred_at"), F("id")])
        )
    )
    run_starts = history.filter(Q(previous__isnull=True) | ~Q(previous=F("status")))
    latest_start = (
        ConsentEvent.objects.filter(pk__in=run_starts.values("pk"))
        .annotate(
            recency=Window(
                RowNumber(),
                partition_by=pair,
                order_by=[F("occurred_at").desc(), F("id").desc()],
            )
        )
        .filter(recency=1)
    )
    return ConsentEvent.objects.filter(pk__in=latest_start.values("pk"))


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


def line_totals(base: QuerySet, lines: Sequence[Line]) -> list[LineTotals]:
    """Per chosen line: contacts opted in and opted out, in one query."""
    counts = {
        row["line_id"]: row
        for row in base.order_by()
        .values("line_id")
        .annotate(
            opted_in=Count("pk", filter=Q(status=ConsentStatus.OPTED_IN)),
            opted_out=Count("pk", filter=Q(status=ConsentStatus.OPTED_OUT)),
        )
    }
    return [
        LineTotals(
            line=line,
            opted_in=counts.get(line.pk, {}).get("opted_in", 0),
            opted_out=counts.get(line.pk, {}).get("opted_out", 0),
        )
        for line in lines
    ]


@dataclass(frozen=True)
class WeekCounts:
    week: date
    opted_in: int
    opted_out: int


def weekly_trend(lines: Sequence[Line], until: datetime | None = None) -> list[WeekCounts]:
    """Opt-ins and opt-outs that changed a status, per week, over the last 12 weeks."""
    until = until or timezone.now()
    this_week = timezone.localtime(until).date()
    this_week -= timedelta(days=this_week.weekday())
    first_week = this_week - timedelta(weeks=TREND_WEEKS - 1)
    rows = (
        ConsentEvent.objects.filter(
            line__in=lines,
            outcome=ConsentOutcome.CHANGED,
            occurred_at__date__gte=first_week,
            occurred_at__lte=until,
        )
        .annotate(week=TruncWeek("occurred_at"))
        .values("week", "status")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts = {(_as_date(row["week"]), row["status"]): row["count"] for row in rows}
    weeks = [first_week + timedelta(weeks=n) for n in range(TREND_WEEKS)]
    return [
        WeekCounts(
            week=week,
            opted_in=counts.get((week, ConsentStatus.OPTED_IN), 0),
            opted_out=counts.get((week, ConsentStatus.OPTED_OUT), 0),
        )
        for week in weeks
    ]


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value
