from django.contrib import admin

from crm.admin import AccountScopedAdmin
from keywords.models import KeywordResponder


@admin.register(KeywordResponder)
class KeywordResponderAdmin(AccountScopedAdmin):
    list_display = ["name", "account", "action", "keyword_list", "is_active", "updated_at"]
    list_select_related = ["account"]
    list_filter = ["action", "is_active", ("account", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "keywords", "reply"]
    filter_horizontal = ["lines"]

    @admin.display(description="Keywords")
    def keyword_list(self, responder: KeywordResponder) -> str:
        return ", ".join(responder.keywords)
