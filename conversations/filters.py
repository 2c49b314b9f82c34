import django_filters

from conversations.models import Conversation, ConversationStatus
from crm.filters import SearchHintMixin, contact_matches
from crm.models import Line


class ConversationFilter(SearchHintMixin, django_filters.FilterSet):
    """Sidebar filters; the line choices are the request's account's lines only."""

    status = django_filters.ChoiceFilter(
        choices=ConversationStatus.choices, empty_label="All conversations"
    )
    line = django_filters.ModelChoiceFilter(queryset=Line.objects.none(), empty_label="All lines")
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Conversation
        fields = ["status", "line", "q"]

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["line"].queryset = Line.objects.for_account(account)

    def search(self, queryset, name, value):
        return queryset.filter(contact_matches(value, path="contact__"))
