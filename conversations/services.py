"""Conversations: one thread per contact and line, opened on demand."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from conversations.models import Conversation, ConversationStatus
from crm import consent
from crm.models import ConsentSource, Contact, Line


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


def conversation_receive(*, contact: Contact, line: Line, at: datetime) -> Conversation:
    """The conversation an inbound message lands in; a closed one opens again."""
    conversation = conversation_touch(contact=contact, line=line, at=at)
    if conversation.status == ConversationStatus.CLOSED:
        conversation.status = ConversationStatus.OPEN
        conversation.save(update_fields=["status"])
    return conversation


@transaction.atomic
def conversation_resolve_flag(
    *, conversation: Conversation, user: AbstractBaseUser, revocation: bool
) -> None:
    """An agent's verdict on a message flagged as a possible revocation.

    A revocation is recorded as the agent's opt-out, with the flagged message as evidence.
    """
    flagged = conversation.flagged_message
    if flagged is None:
        return
    if revocation:
        consent.opt_out(
            contact=conversation.contact,
            line=conversation.line,
            source=ConsentSource.AGENT,
            user=user,
            message=flagged,
            note="Agent confirmed the flagged message asks to stop.",
            occurred_at=flagged.occurred_at,
        )
    conversation.flagged_message = None
    conversation.save(update_fields=["flagged_message"])
