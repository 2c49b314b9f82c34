"""The compliance audit's choices: lines and a period of days in the account's time zone."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError

from core.form_fields import BoundedModelMultipleChoiceField
from crm.models import Line
from reporting.compliance import Period

DEFAULT_DAYS = 30
EARLIEST_DAY = date(2000, 1, 1)


class ComplianceForm(forms.Form):
    lines = BoundedModelMultipleChoiceField(
        queryset=Line.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None chosen: every line.",
    )
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        label="To", help_text="Both days included.", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data, *, account, now: datetime):
        self.zone = ZoneInfo(account.time_zone)
        self.now = now
        today = now.astimezone(self.zone).date()
        if not data or not {"start", "end"} & set(data):
            data = {
                "start": today - timedelta(days=DEFAULT_DAYS - 1),
                "end": today,
                **({"lines": data.getlist("lines")} if data else {}),
            }
        super().__init__(data)
        self.today = today
        self.fields["lines"].queryset = Line.objects.for_account(account).order_by("name")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise ValidationError({"end": "The period ends before it starts."})
            if start < EARLIEST_DAY or end > self.today:
                raise ValidationError(
                    {"start": f"Choose days between {EARLIEST_DAY:%Y} and today ({self.today})."}
                )
        return data

    def period(self) -> Period:
        data = self.cleaned_data
        lines = list(data["lines"]) or list(self.fields["lines"].queryset)
        return Period(
            lines=lines,
            start=_midnight(data["start"], self.zone),
            end=_midnight(data["end"] + timedelta(days=1), self.zone),
            now=self.now,
            zone=self.zone,
        )


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=zone)
