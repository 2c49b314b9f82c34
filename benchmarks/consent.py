"""Consent engine throughput on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/capacity_sms \
        .venv/bin/python benchmarks/consent.py

Runs in a throwaway database (`test_<name>`, created and dropped here), so it never touches
real data. Prints consent changes per second through the engine (50,000 changes over 10,000
contacts and 5 lines, one transaction each, 5% arriving out of order), beside a raw psycopg
baseline doing the same work (lock, read, decide, hash, write the event, the current row and
the day's rollup; see `raw_baseline`).
"""

import os
import random
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from support import raw_connection, throwaway_database

from crm import consent
from crm.as_of import statuses_as_of_sql
from crm.consent_days import day_of
from crm.ledger import event_hash
from crm.models import (
    Account,
    ConsentEvent,
    ConsentOutcome,
    ConsentSource,
    ConsentStatus,
    Contact,
    Line,
)
from crm.roles import Role
from crm.services import membership_set

CHANGES = int(os.environ.get("BENCH_CHANGES", "50000"))
CONTACTS = int(os.environ.get("BENCH_CONTACTS", "10000"))
LINES = 5
STATUSES = (ConsentStatus.OPTED_IN, ConsentStatus.OPTED_OUT)


def main() -> None:
    with throwaway_database():
        run()


def run() -> None:
    rng = random.Random(1)
    account = Account.objects.create(name="Benchmark")
    lines = [
        Line.objects.create(account=account, number=f"+1415555{n:04d}", name=f"Line {n}")
        for n in range(LINES)
    ]
    contacts = Contact.objects.bulk_create(
        Contact(account=account, phone=f"+1212{n:07d}", name=f"Contact {n}")
        for n in range(CONTACTS)
    )
    changes = planned_changes(rng, contacts, lines)
    print(f"Consent engine: {CHANGES:,} changes over {CONTACTS:,} contacts and {LINES} lines")

    staff = get_user_model().objects.create_user(username="bench-admin")
    membership_set(user=staff, account=account, role=Role.ADMIN)
    started = time.perf_counter()
    for contact, line, status, when in changes:
        consent.record_consent(
            contact=contact,
            line=line,
            status=status,
            source=ConsentSource.AGENT,
            user=staff,
            note="benchmark: consent form on file",
            occurred_at=when,
        )
    engine_seconds = time.perf_counter() - started
    engine_rate = CHANGES / engine_seconds
    outcomes = {
        outcome: ConsentEvent.objects.filter(outcome=outcome).count()
        for outcome in ConsentOutcome.values
    }
    print(f"  engine:   {engine_seconds:7.2f} s  {engine_rate:9,.0f} changes/s  {outcomes}")

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE crm_consent, crm_consentevent, crm_consentday")
    raw_seconds = raw_baseline(changes, staff.pk)
    raw_rate = CHANGES / raw_seconds
    print(f"  raw SQL:  {raw_seconds:7.2f} s  {raw_rate:9,.0f} changes/s")
    print(f"  engine / raw: {engine_rate / raw_rate:.2f}")


def planned_changes(rng, contacts, lines):
    """Mostly in time order; one change in twenty is stamped earlier than the one before it."""
    base = timezone.now() - timedelta(days=60)
    changes = []
    for n in range(CHANGES):
        offset = n * 10 - (rng.randint(60, 6000) if rng.random() < 0.05 else 0)
        when = base + timedelta(seconds=offset)
        changes.append((rng.choice(contacts), rng.choice(lines), rng.choice(STATUSES), when))
    return changes


NOTE = "benchmark: consent form on file"


def raw_baseline(changes, staff_id: int) -> float:
    """The engine's work with psycopg alone, one transaction per change: lock the contact;
    read its chain head and the pair's current row (one statement); decide the outcome by the
    same rules (staff may lift an opt-out, so none is refused); hash the event into the chain;
    insert it; follow it in the current row (an older event instead looks for where the
    current run starts, as the engine does); add it to the day's rollup."""
    with raw_connection() as raw:
        started = time.perf_counter()
        for contact, line, status, when in changes:
            with raw.transaction(), raw.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM crm_contact WHERE id = %s FOR NO KEY UPDATE", (contact.pk,)
                )
                cursor.execute(
                    "SELECT (SELECT hash FROM crm_consentevent WHERE contact_id = %s"
                    " ORDER BY id DESC LIMIT 1), c.status, c.latest_at FROM (SELECT 1) o"
                    " LEFT JOIN crm_consent c ON c.contact_id = %s AND c.line_id = %s",
                    (contact.pk, contact.pk, line.pk),
                )
                head, current, latest_at = cursor.fetchone()
                outcome = decided(current, latest_at, status, when)
                recorded_at = timezone.now()
                values = {
                    "contact_id": contact.pk,
                    "line_id": line.pk,
                    "contact_phone": contact.phone,
                    "line_number": line.number,
                    "status": status,
                    "previous_status": current or "",
                    "outcome": outcome,
                    "source": "agent",
                    "message_id": None,
                    "user_id": staff_id,
                    "responder_id": None,
                    "contact_import_id": None,
                    "keyword": "",
                    "note": NOTE,
                    "api_key_id": None,
                    "consent_text": "",
                    "page_url": "",
                    "ip_address": None,
                    "user_agent": "",
                    "occurred_at": when,
                    "recorded_at": recorded_at,
                    "previous_hash": head or "",
                    "message_body": None,
                    "import_file_sha256": "",
                }
                cursor.execute(
                    "INSERT INTO crm_consentevent (contact_id, line_id, contact_phone,"
                    " line_number, status, previous_status, outcome, source, user_id, keyword,"
                    " note, consent_text, page_url, user_agent, occurred_at, recorded_at,"
                    " previous_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, 'agent', %s, '',"
                    " %s, '', '', '', %s, %s, %s, %s) RETURNING id",
                    (
                        contact.pk,
                        line.pk,
                        contact.phone,
                        line.number,
                        status,
                        current or "",
                        outcome,
                        staff_id,
                        NOTE,
                        when,
                        recorded_at,
                        head or "",
                        event_hash(values),
                    ),
                )
                (event_id,) = cursor.fetchone()
                follow(cursor, contact.pk, line.pk, status, when, event_id, outcome)
                if outcome == "changed":
                    add_to_rollup(cursor, line.pk, status, current, when)
        return time.perf_counter() - started


def decided(current: str | None, latest_at, status: str, when) -> str:
    if current is None:
        return "changed"
    if when < latest_at:
        return "superseded"
    return "unchanged" if current == status else "changed"


def follow(cursor, contact_id: int, line_id: int, status: str, when, event_id: int, outcome):
    if outcome == "changed":
        cursor.execute(
            "INSERT INTO crm_consent (contact_id, line_id, status, since, cause_id, latest_at)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (contact_id, line_id) DO UPDATE"
            " SET status = EXCLUDED.status, since = EXCLUDED.since,"
            " cause_id = EXCLUDED.cause_id, latest_at = EXCLUDED.latest_at",
            (contact_id, line_id, status, when, event_id, when),
        )
    elif outcome == "unchanged":
        cursor.execute(
            "UPDATE crm_consent SET latest_at = %s WHERE contact_id = %s AND line_id = %s",
            (when, contact_id, line_id),
        )
    else:
        sql, params = statuses_as_of_sql(timezone.now(), pair=(contact_id, line_id))
        cursor.execute(sql, params)
        run_start = cursor.fetchone()
        cursor.execute(
            "UPDATE crm_consent SET since = %s, cause_id = %s"
            " WHERE contact_id = %s AND line_id = %s AND cause_id <> %s",
            (run_start[3], run_start[5], contact_id, line_id, run_start[5]),
        )


def add_to_rollup(cursor, line_id: int, status: str, previous, when) -> None:
    day = day_of(when)
    rows = [(line_id, day, status, 1, 1)]
    if previous:
        rows.append((line_id, day, previous, -1, 0))
    cursor.executemany(
        "INSERT INTO crm_consentday (line_id, day, status, net, changes)"
        " VALUES (%s, %s, %s, %s, %s)",
        rows,
    )


if __name__ == "__main__":
    main()
