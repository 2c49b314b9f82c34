"""Demo data: one account with lines, contacts, conversations and a consent history.

Nothing here writes around the product: every text comes in through the webhook's own service
and is processed as the worker processes it, every reply and agent message goes through the
send gate, and every consent change through the consent engine. The history is played out on
the demo's own clock, contact by contact, at the moments it happened; so a contact who opted
out has only blocked attempts after that, exactly as the product would have it.

Deterministic (fixed random seeds) and idempotent: every object is found by its natural key
first, and history is only played for contacts that have none yet.
"""

import logging
import random
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial

from celery import current_app
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef
from django.utils import timezone

from broadcasts.models import Broadcast
from broadcasts.services import broadcast_confirm, broadcast_create, broadcast_send
from conversations import inbound, sending
from conversations.models import AskedBy, Message, MessageStatus
from conversations.services import conversation_record_consent, conversation_touch
from crm import consent
from crm.languages import DEFAULT_REPLIES, Language
from crm.models import (
    Account,
    ConsentEvent,
    ConsentPolicy,
    ConsentSource,
    ConsentStatus,
    Contact,
    Line,
)
from crm.roles import Role
from crm.services import (
    account_create,
    account_credentials_update,
    account_language_update,
    consent_anchors_record,
    contact_create,
    line_create,
    membership_set,
)
from keywords.models import Action, KeywordResponder
from keywords.services import responder_save

ACCOUNT_NAME = "Bayside Dental"
HELP_CONTACT = "(415) 555-0199 or hello@example.com"
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

RESPONDERS = (
    (
        "Join reminders",
        ["JOIN", "REMIND ME"],
        Action.OPT_IN,
        "Reminders",
        "You're in! We'll text appointment reminders. Reply STOP to end.",
    ),
    (
        "Stop everything",
        ["NOMORE", "NO MORE"],
        Action.OPT_OUT,
        None,
        "You won't get any more texts from Bayside Dental.",
    ),
    (
        "Opening hours",
        ["HOURS"],
        Action.REPLY,
        None,
        "We're open Mon-Fri 8am-6pm and Sat 9am-1pm.",
    ),
)


# (name, text, days from now: negative was sent then, positive is scheduled then)
BROADCASTS = (
    (
        "Holiday hours",
        "Hi {first_name}, {account} is closed Dec 24-26. Book online any time. Reply STOP to "
        "opt out.",
        -7,
    ),
    (
        "Check-up reminder",
        "Hi {first_name}, it's been six months: time for a check-up at {account}? Reply YES "
        "and we'll call you. Reply STOP to opt out.",
        7,
    ),
)


@dataclass
class DemoSummary:
    account: Account
    contacts_created: int
    events_created: int


# The demo business signed up this long ago, before its oldest history.
ACCOUNT_AGE = timedelta(days=130)


def seed_demo() -> DemoSummary:
    now = timezone.now().replace(microsecond=0)
    with played_on_demo_clock() as clock:
        clock.now = now - ACCOUNT_AGE
        account = _seed_account()
    lines = [_seed_line(account, *line) for line in LINES]
    users = _seed_users(account)
    _seed_responders(account, {line.name: line for line in lines})
    contacts, created = _seed_contacts(account, random.Random(2026))
    events_before = ConsentEvent.objects.filter(contact__account=account).count()
    with played_on_demo_clock() as clock:
        steps = [
            step
            for contact in _without_history(contacts)
            # Each contact's own random sequence: its history is the same on every run.
            for step in _history(contact, lines, users, random.Random(contact.phone), now)
        ]
        steps += _broadcast_steps(account, lines[0], users["manager"], now)
        # In time order across contacts: each text meets the consent of its own moment.
        for when, step in sorted(steps, key=lambda item: item[0]):
            clock.now = when
            step()
        _send_what_fell_due(clock, account, now)
        clock.now = now
        # Beat's part: each finished day of the history sealed (crm.ledger).
        consent_anchors_record(account=account)
    events = ConsentEvent.objects.filter(contact__account=account).count()
    return DemoSummary(
        account=account, contacts_created=created, events_created=events - events_before
    )


def _send_what_fell_due(clock: "DemoClock", account: Account, now: datetime) -> None:
    """Beat's part: texts quiet hours held back go at the moment they were due."""
    held = Message.objects.filter(
        line__account=account, status=MessageStatus.SCHEDULED, scheduled_for__lte=now
    )
    for moment in sorted(set(held.values_list("scheduled_for", flat=True))):
        clock.now = moment
        for pk in sending.messages_due(now=moment):
            _hand_over(Message.objects.get(pk=pk))


def _broadcast_steps(account: Account, line: Line, manager, now: datetime) -> list["Step"]:
    """A broadcast sent last week, and one scheduled for next week, both from the first line."""
    return [
        (
            now + timedelta(days=min(days, 0)),
            partial(_seed_broadcast, account, line, manager, name, body, days, now),
        )
        for name, body, days in BROADCASTS
        if not Broadcast.objects.filter(account=account, name=name).exists()
    ]


def _seed_broadcast(account, line, manager, name, body, days, now) -> None:
    draft = broadcast_create(
        account=account,
        user=manager,
        name=name,
        line=line,
        body=body,
        status_line=line,
        consent_status=ConsentStatus.OPTED_IN,
        send_at=now + timedelta(days=days) if days > 0 else None,
    )
    broadcast_confirm(broadcast=draft, user=manager)
    # The worker's part, done here as for every demo text: the chunks, then each text.
    broadcast_send(draft.pk)
    queued = Message.objects.filter(
        broadcast_recipient__broadcast=draft, status=MessageStatus.QUEUED
    )
    for message in queued:
        _hand_over(message)


def _without_history(contacts: list[Contact]) -> list[Contact]:
    played = set(
        Contact.objects.filter(pk__in=[contact.pk for contact in contacts])
        .filter(
            Exists(ConsentEvent.objects.filter(contact=OuterRef("pk")))
            | Exists(Message.objects.filter(contact=OuterRef("pk")))
        )
        .values_list("pk", flat=True)
    )
    return [contact for contact in contacts if contact.pk not in played]


class DemoClock:
    """`timezone.now` while the demo plays its history: the moment being played."""

    def __init__(self):
        self.now = timezone.now()

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def played_on_demo_clock() -> Iterator[DemoClock]:
    """Run the product's code at the demo's moments, tasks in this process.

    Messages, events and replies are stamped by the clock, as they would have been at the
    time. The demo does the worker's part itself (processing, delivering), and nothing is
    published to a broker, where a worker living in the present would find every opt-out
    confirmation minutes late: queued tasks run in this process, finding the work done. The
    console backend's and Celery's line per text and task are muted.
    """
    clock = DemoClock()
    real_now, eager = timezone.now, current_app.conf.task_always_eager
    chatty = [
        logging.getLogger(name)
        for name in ("capacity_sms.sms", "celery.app.trace", "capacity_sms.consent_log")
    ]
    levels = [log.level for log in chatty]
    timezone.now, current_app.conf.task_always_eager = clock, True
    for log in chatty:
        log.setLevel(logging.WARNING)
    try:
        yield clock
    finally:
        timezone.now, current_app.conf.task_always_eager = real_now, eager
        for log, level in zip(chatty, levels, strict=True):
            log.setLevel(level)


def _seed_account() -> Account:
    account = Account.objects.filter(name=ACCOUNT_NAME).first()
    if account is not None:
        return account
    account = account_create(name=ACCOUNT_NAME, help_contact=HELP_CONTACT)
    account_language_update(
        account=account,
        language=Language.SPANISH,
        is_active=True,
        **asdict(DEFAULT_REPLIES[Language.SPANISH]),
    )
    return account_credentials_update(
        account=account, twilio_account_sid="", twilio_auth_token=DEMO_TWILIO_TOKEN
    )


def _seed_line(account: Account, name: str, number: str, policy: str) -> Line:
    return Line.objects.filter(number=number).first() or line_create(
        account=account, number=number, name=name, consent_policy=policy
    )


def _seed_users(account: Account) -> dict[str, AbstractBaseUser]:
    user_model = get_user_model()
    users = {}
    for username, role, is_staff in USERS:
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model.objects.create_user(
                username=username,
                email=f"{username}@example.com",
                password=DEMO_PASSWORD,
                is_staff=is_staff,
                is_superuser=is_staff,
            )
            membership_set(user=user, account=account, role=role)
        users[username] = user
    return users


def _seed_responders(account: Account, lines: dict[str, Line]) -> None:
    for name, keywords, action, line_name, reply in RESPONDERS:
        if not KeywordResponder.objects.filter(account=account, name=name).exists():
            responder_save(
                account=account,
                name=name,
                keywords=keywords,
                lines=[lines[line_name]] if line_name else [],
                action=action,
                reply=reply,
                is_active=True,
            )


def _seed_contacts(account: Account, rng: random.Random) -> tuple[list[Contact], int]:
    """The demo's contacts, and how many of them this run created."""
    numbers = rng.sample(
        [f"+1{area}55501{n:02d}" for area in AREA_CODES for n in range(100)], CONTACT_COUNT
    )
    contacts, created = [], 0
    for number in numbers:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = _email(first, last) if rng.random() < 0.6 else ""
        contact = Contact.objects.filter(account=account, phone=number).first()
        if contact is None:
            contact = contact_create(
                account=account, phone=number, name=f"{first} {last}", email=email
            )
            created += 1
        contacts.append(contact)
    return contacts, created


Step = tuple[datetime, Callable[[], None]]


def _history(contact, lines, users, rng: random.Random, now: datetime) -> list[Step]:
    """What happened to the contact, as steps to play at their moments: a few consent changes
    per line (or none: Not Defined), and perhaps a chat with the front desk lately."""
    steps: list[Step] = []
    for line in lines:
        if rng.random() < 0.3:
            continue
        when = now - timedelta(days=rng.randint(20, 120), minutes=rng.randint(0, 600))
        status = rng.choice([ConsentStatus.OPTED_IN] * 2 + [ConsentStatus.OPTED_OUT])
        for _ in range(rng.choice([1, 1, 2, 3, 4])):
            if when >= now - timedelta(minutes=1):
                break
            steps.append((when, _consent_change(contact, line, status, users, rng)))
            when += timedelta(days=rng.randint(1, 15), minutes=rng.randint(0, 600))
            status = (
                ConsentStatus.OPTED_OUT
                if status == ConsentStatus.OPTED_IN
                else ConsentStatus.OPTED_IN
            )
    if rng.random() < 0.4:
        steps += _chat(contact, lines[0], users["agent"], rng, now)
    return steps


def _consent_change(contact, line, status, users, rng: random.Random) -> Callable[[], None]:
    """A consent change as it reaches the product: a keyword texted in, an agent's note of a
    phone call, or a status from the business's earlier records."""
    kind = rng.random()
    if status == ConsentStatus.OPTED_OUT and kind < 0.15:
        return lambda: conversation_record_consent(
            conversation=conversation_touch(contact=contact, line=line, at=timezone.now()),
            user=users["agent"],
            status=ConsentStatus.OPTED_OUT,
            asked_by=AskedBy.PHONE_CALL,
            note="Asked not to be texted again.",
        )
    if kind < 0.3:
        return lambda: consent.record_consent(
            contact=contact,
            line=line,
            status=status,
            source=ConsentSource.IMPORT,
            note="previous-provider-export.csv",
        )
    # Contacts opt out as they write: the keyword, in Spanish, misspelt, or in a sentence.
    opt_outs = ["STOP", "STOP", "Stop", "ALTO", "stpo", "please stop sending me these texts"]
    keyword = rng.choice(opt_outs if status == ConsentStatus.OPTED_OUT else ["START", "YES"])
    sid = _sid(rng)
    return lambda: _text_in(contact, line, keyword, sid)


def _chat(contact, line, agent, rng: random.Random, now: datetime) -> list[Step]:
    """A short exchange with the front desk in the last ten days; the desk's answers go
    through the gate like any agent's, so an opted-out contact's are refused."""
    when = now - timedelta(days=rng.randint(0, 10), hours=3, minutes=rng.randint(0, 900))
    start = rng.randrange(0, len(CHAT) - 2)
    steps: list[Step] = []
    for direction, body in CHAT[start : start + rng.randint(2, 4)]:
        if direction == "inbound":
            sid = _sid(rng)
            steps.append((when, lambda body=body, sid=sid: _text_in(contact, line, body, sid)))
        else:
            steps.append((when, lambda body=body: _agent_reply(contact, line, agent, body)))
        when += timedelta(minutes=rng.randint(1, 30))
    return steps


def _text_in(contact: Contact, line: Line, body: str, sid: str) -> None:
    """A text from the contact, stored as the webhook stores it and processed as the worker
    processes it, its reply handed to the provider and reported delivered."""
    message, _ = inbound.receive_inbound(
        line=line, provider_message_id=sid, from_number=contact.phone, body=body
    )
    inbound.process_inbound(message.pk)
    for reply in Message.objects.filter(in_reply_to=message):
        _hand_over(reply)


def _agent_reply(contact: Contact, line: Line, agent, body: str) -> None:
    try:
        message = sending.send_message(contact=contact, line=line, body=body, sent_by=agent)
    except sending.SendBlocked:
        return
    _hand_over(message)


def _hand_over(message: Message) -> None:
    """What the worker and the provider do next: deliver through the gate's last check, then
    the provider's report that the text arrived, through the status service."""
    sending.deliver(message.pk)
    message.refresh_from_db()
    if message.status == MessageStatus.SENT:
        inbound.record_delivery_status(
            line=message.line,
            provider_message_id=message.provider_message_id,
            provider_status="delivered",
        )


def _email(first: str, last: str) -> str:
    """tomas.obrien@example.com for Tomás O'Brien."""
    name = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
    return name.replace("'", "").lower() + "@example.com"


def _sid(rng: random.Random) -> str:
    """A Twilio-shaped message SID, the same on every run."""
    return f"SM{rng.getrandbits(128):032x}"
