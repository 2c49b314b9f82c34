from django.urls import path

from api import pages

urlpatterns = [
    path("settings/api-keys/", pages.ApiKeyListView.as_view(), name="api-keys"),
    path(
        "settings/api-keys/<int:pk>/revoke/",
        pages.ApiKeyRevokeView.as_view(),
        name="api-key-revoke",
    ),
    path("settings/webhooks/", pages.WebhookListView.as_view(), name="webhooks"),
    path("settings/webhooks/<int:pk>/", pages.WebhookDetailView.as_view(), name="webhook"),
    path(
        "settings/webhooks/<int:pk>/enable/",
        pages.WebhookEnableView.as_view(),
        name="webhook-enable",
    ),
    path(
        "settings/webhooks/<int:pk>/delete/",
        pages.WebhookDeleteView.as_view(),
        name="webhook-delete",
    ),
    path(
        "settings/webhooks/<int:pk>/deliveries/<int:delivery_pk>/resend/",
        pages.WebhookResendView.as_view(),
        name="webhook-resend",
    ),
]
