"""Consent as it stood at a moment, read from the event log by the engine's own rule.

Events count in `occurred_at` order (ties in recording order), refused ones aside. A pair's
status at a moment is that of its latest event up to then; "since", the source and the cause
are those of the first event of the run that status belongs to (a run: events in a row with
the same status). One query answers it, for one pair (the engine, weighing a late event) or
for whole lines (the snapshot report).
"""

from datetime import datetime

from django.db import connection

from core.bulk_sql import first_row, parameter_marks
from crm.models import ConsentEvent, ConsentOutcome

COLUMNS = ("contact_id", "line_id", "status", "occurred_at", "source", "id")


def statuses_as_of_sql(
    as_of: datetime, *, line_ids: list[int] | None = None, pair: tuple[int, int] | None = None
) -> tuple[str, list]:
    """SQL and parameters for each pair's status at `as_of`, on `line_ids` or for one `pair`
    (contact id, line id): one row per pair with a status, columns `COLUMNS`, `occurred_at`
    being "since".

    Run starts are the events whose status differs from the one before (LAG), and the latest
    of them is the answer: DISTINCT ON on PostgreSQL, ROW_NUMBER elsewhere.
    """
    if pair is not None:
        where, params = "contact_id = %s AND line_id = %s", list(pair)
    else:
        ids = line_ids or []
        where, params = f"line_id IN ({parameter_marks(ids)})", list(ids)
    history = (
        "SELECT id, contact_id, line_id, status, occurred_at, source,"
        " LAG(status) OVER (PARTITION BY contact_id, line_id ORDER BY occurred_at, id) AS prev"
        f" FROM crm_consentevent WHERE {where} AND occurred_at <= %s AND outcome <> %s"
    )
    params += [
        connection.ops.adapt_datetimefield_value(as_of),  # SQLite compares UTC text
        ConsentOutcome.REFUSED.value,
    ]
    run_start = "(prev IS NULL OR prev <> status)"
    columns = ", ".join(COLUMNS)
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT DISTINCT ON (contact_id, line_id) {columns} FROM ({history}) h"
            f" WHERE {run_start} ORDER BY contact_id, line_id, occurred_at DESC, id DESC"
        )
    else:
        sql = (
            f"SELECT {columns} FROM ("
            " SELECT *, ROW_NUMBER() OVER (PARTITION BY contact_id, line_id"
            " ORDER BY occurred_at DESC, id DESC) AS recency"
            f" FROM ({history}) h WHERE {run_start}) r WHERE recency = 1"
        )
    return sql, params


def run_start_as_of(contact_id: int, line_id: int, as_of: datetime) -> ConsentEvent | None:
    """The event that began the run one pair was in at `as_of` (events at that very moment
    included): its status is the pair's status then, its `occurred_at` "since"; None when the
    pair had no status yet (Not Defined)."""
    sql, params = statuses_as_of_sql(as_of, pair=(contact_id, line_id))
    return first_row(ConsentEvent, sql, params)
