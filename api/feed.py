"""The consent change feed: every event of an account in recording order, read in pages.

Ids are handed out when a row is inserted but become visible when its transaction commits, in
another order, so a reader that only remembered "after id N" could step past an event a slower
transaction was still writing. On PostgreSQL each event carries the id of the transaction that
wrote it (a trigger fills `transaction_id`), the feed is ordered by (transaction, id), and a
page only reaches as far as the oldest transaction still running
(`pg_snapshot_xmin(pg_current_snapshot())`): nothing can appear later behind the cursor, so
nothing is skipped or read twice. SQLite runs one writer at a time: ids are already in commit
order there.
"""

import base64
import binascii
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.db.models.expressions import RawSQL

from api.representations import with_event_json
from crm.models import Account, ConsentEvent

CURSOR_VERSION = "1"


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Position:
    transaction_id: int
    event_id: int

    def cursor(self) -> str:
        raw = f"{CURSOR_VERSION}:{self.transaction_id}:{self.event_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def of(cls, cursor: str | None) -> "Position":
        if not cursor:
            return cls(-1, 0)
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
            version, transaction_id, event_id = raw.split(":")
            position = cls(int(transaction_id), int(event_id))
        except (binascii.Error, UnicodeDecodeError, ValueError) as error:
            raise BadCursor("This cursor was not given by the feed.") from error
        if version != CURSOR_VERSION or not 0 <= position.event_id < 2**63:
            raise BadCursor("This cursor was not given by the feed.")
        if not -1 <= position.transaction_id < 2**63:
            raise BadCursor("This cursor was not given by the feed.")
        return position


class RowAfter(Func):
    """`(a, b) > (x, y)`, one row comparison, which an index on (a, b) reads from (x, y) on."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        compiled = [compiler.compile(expression) for expression in self.get_source_expressions()]
        (a, a_params), (b, b_params), (x, x_params), (y, y_params) = compiled
        return f"({a}, {b}) > ({x}, {y})", [*a_params, *b_params, *x_params, *y_params]


@dataclass(frozen=True)
class FeedPage:
    events_json: list[str]
    next_position: Position
    has_more: bool


def consent_events_after(*, account: Account, position: Position, limit: int) -> FeedPage:
    """The account's next `limit` events after `position`, with where to read on."""
    after = RowAfter(
        F("transaction_id"), F("pk"), Value(position.transaction_id), Value(position.event_id)
    )
    events = (
        ConsentEvent.objects.filter(line__account=account)
        .filter(after)
        .order_by("transaction_id", "pk")
    )
    events = _settled(events)
    # The page's ids first (off the index), then the JSON of those rows only (by primary key):
    # one query would leave the planner free to build the JSON of rows it then throws away.
    ids = list(events.values_list("pk", flat=True)[: limit + 1])
    page = (
        ConsentEvent.objects.filter(pk__in=ids)
        if connection.vendor != "postgresql"
        # One array parameter: a thousand separate ones cost more to bind than the query.
        else (
            ConsentEvent.objects.filter(
                RawSQL("crm_consentevent.id = ANY(%s)", [ids], output_field=BooleanField())
            )
        )
    )
    rows = list(
        with_event_json(page)
        .order_by("transaction_id", "pk")
        .values_list("transaction_id", "pk", "event_json")
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_position = Position(rows[-1][0], rows[-1][1]) if rows else position
    return FeedPage(
        events_json=[text for _, _, text in rows], next_position=next_position, has_more=has_more
    )


def _settled(events: QuerySet[ConsentEvent]) -> QuerySet[ConsentEvent]:
    """Only events no running transaction can still precede (and the reader's own)."""
    if connection.vendor != "postgresql":
        return events
    # Scalar subqueries: computed once per query, not once per row.
    oldest_running = RawSQL("(SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint)", [])
    own = RawSQL("(SELECT COALESCE(pg_current_xact_id_if_assigned()::text::bigint, -1))", [])
    return events.filter(Q(transaction_id__lt=oldest_running) | Q(transaction_id=own))
