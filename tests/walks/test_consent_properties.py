"""Consent under random interleavings (Hypothesis stateful): the engine against a model of SPEC 5-6.

A few contacts text two lines through the signed webhook: STOP, START, HELP in their spellings,
revocation phrases, ordinary text and the carrier's own signals. The webhook stores each message
at the current time (Twilio sends no timestamp, so `occurred_at` is the time received); workers
then process the stored messages in any order, some twice (a worker that crashed after the
commit) or all at once in any order (a backlog), and Twilio posts the same MessageSid again.
Between them agents record opt-outs from the contact panel (an admin opt-ins, an agent may not),
agents send from the composer, and the delivery worker hands queued messages to the provider in
any order, some twice. The clock is the test's: before each step it stands still (ties on
`occurred_at`) or moves by a microsecond or a second, and minutes pass in a step of their own
(six: past the five an opt-out confirmation may take).

The machine keeps its own record of every consent event, in the order the engine recorded
them, and derives everything from it by SPEC's rules, never by the engine's code:

* the status of a (contact, line) is that of its latest event by `occurred_at`, ties going to
  the one recorded last; `since` and `cause` are the first event of the run of that status that
  ends with the latest event; no event, no Consent row (Not Defined). An event that is not the
  latest is `superseded`, a latest one repeating the status `unchanged`, any other `changed`
  (nothing here is a non-explicit opt-in, so nothing is `refused`);
* the gate (SPEC 6), at the moment of each send: HELP replies always pass; while opted out only
  an opt-out confirmation passes, within five minutes of `since`, and never a second one for
  the same opt-out (one already sent at or after `since`, the status unchanged since); a Not
  Defined contact is refused on the `require opt-in` line, and a confirmation with no opt-out
  to confirm is refused;
* replies: a keyword or phrase that changed the status is confirmed, HELP is always answered,
  a carrier signal gets no reply of ours, anything else none.

After every step: the Consent rows equal the model and the event log's own latest event; each
inbound message has at most one event and one reply; the provider received exactly the messages
stored as sent, each allowed by the model when handed over; every refused message is stored as
blocked with its reason. The gate's verdicts are also checked when a message is stored: exactly
for texts and HELP replies; for confirmations, which the gate may hold back more eagerly (one
already queued), only that a refused one is blocked.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from conversations import tasks
from conversations.backends import locmem
from conversations.models import (
    AskedBy,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    Purpose,
)
from conversations.sending import SendBlocked, send_message
from conversations.services import conversation_record_consent, conversation_touch
from crm.models import (
    Account,
    Consent,
    ConsentEvent,
    ConsentOutcome,
    ConsentPolicy,
    ConsentSource,
    ConsentStatus,
    Contact,
    Line,
)
from crm.roles import Role
from tests.support.factories import make_user
from tests.support.webhook_client import TOKEN, inbound_params, post_inbound

pytestmark = pytest.mark.sweep  # long: CI runs it, an everyday run may not

OUT, IN = ConsentStatus.OPTED_OUT, ConsentStatus.OPTED_IN
CONFIRMATION_WINDOW = timedelta(minutes=5)  # SPEC 6
PHONES = ("+12025550143", "+12025550144", "+12025550145")
KNOWN_CONTACTS = 2  # in the CRM with a conversation on each line; the last one texts first
PANEL_ACTIONS = ["agent opted_out", "admin opted_in", "agent opted_in"]
CONTACTS = st.sampled_from([0, 0, 0, 1, 2])  # the first more often: more interleavings per pair
LINES = st.sampled_from([0, 0, 0, 1])  # 0: block opted out, 1: require opt-in
SECOND = timedelta(seconds=1)
# Before each step: no wait (a tie on occurred_at), a microsecond or a second; minutes pass in
# a step of their own.
WAITS = st.sampled_from([timedelta(0), timedelta(microseconds=1), SECOND])


@dataclass(frozen=True)
class Text:
    """What a contact texts, and what it means by SPEC 3-4 (the machine's own reading)."""

    body: str
    effect: str = ""  # OUT, IN or "" (no consent change)
    source: str = ""
    reply: str = ""  # the reply's purpose; for a consent change, only when the status changed
    signal: str = ""  # the carrier's OptOutType

    def __repr__(self) -> str:
        return f"Text({self.body!r}" + (f", OptOutType={self.signal!r})" if self.signal else ")")


def _texts(bodies: str, **meaning) -> list[Text]:
    return [Text(body, **meaning) for body in bodies.split("|")]


KEYWORD, CONFIRMATION = ConsentSource.KEYWORD, Purpose.OPT_OUT_CONFIRMATION
STOPS = 'STOP|stop| Stop |STOP!!|stop.|"Stop"|Opt-Out|unsubscribe|End'
STARTS = "START|start| Start! |unstop|yes|Subscribe."
TEXTS = st.one_of(  # a third each: opting out, opting in, anything else
    st.sampled_from(
        [
            *_texts(STOPS, effect=OUT, source=KEYWORD, reply=CONFIRMATION),
            *_texts(
                "Stop texting me|please unsubscribe me",
                effect=OUT,
                source=ConsentSource.PHRASE,
                reply=CONFIRMATION,
            ),
            Text("stop", effect=OUT, source=ConsentSource.CARRIER_SIGNAL, signal="STOP"),
        ]
    ),
    st.sampled_from(
        [
            *_texts(STARTS, effect=IN, source=KEYWORD, reply=Purpose.MESSAGE),
            Text("", effect=IN, source=ConsentSource.CARRIER_SIGNAL, signal="START"),
        ]
    ),
    st.sampled_from(
        [
            *_texts("HELP|help?| Info ", reply=Purpose.HELP_REPLY),
            *_texts("hello|Yes please send the quote|can't stop laughing|end of the month works"),
            Text("help me", signal="HELP"),
        ]
    ),
)


class Clock:
    """`django.utils.timezone.now` for the test: it moves only when the machine says."""

    def __init__(self, start: datetime):
        self.start = self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """What every example starts from (made once; each example's changes are rolled back)."""

    clock: Clock
    account: Account
    lines: list[Line]
    twilio: Client
    agent: AbstractBaseUser
    admin: AbstractBaseUser
    savepoints: list[str]  # the test's own transaction, which every example runs inside


@dataclass
class Inbound:
    pk: int
    params: dict[str, str]
    text: Text
    contact: int
    line: int

    def __repr__(self) -> str:
        return f"Inbound(#{self.pk}, {self.text!r}, contact={self.contact}, line={self.line})"


@dataclass
class Outbound:
    pk: int
    purpose: str
    contact: int
    line: int

    def __repr__(self) -> str:
        return f"Outbound(#{self.pk}, {self.purpose}, contact={self.contact}, line={self.line})"


@dataclass(frozen=True)
class Event:
    occurred_at: datetime
    order: int  # recording order: breaks ties on occurred_at
    status: str
    event_id: int  # the engine's ConsentEvent, to compare `cause` with


@dataclass
class PairModel:
    """One (contact, line): its consent history as the machine recorded it."""

    events: list[Event] = field(default_factory=list)
    changes: int = 0  # how many times the status changed, in recording order
    confirmations: list[tuple[datetime, int]] = field(default_factory=list)  # (sent at, changes)

    def history(self) -> list[Event]:
        """Newest first: by occurred_at, ties to the one recorded last."""
        return sorted(self.events, key=lambda event: (event.occurred_at, event.order), reverse=True)

    @property
    def status(self) -> str:
        return self.history()[0].status if self.events else ""

    def run_start(self) -> Event:
        history = self.history()
        start = history[0]
        for event in history:
            if event.status != history[0].status:
                break
            start = event
        return start

    def record(self, event: Event) -> str:
        """Add an event; its outcome by the rule of the module's docstring."""
        before = self.status
        latest = not self.events or self.history()[0].occurred_at <= event.occurred_at
        self.events.append(event)
        if not latest:
            return ConsentOutcome.SUPERSEDED
        if before == event.status:
            return ConsentOutcome.UNCHANGED
        self.changes += 1
        return ConsentOutcome.CHANGED


class ConsentMachine(RuleBasedStateMachine):
    def __init__(self, world: World):
        super().__init__()
        self.world = world
        self.lines = world.lines
        self.clock = world.clock
        self.clock.now = self.clock.start
        # Every example starts from the World and leaves nothing behind: a savepoint.
        assert connection.savepoint_ids == world.savepoints, "an example left a savepoint"
        assert not Message.objects.exists()
        assert not ConsentEvent.objects.exists()
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        locmem.outbox.clear()
        self.model = {
            (contact, line): PairModel()
            for contact in range(len(PHONES))
            for line in range(len(self.lines))
        }
        self.recorded = 0
        self.texts: list[Inbound] = []  # every text the webhook stored
        self.received: list[Inbound] = []  # stored, waiting for the inbound worker
        self.queued: list[Outbound] = []  # waiting for the delivery worker
        self.sent: set[int] = set()  # handed to the provider

    def teardown(self):
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)
        locmem.outbox.clear()

    # --- the model ------------------------------------------------------------------------

    def record(self, pair: tuple[int, int], status: str, event: ConsentEvent) -> str:
        self.recorded += 1
        return self.model[pair].record(Event(event.occurred_at, self.recorded, status, event.pk))

    def allowed(self, pair: tuple[int, int], purpose: str) -> bool:
        """Whether SPEC 6 lets a message of this purpose go to the pair now."""
        pair_model = self.model[pair]
        status = pair_model.status
        if purpose == Purpose.HELP_REPLY:
            return True
        if status == OUT:
            if purpose != Purpose.OPT_OUT_CONFIRMATION:
                return False
            since = pair_model.run_start().occurred_at
            already = any(
                sent_at >= since and changes == pair_model.changes
                for sent_at, changes in pair_model.confirmations
            )
            return self.clock.now - since <= CONFIRMATION_WINDOW and not already
        if purpose == Purpose.OPT_OUT_CONFIRMATION:
            return False
        return bool(status) or self.lines[pair[1]].consent_policy != ConsentPolicy.REQUIRE_OPT_IN

    def history(self, pair: tuple[int, int]) -> str:
        """The pair's model, for assertion messages."""
        pair_model = self.model[pair]
        events = [(e.occurred_at.time().isoformat(), e.order, e.status) for e in pair_model.events]
        return f"now {self.clock.now.time()}, events {events}, sent {pair_model.confirmations}"

    def conversation(self, contact: int, line: int) -> Conversation | None:
        return (
            Conversation.objects.select_related("contact", "line")
            .filter(contact__phone=PHONES[contact], line=self.lines[line])
            .first()
        )

    def gated(self, message: Message, pair: tuple[int, int]) -> None:
        """A message the gate just stored: blocked with a reason when the model refuses it."""
        if not self.allowed(pair, message.purpose):
            assert message.status == MessageStatus.BLOCKED, self.history(pair)
        elif message.purpose != Purpose.OPT_OUT_CONFIRMATION:
            assert message.status == MessageStatus.QUEUED, (
                message.blocked_reason,
                self.history(pair),
            )
        if message.status == MessageStatus.BLOCKED:
            assert message.blocked_reason.startswith("Not sent: ")
        else:
            assert (message.status, message.blocked_reason) == (MessageStatus.QUEUED, "")
            self.queued.append(Outbound(message.pk, message.purpose, *pair))

    # --- contacts and Twilio ------------------------------------------------------------------

    @rule(wait=WAITS, contact=CONTACTS, line=LINES, text=TEXTS)
    def a_contact_texts(self, wait, contact, line, text):
        self.clock.now += wait
        self.post(contact, line, text)

    @rule(
        contact=CONTACTS,
        line=LINES,
        texts=st.lists(st.tuples(WAITS, TEXTS), min_size=2, max_size=4),
    )
    def a_contact_texts_several_at_once(self, contact, line, texts):
        """Before the worker gets to the first ("STOP", "no wait, START", "STOP")."""
        for wait, text in texts:
            self.clock.now += wait
            self.post(contact, line, text)

    def post(self, contact: int, line: int, text: Text) -> None:
        extra = {"OptOutType": text.signal} if text.signal else {}
        params = inbound_params(self.lines[line], sender=PHONES[contact], body=text.body, **extra)
        response = post_inbound(self.world.twilio, params)
        assert response.status_code == 200, response.content
        message = Message.objects.get(
            direction=Direction.INBOUND, provider_message_id=params["MessageSid"]
        )
        assert (message.status, message.occurred_at) == (MessageStatus.RECEIVED, self.clock.now)
        self.texts.append(Inbound(message.pk, params, text, contact, line))
        self.received.append(self.texts[-1])

    @precondition(lambda self: self.texts)
    @rule(data=st.data())
    def twilio_posts_one_again(self, data):
        message = data.draw(st.sampled_from(self.texts), label="again")
        response = post_inbound(self.world.twilio, message.params)
        assert response.status_code == 200, response.content
        sid = message.params["MessageSid"]
        assert Message.objects.filter(provider_message_id=sid).count() == 1

    # --- the inbound worker -------------------------------------------------------------------

    @precondition(lambda self: self.received)
    @rule(wait=WAITS, data=st.data(), again=st.booleans())
    def a_worker_processes(self, wait, data, again):
        """Process one of the stored messages, whichever; `again`: the task runs a second
        time (a worker died after the commit, or the sweep queued it again)."""
        self.clock.now += wait
        self.process(data.draw(st.sampled_from(self.received), label="message"), again=again)

    @precondition(lambda self: len(self.received) > 1)
    @rule(wait=WAITS, data=st.data())
    def workers_catch_up_on_a_backlog(self, wait, data):
        """Every stored message, in any order (say, the broker was down for a while)."""
        self.clock.now += wait
        for message in data.draw(st.permutations(self.received), label="order"):
            self.process(message, again=False)

    def process(self, message: Inbound, *, again: bool) -> None:
        self.received.remove(message)
        pair, text = (message.contact, message.line), message.text
        tasks.process_inbound_message(message.pk)
        stored = Message.objects.select_related("contact").get(pk=message.pk)
        assert stored.status == MessageStatus.PROCESSED
        assert stored.contact.phone == PHONES[message.contact]
        if again:
            counts = (ConsentEvent.objects.count(), Message.objects.count())
            tasks.process_inbound_message(message.pk)
            assert (ConsentEvent.objects.count(), Message.objects.count()) == counts

        events = list(ConsentEvent.objects.filter(message_id=message.pk))
        changed = False
        if not text.effect:
            assert events == []
        else:
            before = self.model[pair].status
            [event] = events
            outcome = self.record(pair, text.effect, event)
            changed = outcome == ConsentOutcome.CHANGED
            line_id = self.lines[message.line].pk
            assert (event.contact_id, event.line_id) == (stored.contact_id, line_id)
            assert (event.status, event.source) == (text.effect, text.source)
            assert (event.occurred_at, event.previous_status) == (stored.occurred_at, before)
            assert event.outcome == outcome, (event.outcome, outcome, self.history(pair))

        replies = list(Message.objects.filter(in_reply_to_id=message.pk))
        expected = bool(text.reply) and (not text.effect or changed)
        assert len(replies) == int(expected), (message, changed, replies)
        if replies:
            [reply] = replies
            assert (reply.direction, reply.purpose) == (Direction.OUTBOUND, text.reply)
            assert (reply.contact_id, reply.line_id) == (stored.contact_id, stored.line_id)
            self.gated(reply, pair)

    # --- agents on the Conversations page ------------------------------------------------------

    def record_from_panel(self, user, contact: int, line: int, status: str, note: str):
        """What the contact panel's form does (ConversationConsentView): the event recorded,
        or None when refused or when there is no conversation to open yet."""
        conversation = self.conversation(contact, line)
        if conversation is None:
            return None
        last = ConsentEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        try:
            conversation_record_consent(
                conversation=conversation,
                user=user,
                status=status,
                note=note,
                asked_by=AskedBy.PHONE_CALL if status == OUT else "",
            )
        except (ValidationError, PermissionDenied):
            assert (user, status) == (self.world.agent, IN)
            assert not ConsentEvent.objects.filter(pk__gt=last).exists()
            return None
        [event] = ConsentEvent.objects.filter(pk__gt=last)
        outcome = self.record((contact, line), status, event)
        assert (event.status, event.source, event.user_id) == (status, ConsentSource.AGENT, user.pk)
        assert (event.occurred_at, event.outcome) == (self.clock.now, outcome)
        return event

    @rule(wait=WAITS, contact=CONTACTS, line=LINES, who=st.sampled_from(PANEL_ACTIONS))
    def staff_record_consent(self, wait, contact, line, who):
        """An agent records an opt-out; an admin an opt-in, which an agent may not."""
        self.clock.now += wait
        role, status = who.split(" ")
        user = self.world.admin if role == "admin" else self.world.agent
        event = self.record_from_panel(user, contact, line, status, "Asked by phone.")
        if role == "agent" and status == IN:
            assert event is None

    @rule(wait=WAITS, contact=CONTACTS, line=LINES)
    def an_agent_sends(self, wait, contact, line):
        """What the composer does (ConversationDetailView.post): through the gate."""
        self.clock.now += wait
        conversation = self.conversation(contact, line)
        if conversation is None:
            return
        body = "Your quote is ready"
        try:
            message = send_message(
                contact=conversation.contact,
                line=conversation.line,
                body=body,
                sent_by=self.world.agent,
            )
        except SendBlocked as blocked:
            message, reason = blocked.message, blocked.reason
        else:
            reason = ""
        message.refresh_from_db()
        assert reason == message.blocked_reason
        assert (message.direction, message.purpose, message.body) == (
            Direction.OUTBOUND,
            Purpose.MESSAGE,
            body,
        )
        self.gated(message, (contact, line))

    # --- the delivery worker ---------------------------------------------------------------

    @precondition(lambda self: self.queued)
    @rule(wait=WAITS, data=st.data(), again=st.booleans())
    def a_worker_delivers(self, wait, data, again):
        """Hand one of the queued messages to the provider, unless the gate now refuses it;
        `again`: the task runs a second time, which changes nothing."""
        self.clock.now += wait
        self.deliver(data.draw(st.sampled_from(self.queued), label="message"), again=again)

    @precondition(lambda self: len(self.queued) > 1)
    @rule(wait=WAITS, data=st.data())
    def the_delivery_worker_catches_up(self, wait, data):
        self.clock.now += wait
        for message in data.draw(st.permutations(self.queued), label="order"):
            self.deliver(message, again=False)

    def deliver(self, message: Outbound, *, again: bool) -> None:
        self.queued.remove(message)
        pair = (message.contact, message.line)
        allowed = self.allowed(pair, message.purpose)
        before = len(locmem.outbox)
        tasks.deliver_message(message.pk)
        stored = Message.objects.get(pk=message.pk)
        if stored.status == MessageStatus.SENT:
            assert allowed, (message, self.history(pair))
            [sms] = locmem.outbox[before:]
            assert (sms.reference, sms.to_number, sms.from_number) == (
                str(message.pk),
                PHONES[message.contact],
                self.lines[message.line].number,
            )
            self.sent.add(message.pk)
            if message.purpose == Purpose.OPT_OUT_CONFIRMATION:
                self.model[pair].confirmations.append((self.clock.now, self.model[pair].changes))
        else:
            assert stored.status == MessageStatus.BLOCKED
            assert stored.blocked_reason.startswith("Not sent: ")
            assert len(locmem.outbox) == before
            if message.purpose != Purpose.OPT_OUT_CONFIRMATION:
                assert not allowed, (message, stored.blocked_reason, self.history(pair))
        if again:
            before = len(locmem.outbox)
            tasks.deliver_message(message.pk)
            assert Message.objects.get(pk=message.pk).status == stored.status
            assert len(locmem.outbox) == before

    @rule(minutes=st.sampled_from([2, 6]))
    def time_passes(self, minutes):
        """Six minutes: past the five an opt-out confirmation may take."""
        self.clock.now += timedelta(minutes=minutes)

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def consent_is_the_latest_event(self):
        rows = {
            (phone, line): (status, since, cause, latest_at)
            for phone, line, status, since, cause, latest_at in Consent.objects.values_list(
                "contact__phone", "line_id", "status", "since", "cause_id", "latest_at"
            )
        }
        log: dict[tuple[str, int], list[tuple]] = {}
        for phone, line, status, outcome, occurred_at, pk in ConsentEvent.objects.values_list(
            "contact__phone", "line_id", "status", "outcome", "occurred_at", "pk"
        ):
            log.setdefault((phone, line), []).append((occurred_at, pk, status, outcome))
        for (contact, line), pair_model in self.model.items():
            key = (PHONES[contact], self.lines[line].pk)
            row, events = rows.pop(key, None), log.pop(key, [])
            assert len(events) == len(pair_model.events)
            if not pair_model.events:
                assert row is None
                continue
            start, latest = pair_model.run_start(), pair_model.history()[0]
            expected = (pair_model.status, start.occurred_at, start.event_id, latest.occurred_at)
            assert row == expected, self.history((contact, line))
            # The event log alone says the same: its latest event, refused ones aside.
            applied = [event for event in events if event[3] != ConsentOutcome.REFUSED]
            assert max(applied)[2] == row[0]
        assert rows == {}
        assert log == {}

    @invariant()
    def the_provider_got_exactly_what_was_allowed(self):
        messages = list(
            Message.objects.values_list(
                "pk", "direction", "status", "blocked_reason", "in_reply_to"
            )
        )
        events_by_message = Counter(
            ConsentEvent.objects.filter(message__isnull=False).values_list("message_id", flat=True)
        )
        # At most one event and one reply per inbound message.
        assert set(events_by_message.values()) <= {1}
        assert set(Counter(reply_to for *_, reply_to in messages if reply_to).values()) <= {1}
        # Every text the provider got passed the model's gate when handed over (checked in
        # `deliver`); none went any other way, each is stored as sent, and every refused one
        # is stored as blocked with its reason.
        assert sorted(int(sms.reference) for sms in locmem.outbox) == sorted(self.sent)
        assert {pk for pk, _, status, *_ in messages if status == MessageStatus.SENT} == self.sent
        for _, direction, status, reason, _ in messages:
            assert (status == MessageStatus.BLOCKED) == bool(reason)
            assert direction == Direction.OUTBOUND or status in (
                MessageStatus.RECEIVED,
                MessageStatus.PROCESSED,
            )


@pytest.fixture
def world(db, monkeypatch) -> World:
    clock = Clock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(timezone, "now", clock)
    # The clock starts at the real time, which may be night where the contacts live; quiet
    # hours (tested on their own) would then hold every text, and the model has no clock of day.
    account = Account.objects.create(
        name="Acme Plumbing",
        help_contact="help@acme.example",
        twilio_auth_token=TOKEN,
        quiet_hours_enabled=False,
    )
    lines = [
        Line.objects.create(account=account, number="+14155550100", name="Sales"),
        Line.objects.create(
            account=account,
            number="+14155550101",
            name="Support",
            consent_policy=ConsentPolicy.REQUIRE_OPT_IN,
        ),
    ]
    for phone in PHONES[:KNOWN_CONTACTS]:
        contact = Contact.objects.create(account=account, phone=phone)
        for line in lines:
            conversation_touch(contact=contact, line=line, at=clock.now)
    agent, admin = make_user(account, Role.AGENT), make_user(account, Role.ADMIN)
    assert connection.in_atomic_block  # on_commit callbacks wait: the machine runs the workers
    return World(clock, account, lines, Client(), agent, admin, list(connection.savepoint_ids))


def test_consent_and_the_send_gate_hold_under_any_interleaving(world):
    run_state_machine_as_test(
        lambda: ConsentMachine(world),
        settings=settings(
            max_examples=60,
            stateful_step_count=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )


def test_one_confirmation_per_opt_out_when_a_late_start_moves_since(world):
    """A sequence the machine can reach, rarely at random: the contact texts STOP, START,
    STOP, START, STOP on one line while the workers lag. Two confirmations are queued, one per
    STOP that changed the status; the last START, processed after the last STOP, is older and
    only recorded, which moves `since` to the last STOP, past both confirmations' creation. A
    gate that counted only confirmations created since `since` let both reach the provider."""
    machine = ConsentMachine(world)
    stop = Text("STOP", effect=OUT, source=KEYWORD, reply=CONFIRMATION)
    start = Text("START", effect=IN, source=KEYWORD, reply=Purpose.MESSAGE)

    def text(what: Text) -> Inbound:
        machine.a_contact_texts(SECOND, 0, 0, what)
        return machine.texts[-1]

    def process(*messages: Inbound) -> None:
        machine.clock.now += SECOND
        for message in messages:
            machine.process(message, again=False)
        machine.consent_is_the_latest_event()

    try:
        process(text(stop))  # opted out; confirmation 1 queued
        process(text(start))  # opted in
        process(text(stop))  # opted out; confirmation 2 queued (1 was created before this STOP)
        late_start, last_stop = text(start), text(stop)
        process(last_stop, late_start)  # unchanged, then superseded: since = the last STOP
        confirmations = [m for m in machine.queued if m.purpose == Purpose.OPT_OUT_CONFIRMATION]
        assert len(confirmations) == 2
        for confirmation in confirmations:
            machine.clock.now += SECOND
            machine.deliver(confirmation, again=False)  # the second one must be blocked
            machine.the_provider_got_exactly_what_was_allowed()
        assert len(machine.sent & {confirmation.pk for confirmation in confirmations}) == 1
    finally:
        machine.teardown()
