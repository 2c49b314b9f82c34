"""Conversations: one thread per contact and line, opened on demand."""

from datetime import datetime

from conversations.models import Conversation, ConversationStatus
from crm.models import Contact, Line


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
