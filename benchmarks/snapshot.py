"""The Opt In & Out Snapshot at scale, on PostgreSQL: the CSV download beside COPY, and memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/capacity_sms \\
        .venv/bin/python benchmarks/snapshot.py

Builds BENCH_SNAPSHOT_CONTACTS contacts (default 200,000) with a status on each of 5 lines
(1,000,000 consent rows) and their events (one opt-in per pair, then an opt-out for half of
them), with set-based SQL. Then, each download in a fresh process so its peak memory is its
own: time to the first byte and in all of the CSV through the view (Django test client), rows
per second beside PostgreSQL's own COPY of the same query to CSV, and the process's peak RSS,
for a 100,000-row and a 1,000,000-row report; then the as-of page and download.
"""

import json
import os
import resource
import subprocess
import sys
import time

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import QueryDict
from django.test import Client
from support import raw_connection, throwaway_database

from crm.models import Account, Line
from crm.roles import Role
from crm.services import membership_set
from reporting.filters import SnapshotFilter

CONTACTS = int(os.environ.get("BENCH_SNAPSHOT_CONTACTS", "200000"))
LINES = 5


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--download":
        download_in_this_process(sys.argv[2])
        return
    with throwaway_database():
        run()


def run() -> None:
    account = Account.objects.create(name="Benchmark")
    lines = [
        Line.objects.create(account=account, number=f"+1415555{n:04d}", name=f"Line {n}")
        for n in range(LINES)
    ]
    manager = get_user_model().objects.create_user(username="bench-manager")
    membership_set(user=manager, account=account, role=Role.MANAGER)
    began = time.perf_counter()
    build(account, lines)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_consent")
        consents = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM crm_consentevent")
        events = cursor.fetchone()[0]
    print(
        f"Built {CONTACTS:,} contacts, {consents:,} consent rows, {events:,} events"
        f" in {time.perf_counter() - began:.0f} s"
    )
    all_lines = "&".join(f"lines={line.pk}" for line in lines)
    as_of = "2026-01-01T00:00"
    for label, query in (
        ("one line, opted in", f"lines={lines[0].pk}&status=opted_in"),
        ("all five lines", f"{all_lines}&status=both"),
        ("all five lines, as of", f"{all_lines}&status=both&as_of={as_of}"),
    ):
        measured = measure_in_child(f"/reporting/snapshot/download.csv?{query}")
        copy_seconds, copy_rows = copy_same_query(query)
        rate = measured["rows"] / measured["seconds"]
        copy_rate = copy_rows / copy_seconds
        first_byte_ms = measured["first_byte"] * 1000
        print(
            f"  {label}: {measured['rows']:,} rows, first byte {first_byte_ms:.0f} ms,"
            f" all {measured['seconds']:.1f} s ({rate:,.0f} rows/s);"
            f" COPY {copy_seconds:.1f} s ({copy_rate:,.0f} rows/s); ratio {rate / copy_rate:.2f};"
            f" peak RSS {measured['peak_mb']:.0f} MB (after start-up {measured['start_mb']:.0f} MB)"
        )
    client = Client(HTTP_HOST="bench.local")
    settings.ALLOWED_HOSTS = ["bench.local"]
    client.force_login(manager)
    for label, query in (
        ("page, now", f"{all_lines}&status=both"),
        ("page, as of", f"{all_lines}&status=both&as_of={as_of}"),
    ):
        began = time.perf_counter()
        response = client.get(f"/reporting/snapshot/?{query}")
        assert response.status_code == 200
        print(f"  {label}: {(time.perf_counter() - began) * 1000:.0f} ms")


def measure_in_child(url: str) -> dict:
    env = {**os.environ, "BENCH_DATABASE_NAME": connection.settings_dict["NAME"]}
    output = subprocess.run(  # noqa: S603 (this script, with a URL it built)
        [sys.executable, __file__, "--download", url],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def download_in_this_process(url: str) -> None:
    connection.settings_dict["NAME"] = os.environ["BENCH_DATABASE_NAME"]
    settings.ALLOWED_HOSTS = ["bench.local"]
    client = Client(HTTP_HOST="bench.local")
    client.force_login(get_user_model().objects.get(username="bench-manager"))
    assert client.get("/reporting/").status_code == 200  # warm up, as a running server is
    start_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    response = client.get(url)
    blocks = iter(response.streaming_content)
    first = next(blocks)
    first_byte = time.perf_counter() - began
    lines = first.count(b"\n")
    for block in blocks:
        lines += block.count(b"\n")
    seconds = time.perf_counter() - began
    print(
        json.dumps(
            {
                "rows": lines - 1,
                "first_byte": first_byte,
                "seconds": seconds,
                "start_mb": start_mb,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def copy_same_query(query: str) -> tuple[float, int]:
    """COPY (the view's own SQL) TO STDOUT WITH CSV, read to the end by psycopg."""
    account = Account.objects.get(name="Benchmark")
    snapshot = SnapshotFilter(QueryDict(query), queryset=None, account=account)
    assert snapshot.is_valid(), snapshot.errors
    sql, params = snapshot.qs.csv_sql()
    with raw_connection() as conn:
        statement = psycopg.ClientCursor(conn).mogrify(sql, params)
        began = time.perf_counter()
        count = 0
        with conn.cursor() as cursor, cursor.copy(f"COPY ({statement}) TO STDOUT WITH CSV") as copy:
            for block in copy:
                count += bytes(block).count(b"\n")
        return time.perf_counter() - began, count


def build(account: Account, lines: list[Line]) -> None:
    line_ids = [line.pk for line in lines]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO crm_contact (account_id, phone, name, email, created_at, updated_at)
            SELECT %s, '+1646' || lpad((2000000 + g)::text, 7, '0'),
                   CASE WHEN g %% 50 = 0 THEN '=formula ' || g ELSE 'Person ' || g END, '',
                   now(), now()
            FROM generate_series(0, %s - 1) AS g
            """,
            [account.pk, CONTACTS],
        )
        cursor.execute(
            """
            INSERT INTO crm_consentevent (contact_id, line_id, status, previous_status, outcome,
                source, keyword, note, occurred_at, recorded_at)
            SELECT c.id, l, 'opted_in', '', 'changed', 'import', '', 'benchmark',
                   timestamptz '2025-09-01' + (c.id %% 100) * interval '1 day', now()
            FROM crm_contact c CROSS JOIN unnest(%s::bigint[]) AS l
            WHERE c.account_id = %s
            """,
            [line_ids, account.pk],
        )
        cursor.execute(
            """
            INSERT INTO crm_consentevent (contact_id, line_id, status, previous_status, outcome,
                source, keyword, note, occurred_at, recorded_at)
            SELECT contact_id, line_id, 'opted_out', 'opted_in', 'changed', 'import', '',
                   'benchmark', occurred_at + interval '150 days', now()
            FROM crm_consentevent WHERE (contact_id + line_id) % 2 = 0
            """
        )
        cursor.execute(
            """
            INSERT INTO crm_consent (contact_id, line_id, status, since, cause_id, latest_at)
            SELECT DISTINCT ON (contact_id, line_id) contact_id, line_id, status, occurred_at,
                   id, occurred_at
            FROM crm_consentevent ORDER BY contact_id, line_id, occurred_at DESC, id DESC
            """
        )
        cursor.execute("VACUUM ANALYZE")  # hint bits set: the first full read is not a write


if __name__ == "__main__":
    main()
