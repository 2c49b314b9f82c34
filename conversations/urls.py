from django.urls import path

from conversations import views, webhooks

urlpatterns = [
    path("conversations/", views.ConversationListView.as_view(), name="conversations"),
    path("conversations/new/", views.NewMessageView.as_view(), name="conversation-new"),
    path("conversations/<int:pk>/", views.ConversationDetailView.as_view(), name="conversation"),
    path(
        "conversations/<int:pk>/consent",
        views.ConversationConsentView.as_view(),
        name="conversation-consent",
    ),
    path(
        "conversations/<int:pk>/review",
        views.ConversationReviewView.as_view(),
        name="conversation-review",
    ),
    path(
        "conversations/<int:pk>/status",
        views.ConversationStatusView.as_view(),
        name="conversation-status",
    ),
    path(
        "conversations/messages/<int:pk>/",
        views.MessageInConversationView.as_view(),
        name="conversation-message",
    ),
    path(
        "conversations/messages/<int:pk>/cancel",
        views.MessageCancelView.as_view(),
        name="conversation-message-cancel",
    ),
    path(
        "webhooks/twilio/messages",
        webhooks.InboundMessageWebhook.as_view(),
        name="twilio-inbound-message",
    ),
    path("webhooks/twilio/status", webhooks.StatusCallbackWebhook.as_view(), name="twilio-status"),
]
