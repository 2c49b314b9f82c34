"""The send gate: every outbound message passes here, whoever asks for it.

A message to a contact who opted out of the line (or, on a `require opt-in` line, never opted
in) is stored as `blocked` with the reason and the caller gets `SendBlocked`. The worker checks
again right before calling the provider, holding the contact's row lock so that an opt-out
cannot slip in between the check and the send.
"""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
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
from core.queueing import enqueue_on_commit
from core.segments import MAX_BODY_LENGTH
from crm import consent
from crm.gate import Purpose, block_reason
from crm.models import ConsentSource, Contact, Line
from crm.selectors import contact_consent_on_line

UNSUBSCRIBED_RECIPIENT_ERROR = "21610"
UNCONFIRMED_ERROR = "unconfirmed"
DELIVERY_BATCH_SIZE = 500
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
) -> Message:
    """Queue a message to the contact on the line, or store it blocked and raise SendBlocked.

    `in_reply_to` marks an automatic reply to an inbound message; there is at most one.
    """
    _check_request(contact_account_id=contact.account_id, line=line, body=body)
    now = timezone.now()
    with transaction.atomic():
        conversation_touch(contact=contact, line=line, at=now)
        reason = _gate(contact, line, purpose, now=now)
        message = Message.objects.create(
            line=line,
            contact=contact,
            remote_number=contact.phone,
            direction=Direction.OUTBOUND,
            body=body,
            status=MessageStatus.BLOCKED if reason else MessageStatus.QUEUED,
            blocked_reason=reason,
            purpose=purpose,
            sent_by=sent_by,
            in_reply_to=in_reply_to,
            occurred_at=now,
        )
        if not reason:
            enqueue_on_commit(DELIVER_TASK, message.pk)
    if reason:
        raise SendBlocked(message)
    return message


def deliver(message_id: int) -> None:
    """Hand a queued message to the provider, unless the contact opted out since it was queued.

    At most once: the message is first claimed as `sending` in a transaction of its own, so a
    repeated task, or one run again after its worker died during the provider call, finds it
    taken and does nothing; the sweep later marks a message left `sending` as failed and
    unconfirmed rather than risk texting the contact twice. When the provider certainly took
    nothing (unavailable, or an error before the call), the message goes back to the queue and
    the error is raised, so the task retries.
    """
    if not _claim(message_id):
        return
    provider_may_have_it = False
    try:
        with transaction.atomic():
            message = (
                Message.objects.select_for_update(of=("self",), no_key=True)
                .select_related("line__account", "contact")
                .filter(pk=message_id, status=MessageStatus.SENDING)
                .first()
            )
            if message is None:
                return
            consent.lock_contact(message.contact_id)
            reason = _gate(message.contact, message.line, message.purpose, exclude=message)
            if reason:
                _finish(message, status=MessageStatus.BLOCKED, blocked_reason=reason)
                return
            provider_may_have_it = True
            provider_id = _hand_over(message)
            if provider_id is not None:
                _finish(message, status=MessageStatus.SENT, provider_message_id=provider_id)
    except ProviderUnavailable:
        _put_back(message_id)
        raise
    except Exception:
        if not provider_may_have_it:
            _put_back(message_id)
        raise


def _claim(message_id: int) -> bool:
    with transaction.atomic():
        return bool(
            Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED).update(
                status=MessageStatus.SENDING, updated_at=timezone.now()
            )
        )


def _put_back(message_id: int) -> None:
    Message.objects.filter(pk=message_id, status=MessageStatus.SENDING).update(
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
        _finish(message, status=MessageStatus.FAILED, error_code=rejection.code)
        opt_out_if_unsubscribed(message=message, error_code=rejection.code, detail=rejection.detail)
        return None


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
            direction=Direction.OUTBOUND, status=MessageStatus.QUEUED, created_at__lt=older_than
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def mark_unconfirmed(*, older_than: datetime) -> int:
    """Fail messages left `sending` by a worker that stopped during the provider call.

    Whether the provider took them is unknown, so they are not sent again: a contact is never
    texted twice. The thread shows them as failed and unconfirmed.
    """
    return Message.objects.filter(
        direction=Direction.OUTBOUND, status=MessageStatus.SENDING, updated_at__lt=older_than
    ).update(status=MessageStatus.FAILED, error_code=UNCONFIRMED_ERROR, updated_at=timezone.now())


def _finish(message: Message, **changes) -> None:
    for field, value in changes.items():
        setattr(message, field, value)
    message.save(update_fields=[*changes, "updated_at"])


def _check_request(*, contact_account_id: int, line: Line, body: str) -> None:
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
