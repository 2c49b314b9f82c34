"""Broadcasts: create (a draft to preview), confirm, send in chunks, cancel.

Sending is at most once per recipient, as every text: a chunk creates its recipients' messages
and marks them done in one transaction, so a worker killed mid-chunk leaves that chunk to be
done again whole, and a text once created is handed over by `conversations.sending`, which
never hands one over twice. Each recipient passes the gate twice: when its message is created
(a blocked one is stored with its reason, as every blocked attempt) and when it is handed over,
so an opt-out arriving mid-broadcast stops that contact's text.
"""

import time
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Length
from django.utils import timezone

from broadcasts.audience import audience, broadcast_preview, receiving
from broadcasts.models import Broadcast, BroadcastRecipient, BroadcastStatus
from broadcasts.texts import body_problem, render_broadcast
from conversations.models import Message, MessageStatus
from conversations.sending import (
    DELIVER_MANY_TASK,
    DELIVERY_BATCH_SIZE,
    outbound_message,
    send_at_problem,
)
from conversations.services import conversations_touch_many
from conversations.signals import message_blocked
from core.bulk_sql import insert_rows, update_rows
from core.lengths import too_long
from core.queueing import enqueue_on_commit, publish
from crm.gate import block_reason
from crm.models import STATUS_FILTER_VALUES, Account, Consent, ContactImport, Line
from crm.quiet_hours import QuietHours

# The task that runs `broadcast_send` (broadcasts.tasks registers it under this name).
SEND_TASK = "broadcasts.tasks.send_broadcast"
CHUNK_SIZE = 500
# A task sends chunks for this long, then queues itself again, so one broadcast never holds a
# worker for long, and in-process (eager) runs never nest deeply.
TASK_TIME_BUDGET = 20.0
STALLED_AFTER = timedelta(minutes=2)
CANCELLABLE = (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING)


def broadcast_validate(
    *,
    account: Account,
    name: str,
    line: Line | None,
    body: str,
    search: str = "",
    status_line: Line | None = None,
    consent_status: str = "",
    contact_import: ContactImport | None = None,
    send_at: datetime | None = None,
) -> None:
    """A broadcast's rules: its lines and import are the account's, its status filter names a
    line, its time is not past, and its text, filled in for the longest name in the audience,
    is sendable with known placeholders."""
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Give the broadcast a name, to find it again."]
    elif message := too_long(Broadcast, "name", name):
        errors["name"] = message
    if line is None or line.account_id != account.pk:
        errors["line"] = ["Choose one of this account's lines."]
    if status_line is not None and status_line.account_id != account.pk:
        errors["status_line"] = ["Choose one of this account's lines."]
    if consent_status and consent_status not in STATUS_FILTER_VALUES:
        errors["consent_status"] = [f"Unknown status {consent_status!r}."]
    elif consent_status and status_line is None:
        errors["status_line"] = ["Choose the line whose consent status to filter by."]
    if contact_import is not None and contact_import.account_id != account.pk:
        errors["contact_import"] = ["Choose one of this account's imports."]
    if problem := send_at_problem(send_at):
        errors["send_at"] = [problem]
    if not errors:
        draft = Broadcast(
            account=account,
            line=line,
            search=search,
            status_line=status_line,
            consent_status=consent_status,
            contact_import=contact_import,
        )
        longest = audience(draft).aggregate(longest=Max(Length("name")))["longest"] or 0
        if problem := body_problem(body, account_name=account.name, longest_name=longest):
            errors["body"] = [problem]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def broadcast_create(
    *,
    account: Account,
    user: AbstractBaseUser,
    name: str,
    line: Line,
    body: str,
    search: str = "",
    status_line: Line | None = None,
    consent_status: str = "",
    contact_import: ContactImport | None = None,
    send_at: datetime | None = None,
) -> Broadcast:
    """A draft: nothing is sent until someone confirms it after the preview."""
    fields = {
        "name": name.strip(),
        "line": line,
        "body": body.replace("\r\n", "\n"),
        "search": search.strip(),
        "status_line": status_line,
        "consent_status": consent_status,
        "contact_import": contact_import,
        "send_at": send_at,
    }
    broadcast_validate(account=account, **fields)
    return Broadcast.objects.create(account=account, created_by=user, **fields)


@transaction.atomic
def broadcast_confirm(*, broadcast: Broadcast, user: AbstractBaseUser) -> Broadcast:
    """Send a previewed draft: now, or at its time (it waits as `scheduled`)."""
    locked = _locked(broadcast)
    if locked.status != BroadcastStatus.DRAFT:
        raise ValidationError(f"This broadcast is already {locked.get_status_display().lower()}.")
    broadcast_validate(
        account=locked.account,
        name=locked.name,
        line=locked.line,
        body=locked.body,
        search=locked.search,
        status_line=locked.status_line,
        consent_status=locked.consent_status,
        contact_import=locked.contact_import,
        send_at=locked.send_at,
    )
    locked.confirmed_by = user
    if locked.send_at is not None and locked.send_at > timezone.now():
        locked.status = BroadcastStatus.SCHEDULED
        locked.save(update_fields=["confirmed_by", "status"])
    else:
        locked.save(update_fields=["confirmed_by"])
        _begin(locked)
    return locked


def broadcast_can_cancel(broadcast: Broadcast) -> bool:
    """A broadcast can be cancelled until everything has been handed over: a sent one still
    holds the texts quiet hours deferred."""
    if broadcast.status in CANCELLABLE:
        return True
    return broadcast.status == BroadcastStatus.SENT and _waiting(broadcast).exists()


@transaction.atomic
def broadcast_cancel(*, broadcast: Broadcast, user: AbstractBaseUser) -> Broadcast:
    """Stop a broadcast: recipients not yet reached get nothing, texts waiting (queued, or
    deferred by quiet hours) are cancelled, and texts a worker has claimed but not handed over
    are marked so that it drops them; texts already handed over cannot be called back."""
    locked = _locked(broadcast)
    if not broadcast_can_cancel(locked):
        raise ValidationError(f"This broadcast is already {locked.get_status_display().lower()}.")
    now = timezone.now()
    locked.status = BroadcastStatus.CANCELLED
    locked.cancelled_by, locked.cancelled_at = user, now
    locked.save(update_fields=["status", "cancelled_by", "cancelled_at"])
    _waiting(locked).update(status=MessageStatus.CANCELLED, cancelled_by=user, updated_at=now)
    Message.objects.filter(
        broadcast_recipient__broadcast=locked, status=MessageStatus.SENDING
    ).update(cancelled_by=user)
    return locked


def _waiting(broadcast: Broadcast):
    return Message.objects.filter(
        broadcast_recipient__broadcast=broadcast,
        status__in=[MessageStatus.QUEUED, MessageStatus.SCHEDULED],
    )


def broadcast_send(broadcast_id: int) -> None:
    """Create the texts of a sending broadcast, a chunk at a time, for a while; then queue
    itself again if recipients remain."""
    deadline = time.monotonic() + TASK_TIME_BUDGET
    while _send_chunk(broadcast_id):
        if time.monotonic() > deadline:
            publish(SEND_TASK, broadcast_id)
            return


def broadcasts_begin_due(*, now: datetime | None = None) -> int:
    """Start the scheduled broadcasts whose time has come (beat)."""
    now = now or timezone.now()
    started = 0
    with transaction.atomic():
        due = Broadcast.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status=BroadcastStatus.SCHEDULED, send_at__lte=now
        )
        for broadcast in due.select_related("account", "line"):
            _begin(broadcast)
            started += 1
    return started


def broadcasts_resume_stalled(*, now: datetime | None = None) -> list[int]:
    """Sending broadcasts with nothing done for a while (a worker that died, a broker that
    lost the task): queue them again. Two tasks on one broadcast share its chunks safely."""
    now = now or timezone.now()
    stalled = list(
        Broadcast.objects.filter(
            status=BroadcastStatus.SENDING, progress_at__lt=now - STALLED_AFTER
        ).values_list("pk", flat=True)
    )
    return [pk for pk in stalled if publish(SEND_TASK, pk)]


def _locked(broadcast: Broadcast) -> Broadcast:
    return (
        Broadcast.objects.select_for_update(of=("self",))
        .select_related("account", "line", "status_line", "contact_import")
        .get(pk=broadcast.pk)
    )


def _begin(broadcast: Broadcast) -> None:
    """The audience becomes the recipient list (one INSERT … SELECT), less the contacts the
    gate excludes now; the excluded are counted, not texted."""
    now = timezone.now()
    preview = broadcast_preview(broadcast, at=now)
    contacts, params = receiving(broadcast).order_by().values_list("pk").query.sql_with_params()
    table = BroadcastRecipient._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (broadcast_id, contact_id) "  # noqa: S608 (no user input)
            f"SELECT %s, audience.* FROM ({contacts}) audience",
            [broadcast.pk, *params],
        )
        added = cursor.rowcount
    broadcast.status = BroadcastStatus.SENDING
    broadcast.recipient_count = added
    broadcast.excluded_count = preview.total - added
    broadcast.started_at = broadcast.progress_at = now
    broadcast.save(
        update_fields=["status", "recipient_count", "excluded_count", "started_at", "progress_at"]
    )
    enqueue_on_commit(SEND_TASK, broadcast.pk)


def _send_chunk(broadcast_id: int) -> bool:
    """Create the texts of the next recipients; whether more may remain."""
    with transaction.atomic():
        broadcast = (
            Broadcast.objects.select_for_update(of=("self",))
            .select_related("account", "line")
            .filter(pk=broadcast_id, status=BroadcastStatus.SENDING)
            .first()
        )
        if broadcast is None:
            return False
        # The broadcast's row lock serialises its chunks, so each goes on where the last one
        # stopped, reading the next recipients off an index whatever the broadcast's size.
        pending = list(
            BroadcastRecipient.objects.filter(broadcast=broadcast, pk__gt=broadcast.sent_through)
            .select_related("contact")
            .order_by("pk")[:CHUNK_SIZE]
        )
        now = timezone.now()
        if not pending:
            broadcast.status, broadcast.finished_at = BroadcastStatus.SENT, now
            broadcast.save(update_fields=["status", "finished_at"])
            return False
        messages = _texts_for(broadcast, pending, now)
        insert_rows(messages)
        update_rows(
            BroadcastRecipient,
            ["message"],
            [
                (recipient.pk, message.pk)
                for recipient, message in zip(pending, messages, strict=True)
            ],
        )
        conversations_touch_many(
            line=broadcast.line,
            contact_ids=[message.contact_id for message in messages],
            moved_ids=[
                message.contact_id
                for message in messages
                if message.status != MessageStatus.BLOCKED
            ],
            at=now,
        )
        broadcast.sent_through = pending[-1].pk
        broadcast.processed_count += len(pending)
        broadcast.progress_at = now
        broadcast.save(update_fields=["sent_through", "processed_count", "progress_at"])
        queued = [message.pk for message in messages if message.status == MessageStatus.QUEUED]
        blocked = [message for message in messages if message.status == MessageStatus.BLOCKED]
        if blocked:
            message_blocked.send(sender=Message, messages=blocked)
        for start in range(0, len(queued), DELIVERY_BATCH_SIZE):
            enqueue_on_commit(DELIVER_MANY_TASK, queued[start : start + DELIVERY_BATCH_SIZE])
    return True


def _texts_for(
    broadcast: Broadcast, recipients: list[BroadcastRecipient], now: datetime
) -> list[Message]:
    """Each recipient's text: queued, blocked by the gate (with its reason), or deferred to the
    next moment quiet hours allow."""
    line = broadcast.line
    statuses = dict(
        Consent.objects.filter(
            line=line, contact_id__in=[recipient.contact_id for recipient in recipients]
        ).values_list("contact_id", "status")
    )
    goes_at = dict(
        QuietHours.of(broadcast.account).next_allowed_for_each(
            [recipient.contact.phone for recipient in recipients], now, fallback_phone=line.number
        )
    )
    texts = []
    for recipient in recipients:
        contact = recipient.contact
        texts.append(
            outbound_message(
                contact=contact,
                line=line,
                body=render_broadcast(
                    broadcast.body, name=contact.name, account_name=broadcast.account.name
                ),
                reason=block_reason(
                    line=line, status=statuses.get(contact.pk, ""), since=None, now=now
                ),
                goes_at=goes_at[contact.phone],
                due=now,
                now=now,
                sent_by_id=broadcast.confirmed_by_id,
            )
        )
    return texts
