"""Reads for the Conversations page: the sidebar and a thread, in a fixed number of queries."""

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from conversations.models import Conversation, ConversationSeen, Message
from core.phones import normalize_phone
from crm.filters import contact_matches
from crm.models import Account, Consent, ConsentStatus, Contact

THREAD_LENGTH = 200
RECIPIENT_MATCHES_SHOWN = 10


@dataclass
class Recipient:
    """Who "To" names: one contact, a new number, several contacts to choose from, or why
    none."""

    contact: Contact | None = None
    phone: str = ""
    matches: list[Contact] = field(default_factory=list)
    problem: str = ""

    @property
    def number(self) -> str:
        return self.contact.phone if self.contact else self.phone


def find_recipient(account: Account, text: str) -> Recipient:
    """A number (any format) finds the account's contact with it, or is a new number; other
    text finds contacts by name or part of their number."""
    text = text.strip()
    if not text:
        return Recipient()
    contacts = Contact.objects.for_account(account)
    number_problem = ""
    if not any(char.isalpha() for char in text):
        try:
            phone = normalize_phone(text)
        except ValidationError as error:
            number_problem = " ".join(error.messages)
        else:
            return Recipient(contact=contacts.filter(phone=phone).first(), phone=phone)
    if len(text) < 2:
        return Recipient(problem="Type at least two letters of a name, or a number.")
    matches = list(
        contacts.filter(contact_matches(text)).order_by("name", "phone")[
            : RECIPIENT_MATCHES_SHOWN + 1
        ]
    )
    if len(matches) == 1:
        return Recipient(contact=matches[0])
    if not matches:
        return Recipient(
            problem=number_problem
            or f"No contact matches “{text}”. Type a full number to text someone new."
        )
    return Recipient(matches=matches[:RECIPIENT_MATCHES_SHOWN])


def conversations_for_sidebar(
    conversations: QuerySet[Conversation], user: AbstractBaseUser
) -> QuerySet[Conversation]:
    """Open first, then most recent activity; with the last message (and whether it was
    blocked), an opted-out marker, and whether the contact wrote since `user` last looked."""
    same_pair = {"contact_id": OuterRef("contact_id"), "line_id": OuterRef("line_id")}
    last_message = Message.objects.filter(**same_pair).order_by("-created_at", "-id")
    seen_at = ConversationSeen.objects.filter(conversation=OuterRef("pk"), user=user)
    return (
        conversations.select_related("contact", "line")
        .annotate(
            last_body=Subquery(last_message.values("body")[:1]),
            last_status=Subquery(last_message.values("status")[:1]),
            opted_out=Exists(Consent.objects.filter(**same_pair, status=ConsentStatus.OPTED_OUT)),
            seen_at=Subquery(seen_at.values("seen_at")[:1]),
        )
        .annotate(
            unread=ExpressionWrapper(
                Q(last_inbound_at__isnull=False)
                & (Q(seen_at__isnull=True) | Q(last_inbound_at__gt=F("seen_at"))),
                output_field=BooleanField(),
            )
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
