"""Messages from contacts and delivery reports: stored first, then processed by a worker."""

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from conversations import sending
from conversations.models import Direction, Message, MessageStatus
from conversations.services import conversation_receive
from conversations.signals import message_received, message_status_changed
from core.bulk_sql import column_list, first_row, insert_unless, parameter_marks, update_row
from core.queueing import enqueue_on_commit
from crm import consent
from crm.models import ConsentOutcome, Contact, Line
from crm.selectors import line_with_account
from crm.services import contact_get_or_create
from keywords.decisions import Decision
from keywords.models import Action
from keywords.selectors import decide_for_line

logger = logging.getLogger(__name__)

# The task that runs `process_inbound` (conversations.tasks registers it under this name).
PROCESS_INBOUND_TASK = "conversations.tasks.process_inbound_message"

PROVIDER_STATUSES = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.FAILED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}
STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.FAILED: 2,
}


def receive_inbound(
    *,
    line: Line,
    provider_message_id: str,
    from_number: str,
    body: str,
    media_count: int = 0,
    opt_out_type: str = "",
    occurred_at: datetime | None = None,
) -> tuple[Message, bool]:
    """Store a message from a contact and queue its processing; a repeated delivery is a no-op.

    Returns the message and whether it is new. NUL characters, which PostgreSQL text cannot
    hold, are kept visible as U+FFFD rather than dropped. Provider message ids are unique
    across the provider, so one already received on another line is refused: it can only be a
    captured request pointed at another number.

    One statement stores a new message (the check for another line, the insert and the
    duplicate test together); only a repeat reads what was stored.
    """
    message = Message(
        line=line,
        direction=Direction.INBOUND,
        provider_message_id=provider_message_id,
        remote_number=from_number,
        body=body.replace("\x00", "\ufffd"),
        status=MessageStatus.RECEIVED,
        media_count=media_count,
        opt_out_type=opt_out_type,
        occurred_at=occurred_at or timezone.now(),
    )
    # Written out: compiling it with the ORM cost as much as running it, on every text.
    elsewhere = (
        f"SELECT 1 FROM {Message._meta.db_table} WHERE direction = %s"  # noqa: S608
        " AND provider_message_id = %s AND provider_message_id <> '' AND line_id <> %s"
    )
    if insert_unless(message, elsewhere, [Direction.INBOUND.value, provider_message_id, line.pk]):
        enqueue_on_commit(PROCESS_INBOUND_TASK, message.pk)
        return message, True
    stored = (
        Message.objects.filter(
            line=line, direction=Direction.INBOUND, provider_message_id=provider_message_id
        )
        .exclude(provider_message_id="")
        .first()
    )
    if stored is None:
        raise ValidationError({"MessageSid": ["Already received on another line."]})
    return stored, False


# How many messages one sweep queues again, and how often one message may be: a message that
# fails this many times (a bug, or data the code cannot handle) is left for a person instead
# of being retried every sweep for ever.
SWEEP_LIMIT = 10_000
MAX_REQUEUES = 10


def stalled_inbound(*, older_than: datetime) -> list[int]:
    """Messages stored before `older_than` and still unprocessed (a broker down when they
    came, a worker that died), short of their last attempt."""
    return list(
        Message.objects.filter(
            direction=Direction.INBOUND,
            status=MessageStatus.RECEIVED,
            created_at__lt=older_than,
            times_requeued__lt=MAX_REQUEUES,
        ).values_list("pk", flat=True)[:SWEEP_LIMIT]
    )


@transaction.atomic
def inbound_requeues_count(*, message_ids: list[int]) -> None:
    """One more attempt for each message queued again; those now at their last are logged
    for a person to look at."""
    Message.objects.filter(pk__in=message_ids).update(times_requeued=F("times_requeued") + 1)
    last_tries = list(
        Message.objects.filter(pk__in=message_ids, times_requeued=MAX_REQUEUES).values_list(
            "pk", flat=True
        )
    )
    if last_tries:
        logger.error(
            "Inbound messages %s queued for the last time (%d attempts); if they fail again "
            "they stay unprocessed until someone looks (Django admin, Messages, status Received).",
            last_tries,
            MAX_REQUEUES,
        )


def process_inbound(message_id: int) -> Message | None:
    """Apply an inbound message: contact, conversation, consent, reply. Idempotent.

    Returns None when the message is not waiting for processing (done already, or unknown).
    """
    with transaction.atomic():
        message = _lock_received(message_id)
        if message is None:
            return None
        message.line = line = line_with_account(message.line_id)
        contact, _ = contact_get_or_create(account=line.account, phone=message.remote_number)
        conversation = conversation_receive(contact=contact, line=line, at=message.occurred_at)
        decision = decide_for_line(line, message.body, message.opt_out_type)
        changed = _apply(decision, message, contact, line)
        if decision.action == Action.FLAG:
            if conversation.flagged_message_id is None:
                conversation.flagged_since = message.occurred_at
            conversation.flagged_message = message
            update_row(conversation, ["flagged_message", "flagged_since"])
        message.contact = contact
        message.status = MessageStatus.PROCESSED
        message.decision = _describe(decision, changed)[
            : Message._meta.get_field("decision").max_length
        ]
        update_row(message, ["contact", "status", "decision", "updated_at"])
        message_received.send(sender=Message, messages=[message])
        if decision.reply and (changed or not decision.changes_consent):
            _reply(message, contact, line, decision)
    return message


def _lock_received(message_id: int) -> Message | None:
    """The inbound message, locked, if it still waits for processing. Written out: building
    the query with the ORM cost more than running it, on every text."""
    lock = " FOR NO KEY UPDATE" if connection.features.has_select_for_update else ""
    sql = (
        f"SELECT {column_list(Message)} FROM {Message._meta.db_table}"  # noqa: S608
        f" WHERE id = %s AND direction = %s AND status = %s{lock}"
    )
    params = [message_id, Direction.INBOUND.value, MessageStatus.RECEIVED.value]
    return first_row(Message, sql, params)


def _reply(message: Message, contact: Contact, line: Line, decision: Decision) -> None:
    """Answer through the send gate; a reply that cannot go never undoes the consent change.

    A blocked reply is kept (the gate stores it with its reason); a reply that cannot even be
    built (too long) is rolled back alone and logged.
    """
    try:
        with transaction.atomic():
            try:
                sending.send_message(
                    contact=contact,
                    line=line,
                    body=decision.reply,
                    purpose=decision.reply_purpose,
                    in_reply_to=message,
                )
            except sending.SendBlocked as blocked:
                logger.info("Reply to message %s blocked: %s", message.pk, blocked.reason)
    except ValidationError as error:
        logger.error("Reply to message %s not sent: %s", message.pk, "; ".join(error.messages))


def _apply(decision: Decision, message: Message, contact: Contact, line: Line) -> bool:
    """Record the consent change the decision calls for; whether the status changed."""
    if not decision.changes_consent:
        return False
    event = consent.record_consent(
        contact=contact,
        line=line,
        status=decision.consent_status,
        source=decision.source,
        message=message,
        responder=decision.responder,
        keyword=decision.keyword,
        occurred_at=message.occurred_at,
    )
    return event.outcome == ConsentOutcome.CHANGED


def _describe(decision: Decision, changed: bool) -> str:
    """One line for people: the rule that matched and what it did."""
    if decision.changes_consent:
        effect = "opted out" if decision.action == Action.OPT_OUT else "opted in"
        return f"{decision.rule}: {effect}" + ("" if changed else " (no change)")
    if decision.action == Action.FLAG:
        return f"{decision.rule}: flagged for review"
    if decision.action in (Action.HELP, Action.REPLY):
        return f"{decision.rule}: " + ("replied" if decision.reply else "no reply of ours")
    return decision.rule


def record_delivery_status(
    *,
    line: Line,
    provider_message_id: str,
    provider_status: str,
    error_code: str = "",
    message_id: int | None = None,
) -> Message | None:
    """Move an outbound message forward to sent, delivered or failed; never backwards.

    `message_id`, our id in the callback's signed URL, finds the message even while the worker
    that handed it over has not yet stored the provider's id (its transaction holds the row:
    this waits for it), or never will (it died after the provider took the text: the report
    settles what was unknown). A failure with Twilio's 21610 (recipient unsubscribed) records
    an opt-out. Returns None for a message we do not know.

    Status reports are most of the webhook traffic (two per text sent), so a report that moves
    a message forward is one UPDATE with the forward-only rule in its WHERE clause; only one
    that moves nothing (a repeat, or out of order) reads the message.
    """
    status = PROVIDER_STATUSES.get(provider_status.strip().lower())
    with transaction.atomic():
        message = None
        if status is not None:
            message = _move_forward(
                line=line,
                provider_message_id=provider_message_id,
                message_id=message_id,
                status=status,
                error_code=error_code if status == MessageStatus.FAILED else "",
            )
        if message is None:
            return _outbound_message(
                line=line, provider_message_id=provider_message_id, message_id=message_id
            )
        message_status_changed.send(sender=Message, messages=[message])
        if status == MessageStatus.FAILED:
            sending.opt_out_if_unsubscribed(message=message, error_code=error_code)
    return message


def _move_forward(
    *, line: Line, provider_message_id: str, message_id: int | None, status: str, error_code: str
) -> Message | None:
    """The message once moved to `status`, in one statement; None when there is no such
    message or `status` would not move it forward.

    The message named by our id wins over one found by the provider's id, as long as it was
    handed over (not still queued) and carries no other provider id. A report that comes
    before the worker stored the hand-over (or from a worker that died) also sets `sent_at`.
    """
    table = Message._meta.db_table
    earlier = [value for value, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]]
    not_handed_over = [MessageStatus.SCHEDULED.value, MessageStatus.QUEUED.value]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = (
        f"UPDATE {table} SET status = %s, provider_message_id = %s, error_code = %s,"  # noqa: S608
        " sent_at = CASE WHEN sent_at IS NULL AND %s THEN %s ELSE sent_at END, updated_at = %s"
        f" WHERE id = (SELECT id FROM {table} WHERE line_id = %s AND direction = %s AND ("
        "(id = %s AND provider_message_id IN (%s, '')"
        f" AND status NOT IN ({parameter_marks(not_handed_over)}))"
        " OR provider_message_id = %s) ORDER BY CASE WHEN id = %s THEN 0 ELSE 1 END LIMIT 1)"
        f" AND status IN ({parameter_marks(earlier)}) RETURNING {column_list(Message)}"
    )
    params = [
        status,
        provider_message_id,
        error_code,
        status != MessageStatus.FAILED,
        now,
        now,
        line.pk,
        Direction.OUTBOUND.value,
        message_id,
        provider_message_id,
        *not_handed_over,
        provider_message_id,
        message_id,
        *earlier,
    ]
    message = first_row(Message, sql, params)
    if message is not None:
        message.line = line
    return message


def _outbound_message(
    *, line: Line, provider_message_id: str, message_id: int | None
) -> Message | None:
    """The outbound message a report is about, as `_move_forward` finds it, without a change."""
    outbound = Message.objects.filter(line=line, direction=Direction.OUTBOUND)
    if message_id is not None:
        message = (
            outbound.filter(pk=message_id)
            .filter(Q(provider_message_id=provider_message_id) | Q(provider_message_id=""))
            .exclude(status__in=[MessageStatus.SCHEDULED, MessageStatus.QUEUED])
            .first()
        )
        if message is not None:
            return message
    return outbound.filter(provider_message_id=provider_message_id).first()
