from django.contrib import admin

from conversations.models import Conversation, ConversationStatus, Message
from conversations.services import conversation_close, conversation_reopen
from crm.admin import ActionAdmin, ReadOnlyAdmin


@admin.register(Conversation)
class ConversationAdmin(ActionAdmin):
    """Conversations are opened by messages; staff may only close or reopen one."""

    list_display = ["contact", "line", "status", "last_message_at", "created_at"]
    list_select_related = ["contact", "line"]
    list_filter = [
        "status",
        ("account", admin.RelatedOnlyFieldListFilter),
        ("line", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["contact__name", "contact__phone", "line__number", "line__name"]
    fields = ["account", "contact", "line", "status", "last_message_at", "flagged_message"]
    readonly_fields = ["account", "contact", "line", "last_message_at", "flagged_message"]

    def has_add_permission(self, request) -> bool:
        return False

    def validate(self, request, obj, data) -> None:
        """Choosing open or closed is all there is to check."""

    def perform(self, request, obj, data) -> Conversation:
        closing = data["status"] == ConversationStatus.CLOSED
        return (conversation_close if closing else conversation_reopen)(conversation=obj)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "direction",
        "remote_number",
        "line",
        "status",
        "purpose",
        "short_body",
        "blocked_reason",
        "times_requeued",
    ]
    list_select_related = ["line"]
    list_filter = [
        "direction",
        "status",
        "purpose",
        ("line__account", admin.RelatedOnlyFieldListFilter),
        ("line", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["body", "remote_number", "provider_message_id", "contact__name"]
    raw_id_fields = ["contact", "sent_by"]
    date_hierarchy = "created_at"

    @admin.display(description="Body")
    def short_body(self, message: Message) -> str:
        return message.body[:60]
