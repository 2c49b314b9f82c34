"""CRM > Contacts at scale, on PostgreSQL: a 100,000-row import, and the Contacts page at 1M.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/capacity_sms \\
        .venv/bin/python benchmarks/contacts.py

1. Import: a CSV of BENCH_IMPORT_ROWS rows (name, phone, e-mail, a consent column for each of
   two lines, mixed opted in / opted out / empty) is checked and stored as an upload is, then
   queued with its mapping, which runs the Celery task in-process (REDIS_URL unset); then the
   same file is imported again (it must add nothing).
2. Contacts page: BENCH_CONTACTS contacts in one account (30% with a status on each of three
   lines) are inserted with set-based SQL, then the page, its filters, its sorts, the modal and
   the CSV export are timed through the Django test client, beside the COUNT(*) a counting
   paginator would add to every page.
"""

import os
import random
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from support import QueryCounter, print_page_timings, throwaway_database

from crm import import_files, imports
from crm.models import Account, ConsentEvent, Contact, ImportStatus, Line
from crm.roles import Role
from crm.services import membership_set

IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
CONTACTS = int(os.environ.get("BENCH_CONTACTS", "1000000"))
RENDERS = 5


def main() -> None:
    settings.ALLOWED_HOSTS = ["bench.local"]
    with throwaway_database():
        benchmark_import()
    with throwaway_database():
        benchmark_page()


def make_account(role: Role) -> tuple[Account, list[Line], object]:
    account = Account.objects.create(name="Benchmark")
    lines = [
        Line.objects.create(account=account, number=f"+1415555{n:04d}", name=f"Line {n}")
        for n in range(3)
    ]
    user = get_user_model().objects.create_user(username=f"bench-{role.value}")
    membership_set(user=user, account=account, role=role)
    return account, lines, user


def benchmark_import() -> None:
    account, lines, admin = make_account(Role.ADMIN)
    rng = random.Random(7)
    statuses = ["opted_in", "opted_out", "", ""]
    rows = [f"Name,Phone,Email,{lines[0].name},{lines[1].name}"]
    rows += [
        f"Person {n},(646) {2_000_000 + n:07d},p{n}@example.com,"
        f"{rng.choice(statuses)},{rng.choice(statuses)}"
        for n in range(IMPORT_ROWS)
    ]
    data = "\n".join(rows).encode()
    print(f"Import of {IMPORT_ROWS:,} rows ({len(data) / 1e6:.1f} MB):")
    for attempt in ("first import", "same file again"):
        began = time.perf_counter()
        uploaded = import_files.read_upload("bench.csv", data)
        checked = time.perf_counter() - began
        contact_import = imports.contact_import_create(
            account=account, user=admin, uploaded=uploaded
        )
        mapping = {"0": "name", "1": "phone", "2": "email"} | {
            str(3 + n): import_files.consent_column(line) for n, line in enumerate(lines[:2])
        }
        events_before = ConsentEvent.objects.count()
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            began = time.perf_counter()
            imports.contact_import_queue(
                contact_import=contact_import, mapping=mapping
            )  # runs in-process without REDIS_URL
            elapsed = time.perf_counter() - began
        contact_import.refresh_from_db()
        assert contact_import.status == ImportStatus.DONE, contact_import.error
        print(
            f"  {attempt:<16} upload check {checked:5.1f} s, import {elapsed:5.1f} s"
            f" ({IMPORT_ROWS / elapsed:,.0f} rows/s, {counter.count:,} statements):"
            f" created {contact_import.created_count:,}, updated {contact_import.updated_count:,},"
            f" skipped {contact_import.skipped_count:,}, bad {contact_import.bad_count:,},"
            f" events added {ConsentEvent.objects.count() - events_before:,}"
        )


def benchmark_page() -> None:
    account, lines, agent = make_account(Role.AGENT)
    began = time.perf_counter()
    build(account, lines)
    print(
        f"Contacts page with {CONTACTS:,} contacts (built in {time.perf_counter() - began:.0f} s):"
    )
    client = Client(HTTP_HOST="bench.local")
    client.force_login(agent)
    some = Contact.objects.filter(account=account).order_by("?").first()
    deep_page = CONTACTS // 25 // 2
    with connection.cursor() as cursor:
        began = time.perf_counter()
        cursor.execute("SELECT COUNT(*) FROM crm_contact WHERE account_id = %s", [account.pk])
        counting = (time.perf_counter() - began) * 1000
    print(f"  (a COUNT(*) of the account's contacts takes {counting:.0f} ms)")
    pages = (
        ("first page", "/crm/contacts/"),
        (f"page {deep_page:,}", f"/crm/contacts/?page={deep_page}"),
        ("sorted by name", "/crm/contacts/?sort=name"),
        ("sorted by number, desc", "/crm/contacts/?sort=-phone"),
        ("search by name", "/crm/contacts/?q=Person+12345"),
        ("search by digits", "/crm/contacts/?q=2012345"),
        ("opted out on a line", f"/crm/contacts/?line={lines[1].pk}&consent=opted_out"),
        ("Not Defined on a line", f"/crm/contacts/?line={lines[1].pk}&consent=not_defined"),
        ("consent modal", f"/crm/contacts/{some.pk}/consent/"),
        ("contact detail", f"/crm/contacts/{some.pk}/"),
    )
    print_page_timings(client, pages, renders=RENDERS, width=24)
    began = time.perf_counter()
    response = client.get("/crm/contacts/export.csv")
    first = next(iter(response.streaming_content))
    to_first = time.perf_counter() - began
    size = len(first) + sum(len(block) for block in response.streaming_content)
    total = time.perf_counter() - began
    print(
        f"  CSV export of all {CONTACTS:,}: first byte {to_first * 1000:.0f} ms,"
        f" whole file {total:.1f} s ({size / 1e6:.0f} MB, {CONTACTS / total:,.0f} rows/s)"
    )


def build(account: Account, lines: list[Line]) -> None:
    """Contacts, and for 30% of them a status on each line with its event, in SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO crm_contact (account_id, phone, name, email, created_at, updated_at)
            SELECT %s, '+1646' || lpad((2000000 + g)::text, 7, '0'),
                   CASE WHEN g %% 10 = 0 THEN '' ELSE 'Person ' || g END, '',
                   now() - make_interval(secs => %s - g), now()
            FROM generate_series(0, %s - 1) AS g
            """,
            [account.pk, CONTACTS, CONTACTS],
        )
        cursor.execute(
            """
            INSERT INTO crm_consentevent (contact_id, line_id, status, previous_status, outcome,
                source, keyword, note, occurred_at, recorded_at)
            SELECT c.id, l.id,
                   CASE WHEN random() < 0.5 THEN 'opted_in' ELSE 'opted_out' END,
                   '', 'changed', 'import', '', 'benchmark', now(), now()
            FROM crm_contact c CROSS JOIN crm_line l
            WHERE c.account_id = %s AND l.account_id = %s AND random() < 0.3
            """,
            [account.pk, account.pk],
        )
        cursor.execute(
            """
            INSERT INTO crm_consent (contact_id, line_id, status, since, cause_id, latest_at)
            SELECT contact_id, line_id, status, occurred_at, id, occurred_at
            FROM crm_consentevent
            """
        )
        cursor.execute("ANALYZE")


if __name__ == "__main__":
    main()
