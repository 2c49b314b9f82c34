"""Inbound throughput on PostgreSQL: the signed webhook, then processing, in-process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/capacity_sms \\
        .venv/bin/python benchmarks/inbound.py

20,000 signed messages (5% STOP, 2% START, 1% HELP, the rest ordinary text) from 5,000 numbers
to 5 lines. Prints messages per second for the webhook alone (signature check, validation,
storing; processing queued to an in-memory broker) and for processing (the Celery task run
in-process: contact, conversation, decision, consent, reply through the gate and its delivery to
an in-memory backend), database statements per message for each (first and last thousand, to
show no growth), then a raw psycopg baseline doing the same writes (without hashing the
consent events, which favours it) and the ratio; then status callbacks (a sent and a delivered
report for 20,000 texts) through the webhook beside the same UPDATEs in psycopg.
"""

import os
import random
import time
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from support import QueryCounter, raw_connection, throwaway_database
from twilio.request_validator import RequestValidator

from capacity_sms.celery import app
from conversations.models import Direction, Message, MessageStatus
from conversations.tasks import process_inbound_message
from crm.models import Account, Line

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "20000"))
SENDERS = 5000
LINES = 5
TOKEN = "benchmark-token"  # noqa: S105
STATUS_BODY = "Our sale starts today"
MIX = (("STOP", 0.05), ("START", 0.02), ("HELP", 0.01))
ORDINARY = (
    "Can I move my appointment to Tuesday?",
    "Thanks, see you then",
    "What time do you open tomorrow?",
    "Running 10 minutes late",
    "Is the sale still on?",
)


def main() -> None:
    settings.ALLOWED_HOSTS = ["bench.local"]
    settings.SMS_BACKEND = "conversations.backends.locmem.LocmemBackend"
    with throwaway_database():
        run()


def run() -> None:
    rng = random.Random(3)
    account = Account.objects.create(name="Benchmark", twilio_auth_token=TOKEN)
    lines = [
        Line.objects.create(account=account, number=f"+1415555{n:04d}", name=f"Line {n}")
        for n in range(LINES)
    ]
    senders = [f"+1646{2_000_000 + n:07d}" for n in range(SENDERS)]
    requests = [
        signed(n, rng.choice(lines), rng.choice(senders), body(rng)) for n in range(MESSAGES)
    ]
    print(f"Inbound: {MESSAGES:,} signed messages from {SENDERS:,} numbers to {LINES} lines")

    client = Client(HTTP_HOST="bench.local")
    path = reverse("twilio-inbound-message")
    app.conf.task_always_eager = False  # queue to the in-memory broker; processing comes next
    webhook_seconds, webhook_queries = timed(
        requests,
        lambda request: accepted(twilio_post(client, path, request)),
    )
    assert Message.objects.filter(direction=Direction.INBOUND).count() == MESSAGES
    report("webhook", webhook_seconds, webhook_queries)

    app.conf.task_always_eager = True
    ids = list(
        Message.objects.filter(direction=Direction.INBOUND)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    process_seconds, process_queries = timed(
        ids, lambda pk: process_inbound_message.apply(args=[pk])
    )
    report("process", process_seconds, process_queries)
    replies = Message.objects.filter(direction=Direction.OUTBOUND)
    blocked = replies.filter(status=MessageStatus.BLOCKED).count()
    print(
        f"  replies: {replies.count() - blocked:,} sent, {blocked:,} blocked (an opt-out"
        " confirmation goes only within 5 minutes of the STOP; processing here runs later)"
    )

    raw_seconds = raw_baseline(requests, lines)
    django_rate = MESSAGES / (webhook_seconds + process_seconds)
    raw_rate = MESSAGES / raw_seconds
    print(f"  raw SQL: {raw_seconds:7.2f} s  {raw_rate:9,.0f} msg/s (same writes, 2 transactions)")
    print(f"  webhook + processing: {django_rate:,.0f} msg/s; ratio {django_rate / raw_rate:.2f}")
    status_callbacks(client, lines)


def twilio_post(client: Client, path: str, request: tuple[dict[str, str], str]):
    """POST as Twilio does: a form-urlencoded body (the test client's default, multipart,
    would add a parser Twilio's requests never go through), with its signature."""
    params, signature = request
    return client.post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def accepted(response) -> None:
    if response.status_code != 200:
        raise SystemExit(f"Webhook answered {response.status_code}: {response.content[:200]!r}")


def body(rng: random.Random) -> str:
    roll, threshold = rng.random(), 0.0
    for keyword, share in MIX:
        threshold += share
        if roll < threshold:
            return keyword
    return rng.choice(ORDINARY)


def signed(n: int, line: Line, sender: str, text: str) -> tuple[dict[str, str], str]:
    params = {
        "MessageSid": f"SM{n:032d}",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": line.number,
        "Body": text,
        "NumMedia": "0",
    }
    url = f"http://bench.local{reverse('twilio-inbound-message')}"
    return params, RequestValidator(TOKEN).compute_signature(url, params)


def timed(items, call) -> tuple[float, list[int]]:
    """Seconds for all items, and statement counts of the first and last thousand."""
    counts = []
    started = time.perf_counter()
    for index, item in enumerate(items):
        sampled = index < 1000 or index >= len(items) - 1000
        if sampled:
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                call(item)
            counts.append(counter.count)
        else:
            call(item)
    return time.perf_counter() - started, counts


def report(stage: str, seconds: float, counts: list[int]) -> None:
    half = len(counts) // 2
    first, last = sum(counts[:half]) / half, sum(counts[half:]) / (len(counts) - half)
    print(
        f"  {stage}: {seconds:7.2f} s  {MESSAGES / seconds:9,.0f} msg/s  statements/msg:"
        f" first 1,000 {first:.1f}, last 1,000 {last:.1f}"
    )


def raw_baseline(requests, lines) -> float:
    """The same writes with psycopg alone, into fresh copies of the tables."""
    numbers = {line.number: line for line in lines}
    account_id = lines[0].account_id
    statuses = {"STOP": "opted_out", "START": "opted_in"}
    with raw_connection() as raw:
        raw.execute(
            "TRUNCATE conversations_message, conversations_conversation, crm_consent,"
            " crm_consentevent, crm_contact CASCADE"
        )
        raw.commit()
        started = time.perf_counter()
        for n, (params, _) in enumerate(requests):
            line = numbers[params["To"]]
            now = timezone.now()
            with raw.transaction():
                (message_id,) = raw.execute(
                    "INSERT INTO conversations_message (line_id, remote_number, direction, body,"
                    " status, purpose, blocked_reason, provider_message_id, error_code,"
                    " occurred_at, created_at, updated_at, opt_out_type, media_count, decision,"
                    " deferred_by_quiet_hours, quiet_hours_exempt)"
                    " VALUES (%s, %s, 'inbound', %s, 'received', 'message', '', %s, '', %s, %s,"
                    " %s, '', 0, '', false, false) RETURNING id",
                    (line.pk, params["From"], params["Body"], f"raw{n}", now, now, now),
                ).fetchone()
            with raw.transaction():
                contact_id = upsert_contact(raw, account_id, params["From"], now)
                raw.execute(
                    "INSERT INTO conversations_conversation (account_id, contact_id, line_id,"
                    " status, last_message_at, created_at) VALUES (%s, %s, %s, 'open', %s, %s)"
                    " ON CONFLICT (contact_id, line_id) DO UPDATE"
                    " SET last_message_at = EXCLUDED.last_message_at, status = 'open'",
                    (account_id, contact_id, line.pk, now, now),
                )
                status = statuses.get(params["Body"])
                if status:
                    (event_id,) = raw.execute(
                        "INSERT INTO crm_consentevent (contact_id, line_id, status,"
                        " previous_status, outcome, source, message_id, keyword, note,"
                        " occurred_at, recorded_at, contact_phone, line_number, consent_text,"
                        " page_url, user_agent, previous_hash, hash) VALUES (%s, %s, %s, '',"
                        " 'changed', 'keyword', %s, %s, '', %s, %s, %s, %s, '', '', '', '', '')"
                        " RETURNING id",
                        (
                            contact_id,
                            line.pk,
                            status,
                            message_id,
                            params["Body"],
                            now,
                            now,
                            params["From"],
                            line.number,
                        ),
                    ).fetchone()
                    raw.execute(
                        "INSERT INTO crm_consent (contact_id, line_id, status, since, cause_id,"
                        " latest_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT"
                        " (contact_id, line_id) DO UPDATE SET status = EXCLUDED.status,"
                        " since = EXCLUDED.since, cause_id = EXCLUDED.cause_id,"
                        " latest_at = EXCLUDED.latest_at",
                        (contact_id, line.pk, status, now, event_id, now),
                    )
                if status or params["Body"] == "HELP":
                    raw.execute(
                        "INSERT INTO conversations_message (line_id, contact_id, remote_number,"
                        " direction, body, status, purpose, blocked_reason,"
                        " provider_message_id, error_code, occurred_at, created_at, updated_at,"
                        " opt_out_type, media_count, decision, in_reply_to_id,"
                        " deferred_by_quiet_hours, quiet_hours_exempt) VALUES"
                        " (%s, %s, %s, 'outbound', 'reply', 'sent', 'message', '', %s, '', %s,"
                        " %s, %s, '', 0, '', %s, false, false)",
                        (
                            line.pk,
                            contact_id,
                            params["From"],
                            f"rawout{n}",
                            now,
                            now,
                            now,
                            message_id,
                        ),
                    )
                raw.execute(
                    "UPDATE conversations_message SET contact_id = %s, status = 'processed'"
                    " WHERE id = %s",
                    (contact_id, message_id),
                )
        return time.perf_counter() - started


def status_callbacks(client: Client, lines: list[Line]) -> None:
    """Two signed reports (sent, then delivered) for each of MESSAGES texts handed over, through
    the webhook, beside psycopg running the same forward-only UPDATE for each."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO conversations_message (line_id, contact_id, remote_number, direction,"
            " body, status,"
            " purpose, blocked_reason, provider_message_id, error_code, occurred_at, created_at,"
            " updated_at, opt_out_type, media_count, decision, deferred_by_quiet_hours,"
            " quiet_hours_exempt) SELECT l.id, (SELECT min(id) FROM crm_contact), '+16462000000',"
            " 'outbound', %s, 'sending', 'message', '', 'SM' || lpad(to_hex(g), 32, '0'), '',"
            " now(), now(), now(), '', 0, '', false, false FROM generate_series(1, %s) AS g"
            " JOIN crm_line l ON l.number = '+1415555' || lpad((g %% %s)::text, 4, '0')",
            [STATUS_BODY, MESSAGES, LINES],
        )
        cursor.execute("ANALYZE conversations_message")
    reports = [
        status_report(line_number, f"SM{n:032x}", status)
        for status in ("sent", "delivered")
        for n, line_number in ((n, f"+1415555{n % LINES:04d}") for n in range(1, MESSAGES + 1))
    ]
    path = reverse("twilio-status")
    seconds, counts = timed(
        reports,
        lambda report: no_content(twilio_post(client, path, report)),
    )
    moved = Message.objects.filter(
        direction=Direction.OUTBOUND, body=STATUS_BODY, status=MessageStatus.DELIVERED
    ).count()
    assert moved == MESSAGES, moved
    half = len(counts) // 2
    rate = len(reports) / seconds
    print(
        f"  status callbacks: {len(reports):,} in {seconds:.2f} s, {rate:,.0f} reports/s;"
        f" statements/report: first 1,000 {sum(counts[:half]) / half:.1f},"
        f" last 1,000 {sum(counts[half:]) / (len(counts) - half):.1f}"
    )
    raw_seconds = raw_status_updates(reports)
    raw_rate = len(reports) / raw_seconds
    print(
        f"  raw UPDATE: {raw_seconds:.2f} s, {raw_rate:,.0f} reports/s; ratio {rate / raw_rate:.2f}"
    )


def status_report(line_number: str, sid: str, status: str) -> tuple[dict[str, str], str]:
    params = {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": line_number,
        "To": "+16462000000",
        "MessageStatus": status,
    }
    url = f"http://bench.local{reverse('twilio-status')}"
    return params, RequestValidator(TOKEN).compute_signature(url, params)


def no_content(response) -> None:
    if response.status_code != 204:
        raise SystemExit(f"Status callback answered {response.status_code}: {response.content!r}")


def raw_status_updates(reports) -> float:
    """The same reports as psycopg UPDATEs, each its own transaction, the rank rule in SQL."""
    earlier = {"sent": ["queued", "sending"], "delivered": ["queued", "sending", "sent"]}
    with raw_connection() as raw:
        raw.execute(
            "UPDATE conversations_message SET status = 'sending' WHERE body = %s", (STATUS_BODY,)
        )
        lines = dict(raw.execute("SELECT number, id FROM crm_line").fetchall())
        raw.commit()
        raw.autocommit = True
        started = time.perf_counter()
        for params, _ in reports:
            raw.execute(
                "UPDATE conversations_message SET status = %s, updated_at = now()"
                " WHERE line_id = %s AND direction = 'outbound' AND provider_message_id = %s"
                " AND status = ANY(%s) RETURNING id",
                (
                    params["MessageStatus"],
                    lines[params["From"]],
                    params["MessageSid"],
                    earlier[params["MessageStatus"]],
                ),
            ).fetchone()
        return time.perf_counter() - started


def upsert_contact(raw, account_id: int, phone: str, now) -> int:
    row = raw.execute(
        "INSERT INTO crm_contact (account_id, phone, name, email, created_at, updated_at)"
        " VALUES (%s, %s, '', '', %s, %s) ON CONFLICT (account_id, phone) DO NOTHING RETURNING id",
        (account_id, phone, now, now),
    ).fetchone()
    if row:
        return row[0]
    return raw.execute(
        "SELECT id FROM crm_contact WHERE account_id = %s AND phone = %s", (account_id, phone)
    ).fetchone()[0]


if __name__ == "__main__":
    main()
