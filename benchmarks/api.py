"""The API at scale, on PostgreSQL: the consent lookup and the change feed, each beside raw SQL
doing the same read.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/capacity_sms \\
        .venv/bin/python benchmarks/api.py

Builds BENCH_API_CONTACTS contacts (default 1,000,000) on 3 lines with set-based SQL: every
contact opted in on the first line, one in ten opted out of the second, the third Not Defined
(about 1.1 million consent events). Then:

- `GET /api/v1/consent/?phone=` for BENCH_API_LOOKUPS random numbers (default 2,000), through
  the whole stack (middleware, key authentication, throttle, view, JSON) with Django's test
  client, p50 and p99, beside psycopg running the same lookup (contact by number, its status on
  every line with the cause's source) as one statement;
- the change feed read page by page (`limit=1000`) for BENCH_API_FEED_ROWS events (default
  200,000), rows per second, beside psycopg reading the same rows with
  `SELECT … WHERE id > %s ORDER BY id LIMIT 1000`. The client reads each page's cursor and
  counts its events; parsing them is the consumer's work, as using the tuples is raw's.
"""

import json
import os
import random
import statistics
import time

os.environ.setdefault("API_RATE", "100000000/minute")  # the benchmark measures, not throttles

from django.conf import settings
from django.db import connection
from django.test import Client
from support import raw_connection, throwaway_database

from api.models import KeyAccess
from api.services import api_key_create
from crm.models import Account, Line

CONTACTS = int(os.environ.get("BENCH_API_CONTACTS", "1000000"))
LOOKUPS = int(os.environ.get("BENCH_API_LOOKUPS", "2000"))
FEED_ROWS = int(os.environ.get("BENCH_API_FEED_ROWS", "200000"))
PAGE = 1000


def main() -> None:
    with throwaway_database():
        run()


def run() -> None:
    account = Account.objects.create(name="Benchmark")
    lines = [
        Line.objects.create(account=account, number=f"+1415555{n:04d}", name=f"Line {n}")
        for n in range(3)
    ]
    began = time.perf_counter()
    build(account, lines)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_consentevent")
        events = cursor.fetchone()[0]
    print(f"Built {CONTACTS:,} contacts, {events:,} events in {time.perf_counter() - began:.0f} s")
    _, secret = api_key_create(account=account, name="Benchmark", access=KeyAccess.READ)
    settings.ALLOWED_HOSTS = ["bench.local"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_HOST="bench.local")
    phones = [phone_of(random.randrange(CONTACTS)) for _ in range(LOOKUPS)]
    lookups(client, account, phones)
    feed(client, account)


def phone_of(n: int) -> str:
    return f"+1646{2_000_000 + n:07d}"


def lookups(client: Client, account: Account, phones: list[str]) -> None:
    for phone in phones[:50]:  # warm caches and connections on both sides
        client.get("/api/v1/consent/", {"phone": phone})
    api_times = []
    for phone in phones:
        began = time.perf_counter()
        response = client.get("/api/v1/consent/", {"phone": phone})
        api_times.append(time.perf_counter() - began)
        assert response.status_code == 200, response.content
    assert len(response.json()["lines"]) == 3
    raw_times = []
    with raw_connection() as raw, raw.cursor() as cursor:
        for phone in phones:
            began = time.perf_counter()
            cursor.execute(
                """
                SELECT l.id, l.number, l.name, c.status, c.since, e.source
                FROM crm_line l
                LEFT JOIN crm_consent c ON c.line_id = l.id AND c.contact_id = (
                    SELECT id FROM crm_contact WHERE account_id = %s AND phone = %s)
                LEFT JOIN crm_consentevent e ON e.id = c.cause_id
                WHERE l.account_id = %s ORDER BY l.name, l.number
                """,
                [account.pk, phone, account.pk],
            )
            assert len(cursor.fetchall()) == 3
            raw_times.append(time.perf_counter() - began)
    print(f"GET /api/v1/consent/ ({LOOKUPS:,} random numbers of {CONTACTS:,}):")
    for label, times in (("API, whole stack", api_times), ("raw SQL, one statement", raw_times)):
        p50 = statistics.median(times) * 1000
        p99 = statistics.quantiles(times, n=100)[98] * 1000
        print(f"  {label:<24} p50 {p50:6.2f} ms, p99 {p99:6.2f} ms")


def feed(client: Client, account: Account) -> None:
    rows, cursor_token, began = 0, None, time.perf_counter()
    while rows < FEED_ROWS:
        query = {"limit": PAGE, **({"after": cursor_token} if cursor_token else {})}
        body = client.get("/api/v1/consent-events/", query).content
        # Parsing the events is the consumer's work, not the feed's: read the page's tail
        # (the cursor) and count the events.
        tail = json.loads(b"{" + body[body.rindex(b'"next_cursor"') :])
        rows += body.count(b'{"id"')
        cursor_token = tail["next_cursor"]
        if not tail["has_more"]:
            break
    api_seconds = time.perf_counter() - began
    raw_rows, last_id, began = 0, 0, time.perf_counter()
    with raw_connection() as raw, raw.cursor() as cursor:
        while raw_rows < rows:
            cursor.execute(
                "SELECT * FROM crm_consentevent WHERE id > %s ORDER BY id LIMIT %s",
                [last_id, PAGE],
            )
            batch = cursor.fetchall()
            raw_rows += len(batch)
            last_id = batch[-1][0]
    raw_seconds = time.perf_counter() - began
    api_rate, raw_rate = rows / api_seconds, raw_rows / raw_seconds
    print(f"Change feed, {rows:,} events in pages of {PAGE:,}:")
    print(f"  API, whole stack        {api_seconds:5.1f} s, {api_rate:9,.0f} rows/s")
    print(f"  raw SELECT id > %s      {raw_seconds:5.1f} s, {raw_rate:9,.0f} rows/s")
    print(f"  ratio {api_rate / raw_rate:.2f} (goal ≥ 0.40)")


def build(account: Account, lines: list[Line]) -> None:
    first, second, _ = (line.pk for line in lines)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO crm_contact (account_id, phone, name, email, created_at, updated_at)
            SELECT %s, '+1646' || lpad((2000000 + g)::text, 7, '0'), 'Person ' || g, '',
                   now(), now()
            FROM generate_series(0, %s - 1) AS g
            """,
            [account.pk, CONTACTS],
        )
        for line_id, status, every in ((first, "opted_in", 1), (second, "opted_out", 10)):
            cursor.execute(
                """
                INSERT INTO crm_consentevent (contact_id, line_id, status, previous_status,
                    outcome, source, keyword, note, occurred_at, recorded_at, consent_text,
                    page_url, user_agent, transaction_id)
                SELECT c.id, %s, %s, '', 'changed', 'api', '', '',
                       timestamptz '2025-09-01' + (c.id %% 100) * interval '1 day', now(),
                       'Yes, text me.', 'https://example.com/form', 'Mozilla/5.0', 0
                FROM crm_contact c WHERE c.account_id = %s AND c.id %% %s = 0
                ORDER BY c.id
                """,
                [line_id, status, account.pk, every],
            )
        cursor.execute(
            """
            INSERT INTO crm_consent (contact_id, line_id, status, since, cause_id, latest_at)
            SELECT contact_id, line_id, status, occurred_at, id, occurred_at
            FROM crm_consentevent
            """
        )
        cursor.execute("VACUUM ANALYZE")


if __name__ == "__main__":
    main()
