"""Conversations between a contact and a line, and the messages in them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.phones import E164_REGEX
from crm.gate import Purpose
from crm.scoping import AccountScopedQuerySet


class AskedBy(models.TextChoices):
    """How a contact asked staff to stop texts, kept in the opt-out's note as its evidence."""

    PHONE_CALL = "phone_call", "Phone call"
    EMAIL = "email", "E-mail"
    IN_PERSON = "in_person", "In person"
    LETTER = "letter", "Letter or form"
    SOCIAL = "social", "Social media or chat"
    OTHER = "other", "Another way"


class ConversationStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Conversation(models.Model):
    """The thread of one contact with one line; its messages share that contact and line."""

    account = models.ForeignKey(
        "crm.Account", on_delete=models.PROTECT, related_name="conversations"
    )
    contact = models.ForeignKey(
        "crm.Contact", on_delete=models.PROTECT, related_name="conversations"
    )
    line = models.ForeignKey("crm.Line", on_delete=models.PROTECT, related_name="conversations")
    status = models.CharField(
        max_length=10, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    last_message_at = models.DateTimeField(default=timezone.now)
    flagged_message = models.ForeignKey(
        "Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="A message that may revoke consent, waiting for an agent to decide.",
    )
    last_inbound_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the contact's latest text showed in the thread: newer than a user's "
        "last look at the conversation, it is unread for them.",
    )
    flagged_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the oldest message still waiting for review arrived: the "
        "10-business-day deadline runs from it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(
                fields=["account", "-status", "-last_message_at"], name="conversation_sidebar"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["contact", "line"], name="conversation_one_per_pair"),
            models.CheckConstraint(
                condition=Q(status__in=ConversationStatus.values), name="conversation_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} on {self.line}"


class ConversationSeen(models.Model):
    """When a user last opened a conversation: what the contact wrote since is unread to them."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="seen")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="conversation_seen_once")
        ]

    def __str__(self) -> str:
        return f"{self.conversation} seen by {self.user} at {self.seen_at:%Y-%m-%d %H:%M}"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class MessageStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    BLOCKED = "blocked", "Blocked"
    CANCELLED = "cancelled", "Cancelled"


INBOUND_STATUSES = (MessageStatus.RECEIVED, MessageStatus.PROCESSED)
OUTBOUND_STATUSES = (
    MessageStatus.SCHEDULED,
    MessageStatus.QUEUED,
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.FAILED,
    MessageStatus.BLOCKED,
    MessageStatus.CANCELLED,
)


class MessageQuerySet(AccountScopedQuerySet):
    account_path = "line__account"


class Message(models.Model):
    """A text to or from a contact on a line.

    An inbound message is stored by the webhook before anyone knows the contact, so `contact`
    is empty until it is processed; `remote_number` is always the contact's number.
    """

    line = models.ForeignKey("crm.Line", on_delete=models.PROTECT, related_name="messages")
    contact = models.ForeignKey(
        "crm.Contact", on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    remote_number = models.CharField(max_length=16)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=MessageStatus.choices)
    purpose = models.CharField(max_length=24, choices=Purpose.choices, default=Purpose.MESSAGE)
    blocked_reason = models.CharField(max_length=300, blank=True)
    provider_message_id = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    opt_out_type = models.CharField(
        max_length=10, blank=True, help_text="The provider's own opt-out signal (OptOutType)."
    )
    media_count = models.PositiveSmallIntegerField(default=0)
    times_requeued = models.PositiveSmallIntegerField(
        db_default=0,
        help_text="How often the sweep queued this message again (stalled or failing).",
    )
    decision = models.CharField(
        max_length=300, blank=True, help_text="What processing made of an inbound message."
    )
    in_reply_to = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replies",
        help_text="The inbound message this automatic reply answers (at most one reply each).",
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sent_messages",
    )
    scheduled_for = models.DateTimeField(
        null=True, blank=True, help_text="When a scheduled or deferred message is due to go."
    )
    deferred_by_quiet_hours = models.BooleanField(
        default=False, help_text="Held back because it would have reached the contact at night."
    )
    quiet_hours_exempt = models.BooleanField(
        default=False,
        help_text="A reply to the contact (keyword, HELP, confirmation, or an agent within 24 "
        "hours of the contact's last text): sent whatever the hour.",
    )
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cancelled_messages",
    )
    occurred_at = models.DateTimeField(help_text="Provider's time for inbound, else creation.")
    sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the provider took it (outbound); the compliance audit times "
        "confirmations and judges texts by it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["contact", "line", "created_at"], name="message_thread"),
            # The compliance audit reads a period of a line's texts.
            models.Index(fields=["line", "occurred_at"], name="message_line_time"),
            models.Index(fields=["provider_message_id"], name="message_provider_id"),
            models.Index(
                fields=["status", "created_at"],
                name="message_pending",
                condition=Q(status__in=["received", "queued", "sending"]),
            ),
            models.Index(
                fields=["scheduled_for"],
                name="message_scheduled_due",
                condition=Q(status="scheduled"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["in_reply_to"], name="message_one_reply_per_inbound"),
            models.UniqueConstraint(
                fields=["line", "provider_message_id"],
                condition=Q(direction="inbound") & ~Q(provider_message_id=""),
                name="message_inbound_unique_provider_id",
            ),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="message_direction_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(direction=Direction.INBOUND, status__in=INBOUND_STATUSES)
                    | Q(direction=Direction.OUTBOUND, status__in=OUTBOUND_STATUSES)
                ),
                name="message_status_matches_direction",
            ),
            models.CheckConstraint(
                condition=~Q(status=MessageStatus.BLOCKED) | ~Q(blocked_reason=""),
                name="message_blocked_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status=MessageStatus.SCHEDULED) | Q(scheduled_for__isnull=False),
                name="message_scheduled_has_time",
            ),
            models.CheckConstraint(
                condition=Q(direction=Direction.INBOUND) | Q(contact__isnull=False),
                name="message_outbound_has_contact",
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=Purpose.values), name="message_purpose_valid"
            ),
            models.CheckConstraint(
                condition=Q(remote_number__regex=E164_REGEX), name="message_remote_number_e164"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.remote_number}: {self.body[:40]}"
