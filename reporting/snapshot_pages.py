"""One page of the Opt In & Out Snapshot in the default order, read through indexes.

The full query (reporting.snapshot) computes every pair's status and sorts them all, so a page
costs as much as the whole report: about 1 s now and 5 to 27 s as of a moment at a million
consent rows. A page needs only its own rows. Walking the account's contacts in the order of
the index on (account, name, phone) and looking up each contact's status on each chosen line
by index, PostgreSQL stops after the page's rows (LIMIT): the sort left is of one contact's
few lines at a time (an incremental sort).

Now, each pair's status is its consent row, by the unique (contact, line) index, with the
source of the event that began its run. As of a moment, three index lookups on the event log's
(contact, line, occurred_at) index per pair give the rule of crm.as_of: the latest event up to
the moment (its status), the latest earlier event with another status, and the first event
after that one (the run's start: "since" and the source). Refused events count nowhere; ties
in `occurred_at` go by id.

The lookups are correlated scalar subqueries, which SQLite runs as well as PostgreSQL (which
plans each as an index scan per pair), so both databases run the same statement.

`SnapshotRows` (reporting.snapshot) reads its pages through `page_rows` and takes the rows'
shared names (FIELDS, BOTH, the default order) from here.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.bulk_sql import parameter_marks
from crm.models import ConsentOutcome, Line

BOTH = "both"
FIELDS = ("contact_id", "line_id", "contact_name", "phone", "line_name", "status")
FIELDS += ("status_since", "status_source")
DEFAULT_ORDER = ("contact_name", "phone", "line_name")

# The full query's default order: the contact index's (name, phone), then the line's among
# one contact's few rows; the ids break no real tie but keep the statement the same.
_ORDER = " ORDER BY ct.name, ct.phone, l.name, ct.id, l.id LIMIT %s OFFSET %s"

_CURRENT = (
    "SELECT ct.id, l.id, ct.name, ct.phone, l.name, c.status, c.since, e.source"
    " FROM crm_contact ct JOIN crm_line l ON l.id IN ({lines})"
    " JOIN crm_consent c ON c.contact_id = ct.id AND c.line_id = l.id"
    " JOIN crm_consentevent e ON e.id = c.cause_id"
    " WHERE ct.account_id = %s{status_filter}"
)
_CURRENT_STATUS = " AND c.status = %s"

# Each subquery reads one pair's events on the event_pair_time index and the join fetches the
# event it found by primary key: `latest` up to the moment, `other` the latest before it with
# another status (none when the run began with the pair's first event), `began` the first
# after `other`.
_AS_OF = (
    "SELECT ct.id, l.id, ct.name, ct.phone, l.name, latest.status, began.occurred_at,"
    " began.source FROM crm_contact ct JOIN crm_line l ON l.id IN ({lines})"
    " JOIN crm_consentevent latest ON latest.id = ("
    " SELECT e.id FROM crm_consentevent e"
    " WHERE e.contact_id = ct.id AND e.line_id = l.id AND e.occurred_at <= %s"
    " AND e.outcome <> %s ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1)"
    " LEFT JOIN crm_consentevent other ON other.id = ("
    " SELECT e.id FROM crm_consentevent e"
    " WHERE e.contact_id = ct.id AND e.line_id = l.id AND e.outcome <> %s"
    " AND e.status <> latest.status"
    " AND (e.occurred_at, e.id) < (latest.occurred_at, latest.id)"
    " ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1)"
    " JOIN crm_consentevent began ON began.id = ("
    " SELECT e.id FROM crm_consentevent e"
    " WHERE e.contact_id = ct.id AND e.line_id = l.id AND e.outcome <> %s"
    " AND (other.id IS NULL OR (e.occurred_at, e.id) > (other.occurred_at, other.id))"
    " ORDER BY e.occurred_at, e.id LIMIT 1)"
    " WHERE ct.account_id = %s{status_filter}"
)
_AS_OF_STATUS = " AND latest.status = %s"


def page_rows(
    lines: Sequence[Line],
    status: str,
    as_of: datetime | None,
    start: int,
    stop: int | None,
    *,
    ordering: Sequence[str] = DEFAULT_ORDER,
) -> list[dict] | None:
    """Rows `start` to `stop` of the snapshot in the default order, as `SnapshotRows` slices
    them (dicts of FIELDS, "since" an aware datetime), in one statement whose cost follows
    `stop`, not the number of contacts.

    None when this way does not apply: another order, no end (the whole report is cheaper
    sorted), or lines of several accounts; the caller then runs the full query.
    """
    if tuple(ordering) != DEFAULT_ORDER or stop is None:
        return None
    lines = list(lines)
    accounts = {line.account_id for line in lines}
    if len(accounts) > 1:
        return None
    start, stop = max(int(start or 0), 0), int(stop)
    if not lines or stop <= start:
        return []
    marks = parameter_marks(lines)
    line_ids = [line.pk for line in lines]
    by_status = [] if status == BOTH else [status]
    if as_of is None:
        template, status_filter, moment = _CURRENT, _CURRENT_STATUS, []
    else:
        refused = ConsentOutcome.REFUSED.value
        when = connection.ops.adapt_datetimefield_value(as_of)  # SQLite compares UTC text
        template, status_filter, moment = _AS_OF, _AS_OF_STATUS, [when, refused, refused, refused]
    sql = template.format(lines=marks, status_filter=status_filter if by_status else "") + _ORDER
    params = [*line_ids, *moment, accounts.pop(), *by_status, stop - start, start]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [dict(zip(FIELDS, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["status_since"] = moment_of(row["status_since"])
    return rows


def moment_of(value) -> datetime:
    """A time read by raw SQL: SQLite gives text, PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return timezone.make_aware(value, UTC) if timezone.is_naive(value) else value
