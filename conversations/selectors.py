"""Reads for the Conversations page: the sidebar and a thread, in a fixed number of queries."""

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from conversations.models import Conversation, Message
from crm.models import Consent, ConsentStatus

THREAD_LENGTH = 200


def conversations_for_sidebar(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Open first, then most recent activity; with the last message and an opted-out marker."""
    same_pair = {"contact_id": OuterRef("contact_id"), "line_id": OuterRef("line_id")}
    last_message = Message.objects.filter(**same_pair).order_by("-created_at", "-id")
    return (
        conversations.select_related("contact", "line")
        .annotate(
            last_body=Subquery(last_message.values("body")[:1]),
            opted_out=Exists(Consent.objects.filter(**same_pair, status=ConsentStatus.OPTED_OUT)),
        )
        # "open" sorts after "closed", so descending status puts open ones first, and the
        # conversation_sidebar index (account, -status, -last_message_at) serves the order.
        .order_by("-status", "-last_message_at", "-id")
    )


def thread(conversation: Conversation) -> list[Message]:
    """The latest messages between the contact and the line, oldest first."""
    latest = Message.objects.filter(
        contact_id=conversation.contact_id, line_id=conversation.line_id
    ).order_by("-created_at", "-id")[:THREAD_LENGTH]
    return list(reversed(latest))
