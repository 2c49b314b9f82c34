"""Conversations: one thread per contact and line, opened on demand."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from conversations.models import Conversation, ConversationStatus, Message
from crm import consent
from crm.models import ConsentEvent, ConsentSource, Contact, Line


def conversation_touch(*, contact: Contact, line: Line, at: datetime) -> Conversation:
    """The contact's conversation on the line, created if needed, with its activity time moved."""
    conversation, created = Conversation.objects.get_or_create(
        contact=contact,
        line=line,
        defaults={"account_id": contact.account_id, "last_message_at": at},
    )
    if not created and conversation.last_message_at < at:
        conversation.last_message_at = at
        conversation.save(update_fields=["last_message_at"])
    return conversation


def conversations_touch_many(*, line: Line, contact_ids: list[int], at: datetime) -> None:
    """`conversation_touch` for many contacts on one line, in two statements (broadcasts)."""
    Conversation.objects.bulk_create(
        [
            Conversation(account_id=line.account_id, contact_id=pk, line=line, last_message_at=at)
            for pk in contact_ids
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    Conversation.objects.filter(
        line=line, contact_id__in=contact_ids, last_message_at__lt=at
    ).update(last_message_at=at)


def conversation_receive(*, contact: Contact, line: Line, at: datetime) -> Conversation:
    """The conversation an inbound message lands in; a closed one opens again."""
    conversation = conversation_touch(contact=contact, line=line, at=at)
    if conversation.status == ConversationStatus.CLOSED:
        conversation.status = ConversationStatus.OPEN
        conversation.save(update_fields=["status"])
    return conversation


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


@transaction.atomic
def conversation_record_consent(
    *, conversation: Conversation, user: AbstractBaseUser, status: str, note: str = ""
) -> ConsentEvent:
    """What staff record from the contact panel (asked by phone, a signed form), through the
    consent engine, which checks role and evidence: an agent may record an opt-out, only an
    admin an opt-in, with a note of the evidence."""
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
