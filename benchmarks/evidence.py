"""The tamper-evident consent log at scale, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/capacity_sms \
        .venv/bin/python benchmarks/evidence.py

In a throwaway database: offers BENCH_EVENTS imported statuses (default 200,000; those already
in force are not recorded again) over 40,000 contacts and 30 days to the engine's bulk path,
each event chained and hashed, then prints:
- recording: events/s through `record_imported_consents`, and the share of it spent chaining
  and hashing;
- verification: events/s through `verify_consent_log`'s recomputation, beside a raw psycopg
  baseline doing the same work (reading the same columns and hashing the same canonical JSON);
- anchoring: seconds to seal the 30 days;
- the consent record page and the compliance audit page, median of 5, at this size.
"""

import hashlib
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from support import raw_connection, throwaway_database

from crm import consent
from crm.consent import ImportedStatus
from crm.ledger import HASHED_FIELDS
from crm.models import Account, ConsentEvent, ConsentStatus, Contact, ContactImport, Line
from crm.roles import Role
from crm.services import consent_anchors_record, membership_set
from crm.verification import verify_account

EVENTS = int(os.environ.get("BENCH_EVENTS", "200000"))
CONTACTS = 40_000
DAYS = 30
LINES = 3
START = datetime(2026, 10, 1, 12, tzinfo=UTC)


def main() -> None:
    with throwaway_database():
        run()


def run() -> None:
    account = Account.objects.create(name="Benchmark")
    Account.objects.filter(pk=account.pk).update(created_at=START - timedelta(days=1))
    account.refresh_from_db()
    lines = [
        Line.objects.create(account=account, number=f"+1415555{n:04d}", name=f"Line {n}")
        for n in range(LINES)
    ]
    contacts = Contact.objects.bulk_create(
        Contact(account=account, phone=f"+1212{n:07d}", name=f"Contact {n}")
        for n in range(CONTACTS)
    )
    user = get_user_model().objects.create_user(username="bench-manager")
    membership_set(user=user, account=account, role=Role.MANAGER)
    upload = ContactImport.objects.create(
        account=account,
        uploaded_by=user,
        file_name="history.csv",
        data=b"",
        content_sha256=hashlib.sha256(b"").hexdigest(),
        undated_at=START,
    )
    print(
        f"Consent log: {EVENTS:,} statuses offered for {CONTACTS:,} contacts, {LINES} lines, "
        f"{DAYS} days"
    )

    real_now = timezone.now
    per_day = EVENTS // DAYS
    chaining = time_spent_in(consent, "chain_heads", "seal")
    started = time.perf_counter()
    for day in range(DAYS):
        moment = START + timedelta(days=day)
        timezone.now = lambda moment=moment: moment
        statuses = [
            ImportedStatus(
                contact_id=contacts[(day * per_day + n) % CONTACTS].pk,
                line_id=lines[(day * per_day + n) // CONTACTS % LINES].pk,
                status=(ConsentStatus.OPTED_OUT, ConsentStatus.OPTED_IN)[(day + n) % 2],
                occurred_at=moment - timedelta(seconds=n),
                note="benchmark",
            )
            for n in range(per_day)
        ]
        for chunk in range(0, len(statuses), 1000):
            consent.record_imported_consents(statuses[chunk : chunk + 1000], upload)
    timezone.now = real_now
    recording = time.perf_counter() - started
    events = ConsentEvent.objects.count()
    rate = events / recording
    print(f"  recording {events:,} events:   {recording:7.1f} s  {rate:9,.0f} events/s")
    share = chaining[0] / recording
    print(f"    of which chaining and hashing: {chaining[0]:5.1f} s ({share:.0%})")

    started = time.perf_counter()
    anchors = consent_anchors_record(account=account)
    print(f"  anchoring {len(anchors)} days:         {time.perf_counter() - started:7.2f} s")

    started = time.perf_counter()
    report = verify_account(account, now=timezone.now())
    verifying = time.perf_counter() - started
    assert report.intact, report.problems[:3]
    rate = report.events_checked / verifying
    print(f"  verification:                {verifying:7.1f} s  {rate:9,.0f} events/s")
    raw = raw_verification(account.pk)
    print(f"  raw psycopg, same work:      {raw:7.1f} s  {events / raw:9,.0f} events/s")
    print(f"  verification / raw: {rate / (events / raw):.2f}")

    settings.ALLOWED_HOSTS = ["bench.local"]
    client = Client(HTTP_HOST="bench.local")
    client.force_login(user)
    busiest = contacts[0]
    pages = {
        "consent record": reverse("contact-record", args=[busiest.pk]),
        "compliance audit (30 days)": reverse("compliance")
        + f"?start={START:%Y-%m-%d}&end={START + timedelta(days=DAYS):%Y-%m-%d}",
    }
    for name, url in pages.items():
        times = []
        for _ in range(5):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            times.append(time.perf_counter() - started)
        print(f"  {name + ' page:':28} {statistics.median(times) * 1000:7.0f} ms (median of 5)")


def time_spent_in(module, *names: str) -> list[float]:
    """Wrap the module's functions so the seconds spent in them add up in the list returned."""
    spent = [0.0]
    for name in names:
        function = getattr(module, name)

        def timed(*args, function=function, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        setattr(module, name, timed)
    return spent


def raw_verification(account_id: int) -> float:
    """Read the same columns with psycopg and hash the same canonical JSON, chain by chain."""
    columns = ", ".join(f"e.{field}" for field in HASHED_FIELDS)
    started = time.perf_counter()
    with raw_connection() as raw, raw.cursor(name="verify") as cursor:
        cursor.itersize = 5000
        cursor.execute(
            f"SELECT e.id, e.hash, {columns}, m.body, i.content_sha256"
            " FROM crm_consentevent e"
            " LEFT JOIN conversations_message m ON m.id = e.message_id"
            " LEFT JOIN crm_contactimport i ON i.id = e.contact_import_id"
            " WHERE e.line_id IN (SELECT id FROM crm_line WHERE account_id = %s)"
            " ORDER BY e.contact_id, e.id",
            [account_id],
        )
        contact_id, previous = None, ""
        for row in cursor:
            content = dict(zip(HASHED_FIELDS, row[2:-2], strict=True))
            if content["contact_id"] != contact_id:
                contact_id, previous = content["contact_id"], ""
            assert content["previous_hash"] == previous
            previous = row[1]
            for field in ("occurred_at", "recorded_at"):
                content[field] = content[field].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            content["ip_address"] = content["ip_address"] or ""
            content["message_body_sha256"] = ""
            content["import_file_sha256"] = row[-1] or ""
            content["format"] = "capacity-consent-event/1"
            text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            assert hashlib.sha256(text.encode()).hexdigest() == row[1]
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
