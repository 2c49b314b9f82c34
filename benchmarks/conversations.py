"""Conversations page render time with 100,000 conversations in one account, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/capacity_sms \\
        .venv/bin/python benchmarks/conversations.py

Builds the data set with bulk inserts (each conversation with two messages, a third of them
opted out), then times the sidebar page, a filtered search and a conversation page through the
Django test client: median and worst of several renders, with the statement count of each.
"""

import os
import random
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone
from support import print_page_timings, throwaway_database

from conversations.models import Conversation, Direction, Message, MessageStatus
from crm.models import Account, Consent, ConsentEvent, ConsentOutcome, ConsentSource, Contact, Line
from crm.roles import Role
from crm.services import membership_set

CONVERSATIONS = int(os.environ.get("BENCH_CONVERSATIONS", "100000"))
RENDERS = 7
BATCH = 5000


def main() -> None:
    settings.ALLOWED_HOSTS = ["bench.local"]
    with throwaway_database():
        run()


def run() -> None:
    rng = random.Random(5)
    account = Account.objects.create(name="Benchmark")
    lines = [
        Line.objects.create(account=account, number=f"+1415555{n:04d}", name=f"Line {n}")
        for n in range(3)
    ]
    started = time.perf_counter()
    build(rng, account, lines)
    print(f"Built {CONVERSATIONS:,} conversations in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    agent = get_user_model().objects.create_user(username="bench-agent")
    membership_set(user=agent, account=account, role=Role.AGENT)
    client = Client(HTTP_HOST="bench.local")
    client.force_login(agent)
    some = Conversation.objects.filter(account=account).order_by("?").first()
    pages = (
        ("sidebar", "/conversations/"),
        ("sidebar, page 200", "/conversations/?page=200"),
        ("search by number", "/conversations/?q=646200"),
        ("closed on one line", f"/conversations/?status=closed&line={lines[1].pk}"),
        ("conversation", f"/conversations/{some.pk}/"),
    )
    print_page_timings(client, pages, renders=RENDERS, width=20)


def build(rng: random.Random, account: Account, lines: list[Line]) -> None:
    now = timezone.now()
    for start in range(0, CONVERSATIONS, BATCH):
        contacts = Contact.objects.bulk_create(
            Contact(account=account, phone=f"+1646{2_000_000 + n:07d}", name=f"Contact {n}")
            for n in range(start, min(start + BATCH, CONVERSATIONS))
        )
        pairs = [(contact, rng.choice(lines)) for contact in contacts]
        Conversation.objects.bulk_create(
            Conversation(
                account=account,
                contact=contact,
                line=line,
                status=rng.choice(["open", "open", "closed"]),
                last_message_at=now - timezone.timedelta(minutes=rng.randint(0, 100_000)),
            )
            for contact, line in pairs
        )
        Message.objects.bulk_create(
            Message(
                line=line,
                contact=contact,
                remote_number=contact.phone,
                direction=direction,
                body=body,
                status=status,
                occurred_at=now,
            )
            for contact, line in pairs
            for direction, body, status in (
                (Direction.INBOUND, "Can I move my appointment?", MessageStatus.PROCESSED),
                (Direction.OUTBOUND, "Of course, which day works?", MessageStatus.DELIVERED),
            )
        )
        opted_out = [(contact, line) for contact, line in pairs if rng.random() < 0.33]
        events = ConsentEvent.objects.bulk_create(
            ConsentEvent(
                contact=contact,
                line=line,
                status="opted_out",
                outcome=ConsentOutcome.CHANGED,
                source=ConsentSource.IMPORT,
                note="benchmark",
                occurred_at=now,
            )
            for contact, line in opted_out
        )
        Consent.objects.bulk_create(
            Consent(
                contact=event.contact,
                line=event.line,
                status=event.status,
                since=now,
                cause=event,
                latest_at=now,
            )
            for event in events
        )


if __name__ == "__main__":
    main()
