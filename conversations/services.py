"""Conversations: one thread per contact and line, opened on demand."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from conversations.models import (
    AskedBy,
    Conversation,
    ConversationSeen,
    ConversationStatus,
    Message,
)
from core.bulk_sql import column_list, first_row
from crm import consent
from crm.models import ConsentEvent, ConsentSource, ConsentStatus, Contact, Line


def conversation_touch(
    *, contact: Contact, line: Line, at: datetime, moves_up: bool = True
) -> Conversation:
    """The contact's conversation on the line, created if needed, with its activity time moved.

    A blocked attempt (`moves_up=False`) finds or starts the conversation but does not bring it
    to the top of the sidebar: nothing reached the contact.
    """
    conversation, created = Conversation.objects.get_or_create(
        contact=contact,
        line=line,
        defaults={"account_id": contact.account_id, "last_message_at": at},
    )
    if moves_up and not created and conversation.last_message_at < at:
        conversation.last_message_at = at
        conversation.save(update_fields=["last_message_at"])
    return conversation


def conversations_touch_many(
    *, line: Line, contact_ids: list[int], moved_ids: list[int], at: datetime
) -> None:
    """`conversation_touch` for many contacts on one line, in two statements (broadcasts);
    only `moved_ids`, whose texts were not blocked, move up the sidebar."""
    Conversation.objects.bulk_create(
        [
            Conversation(account_id=line.account_id, contact_id=pk, line=line, last_message_at=at)
            for pk in contact_ids
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    Conversation.objects.filter(line=line, contact_id__in=moved_ids, last_message_at__lt=at).update(
        last_message_at=at
    )


def conversation_receive(*, contact: Contact, line: Line, at: datetime) -> Conversation:
    """The conversation an inbound message lands in: moved up, unread to whoever has not seen
    it since, and open again if it was closed.

    Unread counts from when the text shows in the thread (now, as it is processed), not from
    when the provider sent it: someone who opened the conversation in between has not seen it.
    One statement (an upsert) whether the conversation is new or not: it runs for every text.
    """
    table = Conversation._meta.db_table
    moment = connection.ops.adapt_datetimefield_value
    now = timezone.now()
    sql = (
        f"INSERT INTO {table} (account_id, contact_id, line_id, status, last_message_at,"  # noqa: S608
        " last_inbound_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (contact_id, line_id) DO UPDATE SET"
        " last_inbound_at = excluded.last_inbound_at, status = excluded.status,"
        f" last_message_at = CASE WHEN {table}.last_message_at < excluded.last_message_at"
        f" THEN excluded.last_message_at ELSE {table}.last_message_at END"
        f" RETURNING {column_list(Conversation)}"
    )
    params = [
        contact.account_id,
        contact.pk,
        line.pk,
        ConversationStatus.OPEN.value,
        moment(at),
        moment(now),
        moment(now),
    ]
    return first_row(Conversation, sql, params)


@transaction.atomic
def conversation_mark_seen(*, conversation: Conversation, user: AbstractBaseUser) -> None:
    """The user has the thread in front of them: what the contact wrote so far is read."""
    ConversationSeen.objects.update_or_create(
        conversation=conversation, user=user, defaults={"seen_at": timezone.now()}
    )


@transaction.atomic
def conversation_close(*, conversation: Conversation) -> Conversation:
    """Done for now: the conversation leaves the open ones (a new inbound text reopens it)."""
    return _set_status(conversation, ConversationStatus.CLOSED)


@transaction.atomic
def conversation_reopen(*, conversation: Conversation) -> Conversation:
    return _set_status(conversation, ConversationStatus.OPEN)


def _set_status(conversation: Conversation, status: str) -> Conversation:
    conversation.status = status
    conversation.save(update_fields=["status"])
    return conversation


# How the head of an opt-out's note reads, for each way a contact can ask staff.
ASKED_BY_NOTE = {
    AskedBy.PHONE_CALL: "Asked by phone call",
    AskedBy.EMAIL: "Asked by e-mail",
    AskedBy.IN_PERSON: "Asked in person",
    AskedBy.LETTER: "Asked by letter or form",
    AskedBy.SOCIAL: "Asked on social media or chat",
    AskedBy.OTHER: "Asked another way",
}


@transaction.atomic
def conversation_record_consent(
    *,
    conversation: Conversation,
    user: AbstractBaseUser,
    status: str,
    note: str = "",
    asked_by: str = "",
) -> ConsentEvent:
    """What staff record from the contact panel, through the consent engine, which checks role
    and evidence: an agent may record an opt-out, saying how the contact asked (`asked_by`,
    kept at the head of the note); only an admin an opt-in, with a note of the evidence."""
    note = note.strip()
    if status == ConsentStatus.OPTED_OUT:
        if asked_by not in AskedBy.values:
            raise ValidationError("Say how the contact asked to stop.")
        if asked_by == AskedBy.OTHER and not note:
            raise ValidationError("Add a note of how the contact asked to stop.")
        note = ASKED_BY_NOTE[asked_by] + (f": {note}" if note else ".")
    return consent.record_consent(
        contact=conversation.contact,
        line=conversation.line,
        status=status,
        source=ConsentSource.AGENT,
        user=user,
        note=note,
    )


@transaction.atomic
def review_flag_confirm(*, conversation: Conversation, user: AbstractBaseUser) -> ConsentEvent:
    """The flagged message does ask to stop: the user's opt-out, dated when the contact sent
    it, with the message as evidence."""
    flagged = _flagged_message(conversation)
    event = consent.opt_out(
        contact=conversation.contact,
        line=conversation.line,
        source=ConsentSource.AGENT,
        user=user,
        message=flagged,
        note="Agent confirmed the flagged message asks to stop.",
        occurred_at=flagged.occurred_at,
    )
    _clear_flag(conversation)
    return event


@transaction.atomic
def review_flag_dismiss(*, conversation: Conversation, user: AbstractBaseUser) -> None:
    """The flagged message does not ask to stop: the flag goes, consent stays as it is."""
    _flagged_message(conversation)
    _clear_flag(conversation)


def _flagged_message(conversation: Conversation) -> Message:
    if conversation.flagged_message_id is None:
        raise ValidationError("No message of this conversation is waiting for review.")
    return Message.objects.get(pk=conversation.flagged_message_id)


def _clear_flag(conversation: Conversation) -> None:
    conversation.flagged_message = None
    conversation.flagged_since = None
    conversation.save(update_fields=["flagged_message", "flagged_since"])
