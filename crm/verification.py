"""Recomputing the consent log's hashes (crm.ledger) to show it is as it was recorded.

Two passes over an account's events, each one streamed query: the chains (each contact's
events in recording order: every hash recomputed, every link to the previous event checked),
then the days (each UTC day's events in recording order against the day's anchor, and each
anchor against the one before). Problems are named by event and day, earliest first.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import F, Min, QuerySet

from core.bulk_sql import parameter_marks
from crm.as_of import statuses_as_of_sql
from crm.ledger import HASHED_FIELDS, DayDigest, anchor_hash, event_hash
from crm.models import Account, ConsentAnchor, ConsentEvent, ConsentLogVerification, Line

CHUNK = 5_000
# A day is anchored once it has been over this long, so that no transaction still writing its
# events can commit after its anchor.
ANCHOR_DELAY = timedelta(hours=1)
KEPT_PROBLEMS = 20
# "Now" for the current statuses: after every event, whatever its stated time.
FAR_FUTURE = datetime(9000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, order=True)
class Problem:
    """Something that does not match, placed by the day and the event it concerns."""

    day: date
    event_id: int
    message: str = field(compare=False)


@dataclass
class EventCheck:
    """One event of a chain, as recomputed."""

    event_id: int
    recorded_at: datetime
    hash: str
    previous_hash: str
    content_matches: bool
    link_matches: bool

    @property
    def intact(self) -> bool:
        return self.content_matches and self.link_matches


@dataclass
class Report:
    events_checked: int = 0
    days_checked: int = 0
    unanchored_days: int = 0
    problems_found: int = 0
    latest_anchor: ConsentAnchor | None = None
    # The earliest problems (by day, then event), at most KEPT_PROBLEMS once `finish`ed.
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems_found

    def keep(self, problem: Problem) -> None:
        self.problems_found += 1
        self.problems.append(problem)
        if len(self.problems) >= KEPT_PROBLEMS * 2:
            self.finish()

    def finish(self) -> None:
        self.problems = sorted(self.problems)[:KEPT_PROBLEMS]


def last_day_to_anchor(now: datetime) -> date:
    """The latest UTC day that is over, and over long enough to be sealed."""
    return (now - ANCHOR_DELAY).astimezone(UTC).date() - timedelta(days=1)


def first_day_to_anchor(account: Account) -> date:
    """Where an account's anchors begin: the day it was created, or the day of its earliest
    event when that is earlier (history recorded before the account's row, as the demo's).
    Once anchors exist, their first day is fixed."""
    earliest = account_events(account).aggregate(earliest=Min("recorded_at"))["earliest"]
    return min(filter(None, (account.created_at, earliest))).astimezone(UTC).date()


def utc_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def account_events(account: Account) -> QuerySet[ConsentEvent]:
    """The account's events, found by its lines' ids: no join for the planner to misjudge
    (right after a large import its statistics are stale, and a streamed read planned for a
    fast start then costs minutes)."""
    return ConsentEvent.objects.filter(
        line_id__in=list(Line.objects.filter(account=account).values_list("pk", flat=True))
    )


def hashed_values(events: QuerySet[ConsentEvent]) -> QuerySet:
    """The columns an event's hash covers, with what it cites, for `event_hash`."""
    return events.values(
        "id",
        "hash",
        *HASHED_FIELDS,
        message_body=F("message__body"),
        import_file_sha256=F("contact_import__content_sha256"),
    )


def check_chains(events: QuerySet[ConsentEvent]) -> Iterator[EventCheck]:
    """Each event's hash recomputed and its link to the contact's previous event checked,
    contact by contact in recording order."""
    rows = hashed_values(events).order_by("contact_id", "id").iterator(chunk_size=CHUNK)
    contact_id, expected_previous = None, ""
    for row in rows:
        if row["contact_id"] != contact_id:
            contact_id, expected_previous = row["contact_id"], ""
        yield EventCheck(
            event_id=row["id"],
            recorded_at=row["recorded_at"],
            hash=row["hash"],
            previous_hash=row["previous_hash"],
            content_matches=bool(row["hash"]) and event_hash(row) == row["hash"],
            link_matches=row["previous_hash"] == expected_previous,
        )
        expected_previous = row["hash"]


def verify_account(account: Account, *, now: datetime) -> Report:
    """Every event of the account and every anchor recomputed, the anchors the previous
    verification saw still there, and each current status the one its history gives."""
    report = Report()
    events = account_events(account)
    for check in check_chains(events):
        report.events_checked += 1
        if not check.intact:
            day = check.recorded_at.astimezone(UTC).date()
            report.keep(Problem(day, check.event_id, _describe(check)))
    _check_anchors(account, day_digests(events), report, last_day=last_day_to_anchor(now))
    _check_seen_anchor(account, report)
    _check_current_statuses(account, report)
    report.finish()
    return report


def _describe(check: EventCheck) -> str:
    if not check.hash:
        return f"Event {check.event_id} has no hash: it was written outside the consent engine."
    if not check.content_matches:
        return (
            f"Event {check.event_id} does not match its hash: it, or the message or file it "
            "cites, was changed after it was recorded."
        )
    return (
        f"Event {check.event_id} does not follow the contact's previous event: an event "
        "before it was changed, removed or reordered."
    )


def day_digests(events: QuerySet[ConsentEvent]) -> dict[date, DayDigest]:
    """Each UTC day's digest of these events' hashes, in recording order."""
    digests: dict[date, DayDigest] = defaultdict(DayDigest)
    rows = events.order_by("id").values_list("recorded_at", "hash").iterator(chunk_size=CHUNK)
    for recorded_at, value in rows:
        digests[recorded_at.astimezone(UTC).date()].add(value)
    return digests


def _check_anchors(
    account: Account, digests: dict[date, DayDigest], report: Report, *, last_day: date
) -> None:
    anchors = list(ConsentAnchor.objects.filter(account=account).order_by("day"))
    if anchors:
        for day in sorted(digests):
            if day < anchors[0].day:
                message = f"{day}: events recorded before the first anchored day: added later."
                report.keep(Problem(day, 0, message))
    previous = None
    for anchor in anchors:
        report.days_checked += 1
        for problem in _anchor_problems(account, anchor, previous, digests):
            report.keep(Problem(anchor.day, 0, f"{anchor.day}: {problem}"))
        previous = anchor
    report.latest_anchor = previous
    next_day = previous.day + timedelta(days=1) if previous else first_day_to_anchor(account)
    report.unanchored_days = max(0, (last_day - next_day).days + 1)


def _check_seen_anchor(account: Account, report: Report) -> None:
    """The newest anchor the previous verification saw must still be there, unchanged: days
    removed from the end, events and anchors together, are otherwise only "not anchored"."""
    seen = (
        ConsentLogVerification.objects.filter(account=account)
        .exclude(latest_anchor_day=None)
        .first()  # newest first, by Meta.ordering
    )
    if seen is None:
        return
    still = ConsentAnchor.objects.filter(account=account, day=seen.latest_anchor_day).first()
    if still is None or still.hash != seen.latest_anchor_hash:
        what = "is gone" if still is None else "has changed"
        report.keep(
            Problem(
                seen.latest_anchor_day,
                0,
                f"{seen.latest_anchor_day}: the anchor the verification of "
                f"{seen.started_at:%Y-%m-%d %H:%M} UTC saw {what}: anchors were removed.",
            )
        )


def _check_current_statuses(account: Account, report: Report) -> None:
    """Each contact's current status on each line must be the one its history gives: the
    send gate reads the current status, so a rewritten one would let texts through."""
    line_ids = list(Line.objects.filter(account=account).values_list("pk", flat=True))
    if not line_ids:
        return
    derived, params = statuses_as_of_sql(FAR_FUTURE, line_ids=line_ids)
    marks = parameter_marks(line_ids)
    # Only placeholders and the engine's own SQL are formatted in; values are parameters.
    current = f"SELECT contact_id, line_id, status FROM crm_consent WHERE line_id IN ({marks})"  # noqa: S608
    sql = (
        f"SELECT d.contact_id, d.line_id, d.status, c.status FROM ({derived}) d"  # noqa: S608
        f" LEFT JOIN ({current}) c ON c.contact_id = d.contact_id AND c.line_id = d.line_id"
        " WHERE c.status IS NULL OR c.status <> d.status"
        f" UNION ALL SELECT c.contact_id, c.line_id, NULL, c.status FROM ({current}) c"
        f" WHERE NOT EXISTS (SELECT 1 FROM crm_consentevent e WHERE e.contact_id = c.contact_id"
        " AND e.line_id = c.line_id)"
        f" LIMIT {KEPT_PROBLEMS}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *line_ids, *line_ids])
        for contact_id, line_id, history, stored in cursor.fetchall():
            report.keep(
                Problem(
                    date.max,
                    0,
                    f"Contact {contact_id} on line {line_id}: the current status says "
                    f"{stored or 'Not Defined'}, its history {history or 'Not Defined'}: the "
                    "current status was changed.",
                )
            )


def _anchor_problems(
    account: Account, anchor: ConsentAnchor, previous: ConsentAnchor | None, digests
) -> Iterable[str]:
    if previous is not None and anchor.day != previous.day + timedelta(days=1):
        yield f"the anchors of the days since {previous.day} are missing: removed."
    if anchor.previous_hash != (previous.hash if previous else ""):
        yield "the anchor does not follow the previous day's: anchors were changed or removed."
    digest = digests.get(anchor.day) or DayDigest()
    if digest.count != anchor.event_count:
        yield (
            f"{digest.count} events are recorded for the day, its anchor sealed "
            f"{anchor.event_count}: events were removed or added."
        )
    elif digest.hexdigest() != anchor.events_sha256:
        yield "the day's events do not match its anchor: they were changed or reordered."
    expected = anchor_hash(
        account_id=account.pk,
        day=anchor.day,
        event_count=anchor.event_count,
        events_sha256=anchor.events_sha256,
        previous_hash=anchor.previous_hash,
    )
    if expected != anchor.hash:
        yield "the anchor does not match its own hash: it was changed."
