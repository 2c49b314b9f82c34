import django_filters
from django import forms
from django.db.models import QuerySet, TextChoices

from crm.filters import contact_matches
from crm.models import Consent, ConsentStatus, Line
from reporting.snapshot import BOTH, snapshot_base, snapshot_rows


class StatusChoice(TextChoices):
    BOTH_STATUSES = BOTH, "Opted in and opted out"
    OPTED_IN = ConsentStatus.OPTED_IN.value, "Opted in"
    OPTED_OUT = ConsentStatus.OPTED_OUT.value, "Opted out"


class SnapshotFilter(django_filters.FilterSet):
    """The snapshot's form: lines (required, the account's own), status, as of, search.

    `qs` is the report's rows; `base` the statuses they come from (for the totals).
    """

    lines = django_filters.ModelMultipleChoiceFilter(
        queryset=Line.objects.none(),
        required=True,
        method="keep",
        label="Lines",
        error_messages={"required": "Choose at least one line."},
        widget=forms.CheckboxSelectMultiple,
    )
    status = django_filters.ChoiceFilter(
        choices=StatusChoice.choices, empty_label=None, method="keep", label="Status"
    )
    as_of = django_filters.IsoDateTimeFilter(
        method="keep",
        label="As of",
        help_text="Empty: now. Otherwise each status as it stood at that moment.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    q = django_filters.CharFilter(method="keep", label="Contact name or number")

    class Meta:
        model = Consent
        fields = ["lines", "status", "as_of", "q"]

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["lines"].queryset = Line.objects.for_account(account).order_by("name")

    def keep(self, queryset, name, value):
        return queryset

    @property
    def chosen_lines(self) -> list[Line]:
        return list(self.form.cleaned_data["lines"])

    @property
    def base(self) -> QuerySet:
        return snapshot_base(self.chosen_lines, self.form.cleaned_data.get("as_of"))

    @property
    def qs(self) -> QuerySet:
        data = self.form.cleaned_data
        rows = snapshot_rows(self.base, data.get("status") or BOTH)
        if data.get("q"):
            rows = rows.filter(contact_matches(data["q"], path="contact__"))
        return rows
