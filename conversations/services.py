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
def conversation_record_consent(
    *, conversation: Conversation, user: AbstractBaseUser, action: str, note: str = ""
) -> None:
    """What an agent records from the contact panel, through the consent engine.

    `opt_out` / `opt_in` record the user's decision (the engine checks role and evidence);
    `confirm_revocation` / `dismiss_flag` settle a message flagged as a possible revocation, a
    confirmed one becoming the user's opt-out with the flagged message as evidence.
    """
    if action in ("opt_out", "opt_in"):
        record = consent.opt_out if action == "opt_out" else consent.opt_in
        record(
            contact=conversation.contact,
            line=conversation.line,
            source=ConsentSource.AGENT,
            user=user,
            note=note,
        )
        return
    flagged = conversation.flagged_message
    if flagged is None:
        return
    if action == "confirm_revocation":
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
