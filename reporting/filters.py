from datetime import UTC, datetime

import django_filters
from django import forms
from django.utils import timezone

from core.form_fields import BoundedModelMultipleChoiceField
from crm.models import Consent, ConsentStatus, Line
from reporting.snapshot import BOTH, SnapshotRows


class LinesFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = BoundedModelMultipleChoiceField


# As-of moments outside these years are typing errors (and overflow date arithmetic).
EARLIEST_AS_OF = datetime(2000, 1, 1, tzinfo=UTC)


STATUS_CHOICES = [(BOTH, "Opted in and opted out"), *ConsentStatus.choices]


class SnapshotFilter(django_filters.FilterSet):
    """The snapshot's form: lines (required, the account's own), status, and as of."""

    lines = LinesFilter(
        queryset=Line.objects.none(),
        required=True,
        method="keep",
        label="Lines",
        error_messages={"required": "Choose at least one line."},
        widget=forms.CheckboxSelectMultiple,
    )
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, empty_label=None, method="keep", label="Status"
    )
    as_of = django_filters.IsoDateTimeFilter(
        method="keep",
        label="As of",
        help_text="Empty: now. Otherwise each status as it stood at that moment.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    class Meta:
        model = Consent
        fields = ["lines", "status", "as_of"]

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["lines"].queryset = Line.objects.for_account(account).order_by("name")
        self.form.fields["as_of"].widget.attrs["max"] = f"{timezone.localtime():%Y-%m-%dT%H:%M}"

    def keep(self, queryset, name, value):
        return queryset

    def is_valid(self) -> bool:
        valid = super().is_valid()
        as_of = self.form.cleaned_data.get("as_of") if valid else None
        if as_of and as_of < EARLIEST_AS_OF:
            self.form.add_error("as_of", "Choose a moment from 2000 on.")
            return False
        if as_of and as_of > timezone.now():
            self.form.add_error(
                "as_of", "That moment has not happened yet: leave As of empty for now."
            )
            return False
        return valid

    @property
    def chosen_lines(self) -> list[Line]:
        return list(self.form.cleaned_data["lines"])

    @property
    def qs(self) -> SnapshotRows:
        data = self.form.cleaned_data
        return SnapshotRows(self.chosen_lines, data.get("status") or BOTH, data.get("as_of"))
