from django.urls import path

from conversations import webhooks

urlpatterns = [
    path(
        "webhooks/twilio/messages",
        webhooks.twilio_inbound_message,
        name="twilio-inbound-message",
    ),
    path("webhooks/twilio/status", webhooks.twilio_status_callback, name="twilio-status"),
]
