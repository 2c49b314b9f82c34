"""Demo data: one account with lines, contacts, conversations and a consent history.

Deterministic (a fixed random seed) and idempotent: every object is found by its natural key
first, and history is only written for contacts this run created.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from conversations.models import Direction, Message, MessageStatus
from conversations.services import conversation_touch
from crm import consent
from crm.gate import Purpose
from crm.models import Account, ConsentPolicy, ConsentSource, ConsentStatus, Contact, Line
from crm.roles import Role
from crm.services import contact_get_or_create, membership_set
from keywords.models import KeywordResponder, ResponderAction

ACCOUNT_NAME = "Bayside Dental"
DEMO_PASSWORD = "demo-password"  # noqa: S105  (printed for people trying the demo)
DEMO_TWILIO_TOKEN = "demo-twilio-auth-token"  # noqa: S105  (signs simulated texts in the demo)
CONTACT_COUNT = 300

LINES = (
    ("Front Desk", "+14155550100", ConsentPolicy.BLOCK_OPTED_OUT),
    ("Reminders", "+14155550101", ConsentPolicy.BLOCK_OPTED_OUT),
    ("Billing", "+14155550102", ConsentPolicy.REQUIRE_OPT_IN),
)

USERS = (
    ("agent", Role.AGENT, False),
    ("admin", Role.ADMIN, False),
    ("manager", Role.MANAGER, False),
    ("staff", Role.ADMIN, True),
)

FIRST_NAMES = (
    "Olivia Liam Emma Noah Ava Elijah Sophia Mateo Isabella Lucas Mia Levi Amelia Ezra Harper "
    "Asher Evelyn James Luna Leo Camila Aiden Gianna Luca Abigail Ethan Ella Kai Elena Grayson "
    "Sofia Hudson Avery Jack Scarlett Wyatt Aria Owen Chloe Henry Layla Julian Priya Wei Fatima "
    "Diego Aisha Kenji Ngozi Tomás Yara Sven Ananya Omar Zoe Ravi Hana Malik Ines"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Okafor Patel "
    "Kim Chen Haddad Novak Silva Kowalski O'Brien Yamamoto Schmidt"
).split()
AREA_CODES = (
    "202 206 212 213 303 305 312 404 503 512 602 617 702 713 718 786 801 858 917 971".split()
)

CHAT = (
    ("inbound", "Hi, can I move my cleaning to next Tuesday?"),
    ("outbound", "Of course! We have 10:30 or 2:15 on Tuesday. Which works better?"),
    ("inbound", "2:15 please"),
    ("outbound", "Done: Tuesday at 2:15. See you then!"),
    ("inbound", "Do you take Delta Dental?"),
    ("outbound", "Yes, we're in network with Delta Dental PPO."),
    ("inbound", "Thanks!! 😊"),
    ("inbound", "Running 10 min late, sorry"),
    ("outbound", "No problem, thanks for letting us know."),
)


@dataclass
class DemoSummary:
    account: Account
    contacts_created: int
    events_created: int


def seed_demo() -> DemoSummary:
    rng = random.Random(2026)
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        account, _ = Account.objects.get_or_create(
            name=ACCOUNT_NAME,
            defaults={
                "help_contact": "(415) 555-0199 or hello@example.com",
                "twilio_auth_token": DEMO_TWILIO_TOKEN,
            },
        )
        lines = [
            Line.objects.get_or_create(
                number=number, defaults={"account": account, "name": name, "consent_policy": policy}
            )[0]
            for name, number, policy in LINES
        ]
        users = _seed_users(account)
        _seed_responders(account, lines)
        created = _seed_contacts(account, rng)
        events = 0
        for contact in created:
            events += _seed_history(contact, lines, users, rng, now)
    return DemoSummary(account=account, contacts_created=len(created), events_created=events)


def _seed_users(account: Account) -> dict[str, object]:
    user_model = get_user_model()
    users = {}
    for username, role, is_staff in USERS:
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={"email": f"{username}@example.com", "is_staff": is_staff},
        )
        if created:
            user.is_superuser = is_staff
            user.set_password(DEMO_PASSWORD)
            user.save()
            membership_set(user=user, account=account, role=role)
        users[username] = user
    return users


def _seed_responders(account: Account, lines: list[Line]) -> None:
    responders = (
        ("Join reminders", ["JOIN", "REMIND ME"], ResponderAction.OPT_IN, [lines[1]]),
        ("Stop everything", ["NOMORE", "NO MORE"], ResponderAction.OPT_OUT, []),
        ("Opening hours", ["HOURS"], ResponderAction.REPLY_ONLY, []),
    )
    replies = {
        ResponderAction.OPT_IN: "You're in! We'll text appointment reminders. Reply STOP to end.",
        ResponderAction.OPT_OUT: "You won't get any more texts from Bayside Dental.",
        ResponderAction.REPLY_ONLY: "We're open Mon-Fri 8am-6pm and Sat 9am-1pm.",
    }
    for name, keywords, action, on_lines in responders:
        responder, created = KeywordResponder.objects.get_or_create(
            account=account,
            name=name,
            defaults={"keywords": keywords, "action": action, "reply": replies[action]},
        )
        if created:
            responder.lines.set(on_lines)


def _seed_contacts(account: Account, rng: random.Random) -> list[Contact]:
    numbers = rng.sample(
        [f"+1{area}55501{n:02d}" for area in AREA_CODES for n in range(100)], CONTACT_COUNT
    )
    created = []
    for number in numbers:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}@example.com".lower().replace("'", "") if rng.random() < 0.6 else ""
        contact, is_new = contact_get_or_create(
            account=account, phone=number, name=f"{first} {last}", email=email
        )
        if is_new:
            created.append(contact)
    return created


def _seed_history(contact, lines, users, rng: random.Random, now: datetime) -> int:
    """A few consent changes per line (or none: Not Defined), with their evidence."""
    events = 0
    for line in lines:
        if rng.random() < 0.3:
            continue
        when = now - timedelta(days=rng.randint(20, 120), minutes=rng.randint(0, 600))
        status = rng.choice([ConsentStatus.OPTED_IN] * 2 + [ConsentStatus.OPTED_OUT])
        for _ in range(rng.choice([1, 1, 2, 3, 4])):
            if when >= now - timedelta(minutes=1):
                break
            _record(contact, line, status, users, rng, when)
            events += 1
            when += timedelta(days=rng.randint(1, 15), minutes=rng.randint(0, 600))
            status = (
                ConsentStatus.OPTED_OUT
                if status == ConsentStatus.OPTED_IN
                else ConsentStatus.OPTED_IN
            )
    if rng.random() < 0.4:
        _seed_chat(contact, lines[0], rng, now)
    return events


def _record(contact, line, status, users, rng: random.Random, when: datetime) -> None:
    kind = rng.random()
    if status == ConsentStatus.OPTED_OUT and kind < 0.15:
        consent.opt_out(
            contact=contact,
            line=line,
            source=ConsentSource.AGENT,
            user=users["agent"],
            note="Asked by phone not to be texted.",
            occurred_at=when,
        )
    elif kind < 0.3:
        consent.record_consent(
            contact=contact,
            line=line,
            status=status,
            source=ConsentSource.IMPORT,
            note="previous-provider-export.csv",
            occurred_at=when,
        )
    else:
        keyword = "STOP" if status == ConsentStatus.OPTED_OUT else rng.choice(["START", "YES"])
        message = _message(contact, line, Direction.INBOUND, keyword, when)
        consent.record_consent(
            contact=contact,
            line=line,
            status=status,
            source=ConsentSource.KEYWORD,
            message=message,
            keyword=keyword,
            occurred_at=when,
        )
        account = line.account
        template = (
            account.opt_out_reply if status == ConsentStatus.OPTED_OUT else account.opt_in_reply
        )
        purpose = (
            Purpose.OPT_OUT_CONFIRMATION if status == ConsentStatus.OPTED_OUT else Purpose.MESSAGE
        )
        _message(
            contact,
            line,
            Direction.OUTBOUND,
            template.format(account=account.name, help_contact=account.help_contact),
            when + timedelta(seconds=2),
            purpose=purpose,
        )


def _seed_chat(contact, line, rng: random.Random, now: datetime) -> None:
    when = now - timedelta(days=rng.randint(0, 10), hours=3, minutes=rng.randint(0, 900))
    start = rng.randrange(0, len(CHAT) - 2)
    for direction, body in CHAT[start : start + rng.randint(2, 4)]:
        _message(contact, line, direction, body, when)
        when += timedelta(minutes=rng.randint(1, 30))


def _message(contact, line, direction, body, when, purpose=Purpose.MESSAGE) -> Message:
    """A message from the demo's past, stored as already processed or delivered."""
    conversation_touch(contact=contact, line=line, at=when)
    inbound = direction == Direction.INBOUND
    message = Message.objects.create(
        line=line,
        contact=contact,
        remote_number=contact.phone,
        direction=direction,
        body=body,
        status=MessageStatus.PROCESSED if inbound else MessageStatus.DELIVERED,
        purpose=purpose,
        provider_message_id=f"SMdemo{contact.pk:06d}{line.pk:02d}{int(when.timestamp())}",
        occurred_at=when,
    )
    Message.objects.filter(pk=message.pk).update(created_at=when)
    return message
