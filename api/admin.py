"""Django admin: keys, endpoints and deliveries to look at; changes go through the pages."""

from django.contrib import admin

from api.models import ApiKey, WebhookDelivery, WebhookEndpoint
from crm.admin import ReadOnlyAdmin


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "prefix",
        "account",
        "access",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["access"]
    exclude = ["key_hash"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "account", "events", "is_active", "failing_since", "disabled_at"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event_type", "endpoint", "status", "attempts", "created_at", "delivered_at"]
    list_filter = ["status", "event_type"]
    list_select_related = ["endpoint"]
