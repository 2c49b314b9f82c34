"""A broadcast to 100,000 contacts on PostgreSQL, through the real path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/capacity_sms \
        .venv/bin/python benchmarks/broadcast.py

In a throwaway database. 10% of the contacts opted out of the line, 5% live where it is still
night (Hawaii, +1 808, at 07:00 local when the broadcast goes). The path: the preview, the
confirmation (the audience becomes recipients), the chunk tasks (each recipient's text created
through the gate and quiet hours), then the delivery tasks (each text handed to a provider that
takes it and does nothing, the gate asked again under the contacts' locks). Celery tasks run
in-process, in the order a worker would take them. Printed: recipients per second for each
stage and the whole, beside one raw `INSERT … SELECT` creating the same texts with the same
exclusion; statements per chunk; the process's peak memory after each of two audience sizes
(flat: the larger run does not raise it much).
"""

import os
import resource
import statistics
import time
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from support import QueryCounter, raw_connection, throwaway_database

from broadcasts import services
from broadcasts.audience import broadcast_preview
from conversations import sending
from conversations.backends.base import OutgoingSms, SmsBackend
from conversations.models import MessageStatus
from crm.models import Account, Contact, Line
from crm.roles import Role
from crm.services import membership_set

SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "20000,100000").split(",")]
# 17:00 UTC: noon in New York, 07:00 in Honolulu (inside quiet hours).
MOMENT = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


class NullProvider(SmsBackend):
    """Takes every text and does nothing: the benchmark measures our path, not a network."""

    def send(self, sms: OutgoingSms) -> str:
        return f"SM{int(sms.reference):032x}"


def main() -> None:
    settings.SMS_BACKEND = f"{__name__}.NullProvider"
    timezone.now = lambda: MOMENT
    with throwaway_database():
        for size in SIZES:
            run(size)


def run(size: int) -> None:
    account, line, user = make_audience(size)
    print(f"Broadcast to {size:,} contacts (10% opted out, 5% in quiet hours)")
    broadcast = services.broadcast_create(
        account=account, user=user, name="Benchmark", line=line, body="Hi {first_name}!"
    )
    published: list[tuple[str, tuple]] = []
    services.enqueue_on_commit = lambda name, *args: published.append((name, args))
    began = time.perf_counter()

    preview = broadcast_preview(broadcast)
    preview_at = time.perf_counter()
    services.broadcast_confirm(broadcast=broadcast, user=user)
    confirmed_at = time.perf_counter()

    chunk_statements = []
    while True:
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            more = services._send_chunk(broadcast.pk)
        if not more:
            break
        chunk_statements.append(counter.count)
    created_at = time.perf_counter()

    batches = [args[0] for name, args in published if name == sending.DELIVER_MANY_TASK]
    group_statements = []
    for batch in batches:
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            sending.deliver_many(batch)
        group_statements.append(counter.count / max(1, len(batch) / sending.DELIVER_GROUP_SIZE))
    delivered_at = time.perf_counter()

    broadcast.refresh_from_db()
    texts = broadcast.recipients.values_list("message__status", flat=True)
    sent = sum(1 for status in texts if status == MessageStatus.SENT)
    deferred = sum(1 for status in texts if status == MessageStatus.SCHEDULED)
    whole = delivered_at - began
    recipients = broadcast.recipient_count
    print(
        f"  preview:  {preview_at - began:6.2f} s   {preview.will_get:,} will get it,"
        f" {preview.counts['opted-out']:,} opted out, {preview.counts['deferred']:,} deferred"
    )
    print(f"  confirm:  {confirmed_at - preview_at:6.2f} s   {recipients:,} recipients")
    creating, delivering = created_at - confirmed_at, delivered_at - created_at
    print(
        f"  chunks:   {creating:6.2f} s   {recipients / creating:9,.0f} recipients/s,"
        f" {len(chunk_statements)} chunks of {services.CHUNK_SIZE}, statements per chunk"
        f" {min(chunk_statements)} to {max(chunk_statements)}"
    )
    print(
        f"  delivery: {delivering:6.2f} s   {sent / delivering:9,.0f} texts/s,"
        f" {statistics.median(group_statements):.1f} statements per group of"
        f" {sending.DELIVER_GROUP_SIZE}"
    )
    print(
        f"  whole:    {whole:6.2f} s   {recipients / whole:9,.0f} recipients/s;"
        f" {sent:,} sent, {deferred:,} deferred to the morning"
    )
    raw_seconds = raw_baseline(account, line)
    raw_rate = size * 0.9 / raw_seconds
    print(f"  raw INSERT … SELECT: {raw_seconds:6.2f} s {raw_rate:9,.0f} texts/s")
    print(f"  whole / raw: {recipients / whole / raw_rate:.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory of the process so far: {peak:.0f} MB")


def make_audience(size: int) -> tuple[Account, Line, object]:
    account = Account.objects.create(name=f"Benchmark {size}")
    line = Line.objects.create(account=account, number=f"+1415{size % 10_000_000:07d}", name="Main")
    user = get_user_model().objects.create_user(username=f"bench-{size}")
    membership_set(user=user, account=account, role=Role.MANAGER)
    with raw_connection() as raw, raw.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_contact (account_id, phone, name, email, created_at, updated_at)"
            " SELECT %s, CASE WHEN n %% 20 = 0 THEN '+1808' ELSE '+1212' END"
            " || lpad(n::text, 7, '0'), 'Contact ' || n, '', now(), now()"
            " FROM generate_series(1, %s) AS n",
            (account.pk, size),
        )
        cursor.execute(
            "WITH chosen AS (SELECT id FROM crm_contact WHERE account_id = %s AND id %% 10 = 3),"
            " events AS (INSERT INTO crm_consentevent (contact_id, line_id, status,"
            " previous_status, outcome, source, keyword, note, occurred_at, recorded_at)"
            " SELECT id, %s, 'opted_out', '', 'changed', 'import', '', 'benchmark', now(), now()"
            " FROM chosen RETURNING id, contact_id, occurred_at)"
            " INSERT INTO crm_consent (contact_id, line_id, status, since, cause_id, latest_at)"
            " SELECT contact_id, %s, 'opted_out', occurred_at, id, occurred_at FROM events",
            (account.pk, line.pk, line.pk),
        )
    assert Contact.objects.filter(account=account).count() == size
    return account, line, user


def raw_baseline(account: Account, line: Line) -> float:
    """The texts created by one statement, opted-out contacts excluded; rolled back."""
    with raw_connection() as raw:
        began = time.perf_counter()
        with raw.transaction(force_rollback=True), raw.cursor() as cursor:
            cursor.execute(
                "INSERT INTO conversations_message (line_id, contact_id, remote_number,"
                " direction, body, status, purpose, blocked_reason, provider_message_id,"
                " error_code, opt_out_type, media_count, times_requeued, decision,"
                " deferred_by_quiet_hours, quiet_hours_exempt, occurred_at, created_at,"
                " updated_at)"
                " SELECT %s, c.id, c.phone, 'outbound', 'Hi ' || split_part(c.name, ' ', 1)"
                " || '!', 'queued', 'message', '', '', '', '', 0, 0, '', false, false, now(),"
                " now(), now() FROM crm_contact c LEFT JOIN crm_consent s"
                " ON s.contact_id = c.id AND s.line_id = %s"
                " WHERE c.account_id = %s AND (s.status IS NULL OR s.status <> 'opted_out')",
                (line.pk, line.pk, account.pk),
            )
        return time.perf_counter() - began


if __name__ == "__main__":
    main()
