"""The Opt In & Out Snapshot at scale, on PostgreSQL: pages, and the CSV download beside COPY.

1,000,000 consent rows (200,000 contacts on 5 lines, the default):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/capacity_sms \\
        .venv/bin/python benchmarks/snapshot.py

5,000,000 consent rows (1,000,000 contacts):

    BENCH_SNAPSHOT_CONTACTS=1000000 DATABASE_URL=postgres://postgres@127.0.0.1:5432/capacity_sms \\
        .venv/bin/python benchmarks/snapshot.py

Builds BENCH_SNAPSHOT_CONTACTS contacts with a status on each of 5 lines and their events
(one opt-in per pair, then an opt-out for half of them) with set-based SQL, and the daily
rollups. Then pages: the median of 5 renders through the view (Django test client) with its
statement count, now and as of, pages 1, 2 and 100; beside them the same pages' rows read by
reporting.snapshot_pages.page_rows alone (median of 5) and by a SnapshotRows slice (once: the
view's read, the full query until SnapshotRows uses page_rows). Then the downloads, each in
a fresh process so its peak memory is its own: time to the first byte and in all of the CSV
through the view, rows per second beside PostgreSQL's own COPY of the same query (with the
view's work_mem) to CSV, and the process's peak RSS.
"""

import importlib
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import QueryDict
from django.test import Client, override_settings
from support import QueryCounter, print_page_timings, raw_connection, throwaway_database

from crm.models import Account, Line
from crm.roles import Role
from crm.services import membership_set
from reporting.filters import SnapshotFilter
from reporting.snapshot import QUERY_WORK_MEM, SnapshotRows
from reporting.snapshot_pages import page_rows

CONTACTS = int(os.environ.get("BENCH_SNAPSHOT_CONTACTS", "200000"))
LINES = 5
RENDERS = 5
PAGE_SIZE = 50
AS_OF = "2026-01-01T00:00"


def main() -> None:
    plain_static_files()
    if len(sys.argv) > 1 and sys.argv[1] == "--download":
        download_in_this_process(sys.argv[2])
        return
    with throwaway_database():
        run()


def plain_static_files() -> None:
    """Pages name static files; with DEBUG off they need collectstatic's manifest, which a
    benchmark has no use for. Files by their plain names instead (as the tests do)."""
    plain = "django.contrib.staticfiles.storage.StaticFilesStorage"
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": plain}}).enable()


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
    print("Pages (all five lines, both statuses):")
    client = Client(HTTP_HOST="bench.local")
    settings.ALLOWED_HOSTS = ["bench.local"]
    client.force_login(manager)
    base = f"/reporting/snapshot/?{all_lines}&status=both"
    print_page_timings(
        client,
        [
            ("page 1, now", base),
            ("page 1, as of", f"{base}&as_of={AS_OF}"),
            ("page 2, now", f"{base}&page=2"),
            ("page 2, as of", f"{base}&as_of={AS_OF}&page=2"),
            ("page 100, now", f"{base}&page=100"),
        ],
        renders=RENDERS,
    )
    print("Rows of one page alone (51 rows, as the paginator asks):")
    as_of = SnapshotFilter(
        QueryDict(f"lines={lines[0].pk}&as_of={AS_OF}"), queryset=None, account=account
    )
    assert as_of.is_valid(), as_of.errors
    moment = as_of.form.cleaned_data["as_of"]
    for label, when, start in (
        ("page 1, now", None, 0),
        ("page 1, as of", moment, 0),
        ("page 2, now", None, PAGE_SIZE),
        ("page 2, as of", moment, PAGE_SIZE),
        ("page 100, now", None, 99 * PAGE_SIZE),
    ):
        stop = start + PAGE_SIZE + 1
        pages = time_read(lambda w=when, s=start, e=stop: page_rows(lines, "both", w, s, e))
        today = time_read(lambda w=when, s=start, e=stop: SnapshotRows(lines, "both", w)[s:e], 1)
        print(
            f"  {label:<24} page_rows median {pages[0] * 1000:7.1f} ms ({pages[1]} statements);"
            f" SnapshotRows slice {today[0] * 1000:7.0f} ms ({today[1]} statements)"
        )
    print("Downloads:")
    for label, query in (
        ("one line, opted in", f"lines={lines[0].pk}&status=opted_in"),
        ("all five lines", f"{all_lines}&status=both"),
        ("all five lines, as of", f"{all_lines}&status=both&as_of={AS_OF}"),
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


def time_read(read, times: int = RENDERS) -> tuple[float, int]:
    """The median seconds of `times` calls of `read`, and the statements one call ran."""
    timings = []
    for _ in range(times):
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            began = time.perf_counter()
            rows = read()
            timings.append(time.perf_counter() - began)
        assert rows, "a page of the benchmark's data is never empty"
    return statistics.median(timings), counter.count


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
    """COPY (the view's own SQL) TO STDOUT WITH CSV, read to the end by psycopg: the
    fastest the database can hand the rows over, with the same memory to sort in."""
    account = Account.objects.get(name="Benchmark")
    snapshot = SnapshotFilter(QueryDict(query), queryset=None, account=account)
    assert snapshot.is_valid(), snapshot.errors
    sql, params = snapshot.qs.csv_sql()
    with raw_connection() as conn:
        conn.execute(f"SET work_mem = '{QUERY_WORK_MEM}'")  # as the view's own cursor has it
        statement = psycopg.ClientCursor(conn).mogrify(sql, params)
        began = time.perf_counter()
        count = 0
        with conn.cursor() as cursor, cursor.copy(f"COPY ({statement}) TO STDOUT WITH CSV") as copy:
            for block in copy:
                count += bytes(block).count(b"\n")
        return time.perf_counter() - began, count


def build(account: Account, lines: list[Line]) -> None:
    """Contacts, events and consent rows in set-based SQL, then the daily rollups.

    Events name every column PostgreSQL requires (Django defaults are not database defaults);
    the trigger fills `transaction_id`. Hashes are placeholders chained per (contact, line):
    nothing here verifies the log, and the append-only trigger only refuses updates.
    """
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
            f"""
            INSERT INTO crm_consentevent ({EVENT_COLUMNS})
            SELECT c.id, l.id, 'opted_in', '', 'changed', 'import', '', 'benchmark',
                   timestamptz '2025-09-01' + (c.id %% 100) * interval '1 day', now(),
                   '', '', '', c.phone, l.number, '',
                   {placeholder_hash("c.id || ':' || l.id || ':opted_in'")}
            FROM crm_contact c CROSS JOIN crm_line l
            WHERE c.account_id = %s AND l.id = ANY(%s::bigint[])
            """,
            [account.pk, line_ids],
        )
        cursor.execute(
            f"""
            INSERT INTO crm_consentevent ({EVENT_COLUMNS})
            SELECT contact_id, line_id, 'opted_out', 'opted_in', 'changed', 'import', '',
                   'benchmark', occurred_at + interval '150 days', now(),
                   '', '', '', contact_phone, line_number, hash,
                   {placeholder_hash("contact_id || ':' || line_id || ':opted_out'")}
            FROM crm_consentevent WHERE (contact_id + line_id) %% 2 = 0
            """,
            [],
        )
        cursor.execute(
            """
            INSERT INTO crm_consent (contact_id, line_id, status, since, cause_id, latest_at)
            SELECT DISTINCT ON (contact_id, line_id) contact_id, line_id, status, occurred_at,
                   id, occurred_at
            FROM crm_consentevent ORDER BY contact_id, line_id, occurred_at DESC, id DESC
            """
        )
    build_consent_days()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # hint bits set: the first full read is not a write


EVENT_COLUMNS = (
    "contact_id, line_id, status, previous_status, outcome, source, keyword, note,"
    " occurred_at, recorded_at, consent_text, page_url, user_agent, contact_phone, line_number,"
    " previous_hash, hash"
)


def placeholder_hash(text_sql: str) -> str:
    """A 64-hex-digit stand-in for an event hash (crm.ledger's are SHA-256 too)."""
    return f"encode(sha256(convert_to({text_sql}, 'UTF8')), 'hex')"


def build_consent_days() -> None:
    """Fill the daily rollups (crm.consent_days.rebuild) when that module exists yet."""
    if importlib.util.find_spec("crm.consent_days") is None:
        print("  (no crm.consent_days yet: daily rollups not built)")
        return
    rebuild = getattr(importlib.import_module("crm.consent_days"), "rebuild", None)
    if rebuild is None:
        print("  (crm.consent_days has no rebuild() yet: daily rollups not built)")
        return
    began = time.perf_counter()
    rows = rebuild()
    print(f"  consent days rebuilt: {rows:,} rows in {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
