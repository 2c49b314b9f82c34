import django_filters
from django import forms
from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, QuerySet

from crm.models import NOT_DEFINED, NOT_DEFINED_LABEL, Consent, ConsentStatus, Contact, Line

STATUS_FILTER_CHOICES = [*ConsentStatus.choices, (NOT_DEFINED, NOT_DEFINED_LABEL)]


def contact_matches(text: str, path: str = "") -> Q:
    """Contacts whose name contains `text`, or whose number contains its digits (3 or more)."""
    text = text.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    matches = Q(**{f"{path}name__icontains": text})
    if len(digits) >= 3:
        matches |= Q(**{f"{path}phone__contains": digits})
    return matches


def short_number_hint(text: str) -> str:
    """What to say when a search looks like part of a number but is too short to be searched
    as one (fewer than 3 digits would match most of the book): the name search still runs, so
    a saved broadcast audience with "12" keeps reaching "Room 12"."""
    digits = sum(ch.isdigit() for ch in text)
    if 0 < digits < 3 and not any(ch.isalpha() for ch in text):
        return "Type at least 3 digits to search by number."
    return ""


class SearchHintMixin:
    """A filterset whose `q` searches contacts says when the text is too short a number."""

    @property
    def search_hint(self) -> str:
        return short_number_hint(self.data.get("q", "") if self.data else "")


class ContactFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        if data.get("consent") and not data.get("line"):
            self.add_error("line", "Choose the line whose consent status to filter by.")
        return data


class ContactFilter(SearchHintMixin, django_filters.FilterSet):
    """The Contacts table's filters; line choices are the request's account's lines only.

    Choosing a line adds the contact's status on it to each row (`line_status`), which the
    status filter then narrows: opted in, opted out, or Not Defined (no record on that line).
    """

    q = django_filters.CharFilter(method="search", label="Search by name or number")
    line = django_filters.ModelChoiceFilter(
        queryset=Line.objects.none(), empty_label="Any line", method="with_line_status"
    )
    consent = django_filters.ChoiceFilter(
        choices=STATUS_FILTER_CHOICES,
        empty_label="Any status",
        label="Consent status on the line",
        method="with_consent",
    )

    class Meta:
        model = Contact
        fields = ["q", "line", "consent"]
        form = ContactFilterForm

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["line"].queryset = Line.objects.for_account(account).order_by("name")

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(contact_matches(value))

    def with_line_status(self, queryset: QuerySet, name: str, line: Line) -> QuerySet:
        return queryset.annotate(
            line_consent=FilteredRelation("consents", condition=Q(consents__line=line))
        ).annotate(line_status=F("line_consent__status"), line_since=F("line_consent__since"))

    def with_consent(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == NOT_DEFINED:
            # NOT EXISTS, not "IS NULL" on the joined row: PostgreSQL plans it as an anti-join
            # that stops after one page, where the other reads every contact (1 s at 1M).
            line = self.form.cleaned_data["line"]
            return queryset.filter(
                ~Exists(Consent.objects.filter(contact=OuterRef("pk"), line=line))
            )
        return queryset.filter(line_status=value)

    @property
    def chosen_line(self) -> Line | None:
        return self.form.cleaned_data.get("line") if self.is_bound and self.is_valid() else None
