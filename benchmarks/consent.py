"""Consent engine throughput on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/capacity_sms \
        .venv/bin/python benchmarks/consent.py

Runs in a throwaway database (`test_<name>`, created and dropped here), so it never touches
real data. Prints consent changes per second through the engine (50,000 changes over 10,000
contacts and 5 lines, one transaction each, 5% arriving out of order), beside a raw psycopg
baseline doing the same writes (event insert plus upsert of the current row, one transaction
each).
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
        cursor.execute("TRUNCATE crm_consent, crm_consentevent")
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


def raw_baseline(changes, staff_id: int) -> float:
    """The same writes with psycopg alone: insert the event, upsert the current row."""
    with raw_connection() as raw:
        started = time.perf_counter()
        for contact, line, status, when in changes:
            with raw.transaction(), raw.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO crm_consentevent (contact_id, line_id, status, previous_status,"
                    " outcome, source, user_id, keyword, note, occurred_at, recorded_at)"
                    " VALUES (%s, %s, %s, '', 'changed', 'agent', %s, '',"
                    " 'benchmark: consent form on file', %s, now()) RETURNING id",
                    (contact.pk, line.pk, status, staff_id, when),
                )
                (event_id,) = cursor.fetchone()
                cursor.execute(
                    "INSERT INTO crm_consent (contact_id, line_id, status, since, cause_id,"
                    " latest_at) VALUES (%s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (contact_id, line_id) DO UPDATE SET status = EXCLUDED.status,"
                    " since = EXCLUDED.since, cause_id = EXCLUDED.cause_id,"
                    " latest_at = EXCLUDED.latest_at",
                    (contact.pk, line.pk, status, when, event_id, when),
                )
        return time.perf_counter() - started


if __name__ == "__main__":
    main()
