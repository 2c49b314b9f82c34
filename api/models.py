"""Keys other systems use to reach the API, and the endpoints we send webhooks to."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from crm.scoping import AccountScopedQuerySet


class KeyAccess(models.TextChoices):
    READ = "read", "Read"
    READ_WRITE = "read_write", "Read and write"


class ApiKey(models.Model):
    """A secret another system sends as `Authorization: Bearer <key>`.

    Only a SHA-256 of the key is stored (a key is 256 random bits: no salt or slow hash needed,
    and a lookup by hash is one index probe); the key itself is shown once, when created.
    Revoked keys stay as evidence of what they recorded.
    """

    account = models.ForeignKey("crm.Account", on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(max_length=100)
    access = models.CharField(max_length=10, choices=KeyAccess.choices)
    prefix = models.CharField(
        max_length=16, help_text="The key's first characters, to tell keys apart."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(
                condition=Q(access__in=KeyAccess.values), name="api_key_access_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.access == KeyAccess.READ_WRITE


class IdempotentRequest(models.Model):
    """The first answer to a request sent with an `Idempotency-Key`: a retry gets it again."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.status_code}"


class WebhookEvent(models.TextChoices):
    CONSENT_CHANGED = "consent.changed", "consent.changed: a contact's status changed"
    MESSAGE_BLOCKED = "message.blocked", "message.blocked: the gate refused a text"
    MESSAGE_RECEIVED = "message.received", "message.received: a contact texted in"
    MESSAGE_STATUS = "message.status", "message.status: a text was sent, delivered or failed"


class WebhookEndpointQuerySet(AccountScopedQuerySet):
    def subscribed(self, account_id: int, event: str) -> "WebhookEndpointQuerySet":
        return self.filter(account_id=account_id, is_active=True, events__contains=event)


class WebhookEndpoint(models.Model):
    """A URL of the business's that receives signed events; `events` is a comma-separated
    list of WebhookEvent values (a text column, so the lookup works on every database)."""

    account = models.ForeignKey(
        "crm.Account", on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.CharField(max_length=200)
    secret = models.CharField(max_length=80, editable=False)
    is_active = models.BooleanField(default=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="Since when every attempt failed; empty while healthy."
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    leased_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker delivers to it until then (one at a time)."
    )
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url

    @property
    def event_list(self) -> list[str]:
        return [event for event in self.events.split(",") if event]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up"


class WebhookDeliveryQuerySet(models.QuerySet):
    def for_account(self, account) -> "WebhookDeliveryQuerySet":
        return self.filter(endpoint__account=account)


class WebhookDelivery(models.Model):
    """One event for one endpoint, retried with backoff until delivered or a day has passed.

    Deliveries about one contact go in order: one waits while an earlier one for the same
    contact and endpoint is pending.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(default=uuid.uuid4, help_text="The same for every endpoint.")
    event_type = models.CharField(max_length=30, choices=WebhookEvent.choices)
    contact_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["endpoint", "contact_id", "id"],
                condition=Q(status="pending"),
                name="delivery_pending",
            ),
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_due"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One try to deliver: the endpoint's answer, or why there was none."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    attempted_at = models.DateTimeField()
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.response_code or self.error}"
