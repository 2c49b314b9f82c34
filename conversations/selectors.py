"""Reads for the Conversations page: the sidebar and a thread, in a fixed number of queries."""

from django.db.models import Case, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value, When

from conversations.models import Conversation, ConversationStatus, Message
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
            open_first=Case(
                When(status=ConversationStatus.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("open_first", "-last_message_at", "-id")
    )


def thread(conversation: Conversation) -> list[Message]:
    """The latest messages between the contact and the line, oldest first."""
    latest = Message.objects.filter(
        contact_id=conversation.contact_id, line_id=conversation.line_id
    ).order_by("-created_at", "-id")[:THREAD_LENGTH]
    return list(reversed(latest))
