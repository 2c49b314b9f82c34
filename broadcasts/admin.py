from django.contrib import admin

from broadcasts.models import Broadcast
from crm.admin import ReadOnlyAdmin


@admin.register(Broadcast)
class BroadcastAdmin(ReadOnlyAdmin):
    """Broadcasts are written, sent and cancelled on their pages, through their actions; the
    admin shows them."""

    list_display = ["name", "account", "line", "status", "recipient_count", "created_at"]
    list_select_related = ["account", "line"]
    list_filter = ["status", ("account", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "body"]
    raw_id_fields = ["created_by", "confirmed_by", "cancelled_by", "contact_import"]
