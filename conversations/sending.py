"""The send gate: every outbound message passes here, whoever asks for it.

A message to a contact who opted out of the line (or, on a `require opt-in` line, never opted
in) is stored as `blocked` with the reason and the caller gets `SendBlocked`. The worker checks
again right before calling the provider, holding the contact's row lock so that an opt-out
cannot slip in between the check and the send.
"""

import logging
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from conversations.backends import ProviderRejected, ProviderUnavailable, get_backend
from conversations.backends.base import OutgoingSms
from conversations.models import (
    Direction,
    Message,
    MessageStatus,
)
from conversations.services import conversation_touch
from conversations.signals import message_blocked, message_status_changed
from core.bulk_sql import update_rows
from core.queueing import enqueue_on_commit
from core.segments import MAX_BODY_LENGTH
from crm import consent
from crm.gate import Purpose, block_reason
from crm.models import Consent, ConsentSource, Contact, Line
from crm.quiet_hours import QuietHours
from crm.selectors import contact_consent_on_line
from crm.services import contact_get_or_create

logger = logging.getLogger(__name__)

UNSUBSCRIBED_RECIPIENT_ERROR = "21610"
UNCONFIRMED_ERROR = "unconfirmed"
DELIVERY_BATCH_SIZE = 500
# Messages handed over under one lock of their contacts: small enough that an opt-out arriving
# for one of them waits a few provider calls at most.
DELIVER_GROUP_SIZE = 25
AGENT_REPLY_WINDOW = timedelta(hours=24)
# A "send at" typed a moment ago (to the minute) is now, not the past.
SEND_AT_SLACK = timedelta(minutes=2)
SEND_AHEAD_AT_MOST = timedelta(days=365)
# The tasks that run `deliver` (conversations.tasks registers them under these names).
DELIVER_TASK = "conversations.tasks.deliver_message"
DELIVER_MANY_TASK = "conversations.tasks.deliver_messages"


class SendBlocked(Exception):
    """The gate refused the message; `message` is the stored blocked record."""

    def __init__(self, message: Message):
        super().__init__(message.blocked_reason)
        self.message = message
        self.reason = message.blocked_reason


def send_message(
    *,
    contact: Contact,
    line: Line,
    body: str,
    sent_by: AbstractBaseUser | None = None,
    purpose: str = Purpose.MESSAGE,
    in_reply_to: Message | None = None,
    send_at: datetime | None = None,
) -> Message:
    """Queue a message to the contact on the line, or store it blocked and raise SendBlocked.

    `in_reply_to` marks an automatic reply to an inbound message; there is at most one. With
    `send_at` in the future the message waits as `scheduled`; one that would reach the contact
    inside quiet hours waits for the next allowed moment (deferred, never dropped). The gate is
    asked now, for the answer people see, and again when the message is handed over.
    """
    _check_request(contact_account_id=contact.account_id, line=line, body=body, send_at=send_at)
    now = timezone.now()
    with transaction.atomic():
        reason = _gate(contact, line, purpose, now=now)
        conversation_touch(contact=contact, line=line, at=now, moves_up=not reason)
        due = max(send_at or now, now)
        # Whether the contact wrote in the 24 hours before the message goes, not before now.
        exempt = quiet_hours_exempt(
            contact=contact,
            line=line,
            purpose=purpose,
            in_reply_to=in_reply_to,
            sent_by=sent_by,
            now=due,
        )
        goes_at = (
            due
            if exempt
            else quiet_hours_of(line).next_allowed(contact.phone, due, fallback_phone=line.number)
        )
        message = outbound_message(
            contact=contact,
            line=line,
            body=body,
            reason=reason,
            goes_at=goes_at,
            due=due,
            now=now,
            purpose=purpose,
            sent_by=sent_by,
            in_reply_to=in_reply_to,
            quiet_hours_exempt=exempt,
        )
        message.save()
        if message.status == MessageStatus.QUEUED:
            enqueue_on_commit(DELIVER_TASK, message.pk)
        elif message.status == MessageStatus.BLOCKED:
            message_blocked.send(sender=Message, messages=[message])
    if reason:
        raise SendBlocked(message)
    return message


def outbound_message(
    *,
    contact: Contact,
    line: Line,
    body: str,
    reason: str,
    goes_at: datetime,
    due: datetime,
    now: datetime,
    **fields,
) -> Message:
    """An outbound message, unsaved, as the gate and quiet hours leave it: blocked with the
    gate's reason, queued, or scheduled for `goes_at` (deferred when quiet hours moved it past
    `due`, the time it was asked for)."""
    if reason:
        status = MessageStatus.BLOCKED
    else:
        status = MessageStatus.QUEUED if goes_at <= now else MessageStatus.SCHEDULED
    scheduled = status == MessageStatus.SCHEDULED
    return Message(
        line=line,
        contact=contact,
        remote_number=contact.phone,
        direction=Direction.OUTBOUND,
        body=body,
        status=status,
        blocked_reason=reason,
        scheduled_for=goes_at if scheduled else None,
        deferred_by_quiet_hours=scheduled and goes_at > due,
        occurred_at=now,
        **fields,
    )


def quiet_hours_of(line: Line) -> QuietHours:
    return QuietHours.of(line.account)


def quiet_hours_exempt(
    *,
    contact: Contact,
    line: Line,
    purpose: str,
    in_reply_to: Message | None,
    sent_by: AbstractBaseUser | None,
    now: datetime,
) -> bool:
    """Whether a text goes whatever the hour (SPEC 9): HELP replies, confirmations and keyword
    replies, and an agent's message in a conversation the contact wrote to in the last day."""
    if purpose != Purpose.MESSAGE or in_reply_to is not None:
        return True
    if sent_by is None:
        return False
    return contact_wrote_recently(contact=contact, line=line, now=now)


def contact_wrote_recently(*, contact: Contact, line: Line, now: datetime) -> bool:
    return Message.objects.filter(
        contact=contact,
        line=line,
        direction=Direction.INBOUND,
        occurred_at__gte=now - AGENT_REPLY_WINDOW,
    ).exists()


def deferred_until(*, line: Line, phone: str, contact: Contact | None = None) -> datetime | None:
    """When an agent's message typed now would go: None for now, else the moment quiet hours
    defer it to (for the composer, before anything is sent)."""
    now = timezone.now()
    if contact is not None and contact_wrote_recently(contact=contact, line=line, now=now):
        return None
    goes_at = quiet_hours_of(line).next_allowed(phone, now, fallback_phone=line.number)
    return goes_at if goes_at > now else None


def send_new_message(
    *,
    line: Line,
    body: str,
    sent_by: AbstractBaseUser | None,
    contact: Contact | None = None,
    phone: str = "",
    send_at: datetime | None = None,
) -> Message:
    """An agent (or, with no `sent_by`, another system through the API) texting first, to a
    contact or a new number (the contact is created then): the conversation is opened and the
    message goes through `send_message`, the gate's one door. A blocked attempt is stored as
    evidence and raises SendBlocked, as there."""
    if contact is None:
        _check_request(contact_account_id=line.account_id, line=line, body=body, send_at=send_at)
        contact, _ = contact_get_or_create(account=line.account, phone=phone)
    return send_message(contact=contact, line=line, body=body, sent_by=sent_by, send_at=send_at)


def deliver(message_id: int) -> None:
    """Hand a queued message to the provider, unless the contact opted out since it was queued.

    At most once: the message is first claimed as `sending` in a transaction of its own, so a
    repeated task, or one run again after its worker died during the provider call, finds it
    taken and does nothing; the sweep later marks a message left `sending` as failed and
    unconfirmed rather than risk texting the contact twice. When the provider certainly took
    nothing (unavailable, or an error before the call), the message goes back to the queue and
    the error is raised, so the task retries. A message that would now reach the contact inside
    quiet hours (a queue that ran late) is deferred again.
    """
    deliver_many([message_id])


def deliver_many(message_ids: list[int]) -> None:
    """`deliver` for many messages, a group at a time in a fixed number of statements.

    Each group is claimed, then its contacts locked together (in id order) and their consent
    read in one query; each message passes the gate and quiet hours at that moment, while
    the lock keeps an opt-out from slipping in before the provider call.
    """
    for start in range(0, len(message_ids), DELIVER_GROUP_SIZE):
        _deliver_group(message_ids[start : start + DELIVER_GROUP_SIZE])


def _deliver_group(message_ids: list[int]) -> None:
    claimed = _claim(message_ids)
    if not claimed:
        return
    outcome = _GroupOutcome()
    try:
        with transaction.atomic():
            messages = list(
                Message.objects.select_for_update(of=("self",), no_key=True)
                .select_related("line__account", "contact")
                .filter(pk__in=claimed, status=MessageStatus.SENDING)
                .order_by("pk")
            )
            consent.lock_contacts(sorted({message.contact_id for message in messages}))
            statuses = _consents_of(messages)
            now = timezone.now()
            for message in messages:
                if outcome.failure is not None:
                    break
                _deliver_one(message, statuses, now, outcome)
            outcome.write()
    except BaseException:
        # Nothing of the group was written: what the provider may have is left `sending`
        # (failed as unconfirmed by the sweep), the rest goes back to the queue.
        _put_back([pk for pk in claimed if pk not in outcome.attempted or pk in outcome.untried])
        raise
    _put_back([pk for pk in claimed if pk not in outcome.reached or pk in outcome.untried])
    if outcome.failure is not None:
        raise outcome.failure


class _GroupOutcome:
    """What happened to each message of a group, written in a few statements at the end."""

    def __init__(self):
        self.sent: list[Message] = []
        self.blocked: list[Message] = []
        self.deferred: list[Message] = []
        self.cancelled: list[Message] = []
        self.reached: set[int] = set()
        self.attempted: set[int] = set()
        self.untried: set[int] = set()
        self.failure: BaseException | None = None

    def write(self) -> None:
        now = timezone.now()
        for message in self.sent:
            message.sent_at = now
        update_rows(
            Message,
            ["status", "provider_message_id", "sent_at", "updated_at"],
            [
                (message.pk, message.status, message.provider_message_id, now, now)
                for message in self.sent
            ],
        )
        update_rows(
            Message,
            ["status", "blocked_reason", "updated_at"],
            [(message.pk, message.status, message.blocked_reason, now) for message in self.blocked],
        )
        update_rows(
            Message,
            ["status", "updated_at"],
            [(message.pk, message.status, now) for message in self.cancelled],
        )
        update_rows(
            Message,
            ["status", "scheduled_for", "deferred_by_quiet_hours", "updated_at"],
            [
                (message.pk, message.status, message.scheduled_for, True, now)
                for message in self.deferred
            ],
        )
        if self.sent:
            message_status_changed.send(sender=Message, messages=self.sent)
        if self.blocked:
            message_blocked.send(sender=Message, messages=self.blocked)


def _deliver_one(message: Message, statuses: dict, now: datetime, outcome: _GroupOutcome) -> None:
    if message.cancelled_by_id is not None:
        # Cancelled (with its broadcast) after this worker claimed it: it does not go.
        message.status = MessageStatus.CANCELLED
        outcome.cancelled.append(message)
        outcome.reached.add(message.pk)
        return
    status, since = statuses.get((message.contact_id, message.line_id), ("", None))
    if message.purpose == Purpose.OPT_OUT_CONFIRMATION:
        reason = _gate(message.contact, message.line, message.purpose, exclude=message)
    else:
        reason = block_reason(
            line=message.line, status=status, since=since, purpose=message.purpose, now=now
        )
    outcome.reached.add(message.pk)
    if reason:
        message.status, message.blocked_reason = MessageStatus.BLOCKED, reason
        outcome.blocked.append(message)
        return
    if not message.quiet_hours_exempt:
        goes_at = quiet_hours_of(message.line).next_allowed(
            message.remote_number, now, fallback_phone=message.line.number
        )
        if goes_at > now:
            message.status, message.scheduled_for = MessageStatus.SCHEDULED, goes_at
            message.deferred_by_quiet_hours = True
            outcome.deferred.append(message)
            return
    outcome.attempted.add(message.pk)
    try:
        provider_id = _hand_over(message)
    except ProviderUnavailable as error:
        outcome.untried.add(message.pk)
        outcome.failure = error
        return
    except Exception as error:
        # Whether the provider took it is unknown: it stays `sending`, and the sweep fails it
        # as unconfirmed rather than text the contact twice.
        outcome.failure = error
        return
    if provider_id is None:
        # Refused for good; a 21610 has opted the contact out (perhaps of every line), which
        # the group's next texts to the contact must see.
        statuses.update(_consents_of_contact(message.contact_id))
        return
    message.status, message.provider_message_id = MessageStatus.SENT, provider_id
    outcome.sent.append(message)


def _consents_of(messages: list[Message]) -> dict[tuple[int, int], tuple[str, datetime]]:
    """(contact, line) → (status, since) for the messages' pairs, in one query."""
    pairs = {(message.contact_id, message.line_id) for message in messages}
    rows = Consent.objects.filter(
        contact_id__in={contact for contact, _ in pairs},
        line_id__in={line for _, line in pairs},
    ).values_list("contact_id", "line_id", "status", "since")
    return {(contact, line): (status, since) for contact, line, status, since in rows}


def _consents_of_contact(contact_id: int) -> dict[tuple[int, int], tuple[str, datetime]]:
    rows = Consent.objects.filter(contact_id=contact_id).values_list("line_id", "status", "since")
    return {(contact_id, line): (status, since) for line, status, since in rows}


def messages_due(*, now: datetime | None = None, limit: int = 10_000) -> list[int]:
    """Queue the scheduled messages whose time has come; their ids, to hand to workers.

    The gate and quiet hours are asked again when each is handed over."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.SCHEDULED, scheduled_for__lte=now)
            .order_by("scheduled_for", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        Message.objects.filter(pk__in=due, status=MessageStatus.SCHEDULED).update(
            status=MessageStatus.QUEUED, updated_at=now
        )
    return due


@transaction.atomic
def message_cancel(*, message: Message, user: AbstractBaseUser) -> Message:
    """Cancel a message that waits for its time (scheduled, or deferred by quiet hours)."""
    locked = Message.objects.select_for_update().get(pk=message.pk)
    if locked.status != MessageStatus.SCHEDULED:
        status = locked.get_status_display().lower()
        raise ValidationError(f"Only a scheduled message can be cancelled; this one is {status}.")
    locked.status = MessageStatus.CANCELLED
    locked.cancelled_by = user
    locked.save(update_fields=["status", "cancelled_by", "updated_at"])
    return locked


def _claim(message_ids: list[int]) -> list[int]:
    """Take the queued ones among these messages as `sending`, in a transaction of its own."""
    with transaction.atomic():
        queued = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk__in=message_ids, status=MessageStatus.QUEUED)
            .values_list("pk", flat=True)
        )
        Message.objects.filter(pk__in=queued).update(
            status=MessageStatus.SENDING, updated_at=timezone.now()
        )
    return queued


def _put_back(message_ids: list[int]) -> None:
    Message.objects.filter(pk__in=message_ids, status=MessageStatus.SENDING).update(
        status=MessageStatus.QUEUED, updated_at=timezone.now()
    )


def _hand_over(message: Message) -> str | None:
    """The provider's id for the message, or None when the provider refused it for good."""
    sms = OutgoingSms(
        from_number=message.line.number,
        to_number=message.remote_number,
        body=message.body,
        reference=str(message.pk),
        account_sid=message.line.account.twilio_account_sid,
        auth_token=message.line.account.twilio_auth_token,
    )
    try:
        return get_backend().send(sms)
    except ProviderRejected as rejection:
        try:
            with transaction.atomic():
                _finish(message, status=MessageStatus.FAILED, error_code=rejection.code)
                message_status_changed.send(sender=Message, messages=[message])
                opt_out_if_unsubscribed(
                    message=message, error_code=rejection.code, detail=rejection.detail
                )
        except OperationalError as error:
            raise RefusalNotRecorded(f"Message {message.pk}: {rejection}") from error
        except Exception:
            logger.exception("Refusal of message %s (%s) not recorded", message.pk, rejection)
            raise
        return None


class RefusalNotRecorded(ProviderUnavailable):
    """The provider refused a message for good, but a passing database failure (a deadlock,
    a lost connection, a full disk) kept its failure or the opt-out a 21610 calls for from
    being written. Neither is kept without the other: the message goes back to the queue
    untouched and the task retries, which is safe because a refused message reached no one;
    the provider refuses it again and the refusal is recorded then. Any other error is a bug
    that retrying would only repeat: it is logged and the message ends as unconfirmed."""


def opt_out_if_unsubscribed(*, message: Message, error_code: str, detail: str = "") -> None:
    """A provider refusing a message because the recipient unsubscribed with the carrier
    (Twilio 21610) is an opt-out on the message's line, the message its evidence (SPEC 5).
    Whether the refusal came back from the send call or later in a status callback."""
    if error_code != UNSUBSCRIBED_RECIPIENT_ERROR:
        return
    consent.opt_out(
        contact=message.contact,
        line=message.line,
        source=ConsentSource.PROVIDER_ERROR,
        message=message,
        note=detail or f"Provider error {error_code}: recipient unsubscribed.",
    )


def stalled_outbound(*, older_than: datetime, limit: int = 10_000) -> list[int]:
    """Messages queued before `older_than` and never handed to a worker (a broker down when
    they were queued), oldest first."""
    return list(
        Message.objects.filter(
            direction=Direction.OUTBOUND, status=MessageStatus.QUEUED, updated_at__lt=older_than
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def mark_unconfirmed(*, older_than: datetime) -> int:
    """Fail messages left `sending` by a worker that stopped during the provider call.

    Whether the provider took them is unknown, so they are not sent again: a contact is never
    texted twice. The thread shows them as failed and unconfirmed, and the change is announced
    like any other status.
    """
    stale = list(
        Message.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("line")
        .filter(
            direction=Direction.OUTBOUND, status=MessageStatus.SENDING, updated_at__lt=older_than
        )
    )
    now = timezone.now()
    Message.objects.filter(pk__in=[message.pk for message in stale]).update(
        status=MessageStatus.FAILED, error_code=UNCONFIRMED_ERROR, updated_at=now
    )
    for message in stale:
        message.status, message.error_code, message.updated_at = (
            MessageStatus.FAILED,
            UNCONFIRMED_ERROR,
            now,
        )
    if stale:
        message_status_changed.send(sender=Message, messages=stale)
    return len(stale)


def _finish(message: Message, **changes) -> None:
    for field, value in changes.items():
        setattr(message, field, value)
    message.save(update_fields=[*changes, "updated_at"])


def send_at_problem(send_at: datetime | None) -> str:
    """Why a message (or broadcast) cannot be scheduled for this time, or ""."""
    if send_at is None:
        return ""
    now = timezone.now()
    if send_at < now - SEND_AT_SLACK:
        return "This time has passed: leave it empty to send now."
    if send_at > now + SEND_AHEAD_AT_MOST:
        return "A message can be scheduled at most a year ahead."
    return ""


def _check_request(
    *, contact_account_id: int, line: Line, body: str, send_at: datetime | None = None
) -> None:
    if problem := send_at_problem(send_at):
        raise ValidationError({"send_at": problem})
    if contact_account_id != line.account_id:
        raise ValidationError("The contact and the line belong to different accounts.")
    if not body.strip():
        raise ValidationError("Type a message to send.")
    if len(body) > MAX_BODY_LENGTH:
        raise ValidationError(
            f"A message is at most {MAX_BODY_LENGTH:,} characters; this one has {len(body):,}."
        )


def _gate(
    contact: Contact,
    line: Line,
    purpose: str,
    *,
    now: datetime | None = None,
    exclude: Message | None = None,
) -> str:
    current = contact_consent_on_line(contact, line)
    confirmation_sent = False
    if purpose == Purpose.OPT_OUT_CONFIRMATION and current.is_opted_out:
        # One confirmation per opt-out: one queued since it began, or handed over since (a
        # late, older event can move `since` past confirmations queued for earlier opt-outs).
        handed_over = [MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED]
        earlier = Message.objects.filter(
            Q(created_at__gte=current.since, status=MessageStatus.QUEUED)
            | Q(status__in=handed_over)
            & (Q(created_at__gte=current.since) | Q(updated_at__gte=current.since)),
            contact=contact,
            line=line,
            purpose=Purpose.OPT_OUT_CONFIRMATION,
        )
        if exclude is not None:
            earlier = earlier.exclude(pk=exclude.pk)
        confirmation_sent = earlier.exists()
    return block_reason(
        line=line,
        status=current.status,
        since=current.since,
        purpose=purpose,
        confirmation_sent=confirmation_sent,
        now=now,
    )
