from django.contrib import admin
from django.core.exceptions import ValidationError

from crm.admin import ActionAdmin
from keywords.models import KeywordResponder
from keywords.services import responder_delete, responder_save, responder_validate


@admin.register(KeywordResponder)
class KeywordResponderAdmin(ActionAdmin):
    """Responders under the same rules as on the Keywords page (`responder_save`); deleting
    one that is evidence switches it off instead (`responder_delete`)."""

    list_display = ["name", "account", "action", "keyword_list", "is_active", "updated_at"]
    list_select_related = ["account"]
    list_filter = ["action", "is_active", ("account", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "keywords", "reply"]
    filter_horizontal = ["lines"]
    actions = None

    @admin.display(description="Keywords")
    def keyword_list(self, responder: KeywordResponder) -> str:
        return ", ".join(responder.keyword_list)

    def validate(self, request, obj, data) -> None:
        account = self.account_for(obj, data)
        if account is None:
            return
        keywords = data.get("keywords")
        if not isinstance(keywords, list) or not all(isinstance(word, str) for word in keywords):
            raise ValidationError({"keywords": 'A list of words, e.g. ["JOIN", "SIGN UP"].'})
        responder_validate(responder=obj, account=account, **self._arguments(data))

    def perform(self, request, obj, data) -> KeywordResponder:
        account = self.account_for(obj, data)
        return responder_save(responder=obj, account=account, **self._arguments(data))

    @staticmethod
    def _arguments(data) -> dict:
        return {
            "name": data.get("name", ""),
            "keywords": [word.strip() for word in data.get("keywords", [])],
            "lines": data.get("lines", []),
            "action": data.get("action", ""),
            "reply": data.get("reply", ""),
            "is_active": data.get("is_active", False),
        }

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("keywords.delete_keywordresponder")

    def delete_model(self, request, obj) -> None:
        responder_delete(responder=obj)
