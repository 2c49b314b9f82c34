"""Broadcasts: one text to an audience of contacts, each recipient through the send gate."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from crm.models import STATUS_FILTER_VALUES
from crm.scoping import AccountScopedQuerySet


class BroadcastStatus(models.TextChoices):
    DRAFT = "draft", "Draft (previewed, not sent)"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"


class Broadcast(models.Model):
    """A text to the contacts an audience names, sent now or at `send_at`.

    The audience is a filter, as on the Contacts page (search, status on a line) or an import's
    contacts; it is read when the broadcast starts, and each recipient then passes the gate
    when its text is handed over.
    """

    account = models.ForeignKey("crm.Account", on_delete=models.PROTECT, related_name="broadcasts")
    name = models.CharField(max_length=120)
    line = models.ForeignKey("crm.Line", on_delete=models.PROTECT, related_name="broadcasts")
    body = models.TextField()
    search = models.CharField(max_length=200, blank=True)
    status_line = models.ForeignKey(
        "crm.Line",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The line whose consent status the audience is filtered by.",
    )
    consent_status = models.CharField(max_length=12, blank=True)
    contact_import = models.ForeignKey(
        "crm.ContactImport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="broadcasts",
    )
    send_at = models.DateTimeField(null=True, blank=True, help_text="Empty: when confirmed.")
    status = models.CharField(
        max_length=10, choices=BroadcastStatus.choices, default=BroadcastStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="broadcasts"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recipient_count = models.PositiveIntegerField(default=0)
    excluded_count = models.PositiveIntegerField(
        default=0, help_text="Contacts of the audience the gate excluded when it started."
    )
    sent_through = models.PositiveBigIntegerField(
        default=0,
        help_text="The last recipient, by id, whose text is created: chunks go on from there.",
    )
    processed_count = models.PositiveIntegerField(
        default=0, help_text="Recipients whose text has been created (queued, deferred or blocked)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "send_at"], name="broadcast_status_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=BroadcastStatus.values), name="broadcast_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(consent_status__in=["", *STATUS_FILTER_VALUES]),
                name="broadcast_consent_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(consent_status="") | Q(status_line__isnull=False),
                name="broadcast_status_filter_names_a_line",
            ),
            models.CheckConstraint(
                condition=~Q(status=BroadcastStatus.SCHEDULED) | Q(send_at__isnull=False),
                name="broadcast_scheduled_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_finished(self) -> bool:
        return self.status in (BroadcastStatus.SENT, BroadcastStatus.CANCELLED)

    @property
    def percent(self) -> int:
        if not self.recipient_count:
            return 100 if self.is_finished else 0
        return min(100, self.processed_count * 100 // self.recipient_count)


class RecipientQuerySet(AccountScopedQuerySet):
    account_path = "broadcast__account"


class BroadcastRecipient(models.Model):
    """A contact the broadcast goes to; `message` is its text once created (its status is the
    recipient's: queued, sent, delivered, failed, blocked, or scheduled for deferred)."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey(
        "crm.Contact", on_delete=models.PROTECT, related_name="broadcast_recipients"
    )
    message = models.OneToOneField(
        "conversations.Message",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="broadcast_recipient",
    )

    objects = RecipientQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["broadcast", "id"], name="recipient_in_order")]
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "contact"], name="recipient_once_per_broadcast"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} in {self.broadcast}"
