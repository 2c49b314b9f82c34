from django.urls import path

from conversations import webhooks

urlpatterns = [
    path(
        "webhooks/twilio/messages",
        webhooks.InboundMessageWebhook.as_view(),
        name="twilio-inbound-message",
    ),
    path("webhooks/twilio/status", webhooks.StatusCallbackWebhook.as_view(), name="twilio-status"),
]
