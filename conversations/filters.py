import django_filters
from django.db.models import Q

from conversations.models import Conversation, ConversationStatus
from crm.models import Line


class ConversationFilter(django_filters.FilterSet):
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
        text = value.strip()
        digits = "".join(ch for ch in text if ch.isdigit())
        matches = Q(contact__name__icontains=text)
        if len(digits) >= 3:
            matches |= Q(contact__phone__contains=digits)
        return queryset.filter(matches)
