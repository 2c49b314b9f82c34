from django import forms
from django.core.exceptions import ValidationError

from core.form_fields import FieldsetsMixin
from core.sms_fields import SmsTextarea, SmsTextField
from crm import import_files
from crm.models import Account, AccountLanguage, Line, time_zone_choices


class ContactForm(forms.Form):
    """A contact's details as typed; `crm.services` normalises the number and checks the rest.

    With `phone_locked` (the contact has consent history or messages), the number is shown but
    cannot be changed here: a different number is a different contact.
    """

    name = forms.CharField(max_length=200, required=False)
    phone = forms.CharField(
        label="Mobile number",
        max_length=40,
        help_text="With the country code, or a number in the default region.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(label="E-mail", required=False)

    def __init__(self, *args, phone_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if phone_locked:
            self.fields["phone"].disabled = True
            self.fields["phone"].help_text = (
                "The number cannot change: this contact's consent history and messages belong "
                "to it. Add a new contact for a new number."
            )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 CSV with a header row. You choose what each column holds next.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> import_files.UploadedFile:
        upload = self.cleaned_data["file"]
        import_files.check_size(upload.size)
        return import_files.read_upload(upload.name, upload.read())


class ImportMappingForm(forms.Form):
    """One choice per column of the file: what it holds, or ignore it."""

    def __init__(self, *args, headers: list[str], samples: list[list[str]], lines, **kwargs):
        super().__init__(*args, **kwargs)
        lines = list(lines)
        choices = [
            ("", "Ignore this column"),
            *import_files.Column.CHOICES,
            *[
                (import_files.consent_column(line), f"Consent on {line.name} ({line.number})")
                for line in lines
            ],
        ]
        guesses = import_files.guess_mapping(headers, lines)
        for index, header in enumerate(headers):
            field = forms.ChoiceField(
                choices=choices,
                required=False,
                label=header or f"Column {index + 1}",
                initial=guesses.get(index, ""),
            )
            field.samples = [row[index] for row in samples if index < len(row)]
            self.fields[f"column_{index}"] = field

    def clean(self):
        mapping = self.mapping()
        labels = dict(self.fields["column_0"].choices) if self.fields else {}
        columns_of: dict[str, list[int]] = {}
        for index, target in mapping.items():
            columns_of.setdefault(target, []).append(int(index) + 1)
        for target, columns in columns_of.items():
            if len(columns) > 1:
                raise ValidationError(
                    f"“{labels[target]}” is chosen for more than one column (columns "
                    f"{', '.join(map(str, columns))}).",
                    code="twice",
                )
        self._check_combinations(set(columns_of))
        return self.cleaned_data

    @staticmethod
    def _check_combinations(targets: set[str]) -> None:
        column = import_files.Column
        per_line = any(target.startswith(column.CONSENT_ON) for target in targets)
        if column.PHONE not in targets:
            raise ValidationError("Choose the column that holds the phone number.")
        if (column.LINE in targets) != (column.STATUS in targets):
            raise ValidationError(
                "A consent status column needs a line column beside it, and the other way round."
            )
        if column.STATUS in targets and per_line:
            raise ValidationError(
                "Use either a line and a status column, or one consent column per line, not both."
            )
        if column.NAME in targets and targets & {column.FIRST_NAME, column.LAST_NAME}:
            raise ValidationError("Choose either a name column or first and last name columns.")
        if column.CONSENT_DATE in targets and not (per_line or column.STATUS in targets):
            raise ValidationError("A consent date column needs a consent column to date.")

    def mapping(self) -> dict[str, str]:
        data = getattr(self, "cleaned_data", {})
        return {
            name.removeprefix("column_"): target
            for name, target in data.items()
            if name.startswith("column_") and target
        }


REPLIES = ("opt_out_reply", "opt_out_all_reply", "opt_in_reply", "help_reply")
QUIET_HOURS_FIELDS = ("quiet_hours_enabled", "quiet_hours_start", "quiet_hours_end")
SETTINGS_FIELDS = (
    "name",
    "help_contact",
    *REPLIES,
    "revocation_policy",
    "opt_out_scope",
    *QUIET_HOURS_FIELDS,
    "time_zone",
)


class AccountSettingsForm(FieldsetsMixin, forms.ModelForm):
    """How the account answers: its name in replies, help contact, default replies, phrases.

    Parsing only: `crm.services.account_settings_update` checks the replies once filled in.
    """

    fieldsets = [
        ("Replies", ["name", "help_contact", *REPLIES]),
        ("Opt-outs", ["revocation_policy", "opt_out_scope"]),
        ("Quiet hours", list(QUIET_HOURS_FIELDS)),
        ("Records", ["time_zone"]),
    ]

    class Meta:
        model = Account
        fields = list(SETTINGS_FIELDS)
        labels = {
            "name": "Name shown in replies",
            "opt_out_reply": "Opt-out reply",
            "opt_out_all_reply": "Opt-out reply when an opt-out covers every line",
            "opt_out_scope": "An opt-out applies to",
            "quiet_hours_enabled": "Quiet hours: hold texts outside these hours",
            "quiet_hours_start": "Texts may go from",
            "quiet_hours_end": "until",
            "opt_in_reply": "Opt-in reply",
            "help_reply": "Help reply",
            "revocation_policy": "When a message asks to stop in other words",
            "time_zone": "Time zone",
        }
        help_texts = {
            "opt_out_reply": "Sent once when a contact opts out (STOP). {account} and "
            "{help_contact} are filled in.",
            "opt_out_all_reply": "Sent instead of the opt-out reply when an opt-out applies to "
            "every line: it must say that it covers all your numbers.",
            "quiet_hours_enabled": "In the contact's local time, judged from the number. "
            "Replies to keywords, HELP, confirmations and answers within 24 hours of the "
            "contact's last text are exempt; other texts wait for the next allowed time.",
            "opt_in_reply": "Sent when a contact opts in (START).",
            "help_reply": "Sent for HELP or INFO, even to contacts who opted out.",
            "time_zone": "Consent records and the compliance audit show times in UTC and in "
            "this zone. Quiet hours follow each contact's own zone.",
        }
        widgets = {
            **dict.fromkeys(REPLIES, SmsTextarea(attrs={"rows": 3})),
            "revocation_policy": forms.RadioSelect,
            "opt_out_scope": forms.RadioSelect,
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "time_zone": forms.Select(choices=time_zone_choices),
        }
        field_classes = dict.fromkeys(REPLIES, SmsTextField)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in REPLIES:
            self.fields[name].widget.account = self.instance


class LanguagePackForm(forms.ModelForm):
    """One language pack: on or off, and its replies. Parsing only:
    `crm.services.account_language_update` checks the replies once filled in."""

    class Meta:
        model = AccountLanguage
        fields = ["is_active", *REPLIES]
        labels = {
            "opt_out_reply": "Opt-out reply",
            "opt_out_all_reply": "Opt-out reply when an opt-out covers every line",
            "opt_in_reply": "Opt-in reply",
            "help_reply": "Help reply",
        }
        widgets = dict.fromkeys(REPLIES, SmsTextarea(attrs={"rows": 3}))
        field_classes = dict.fromkeys(REPLIES, SmsTextField)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = self.instance.get_language_display()
        self.fields["is_active"].label = f"Answer keywords in {language}"
        self.fields["is_active"].help_text = (
            f"A contact who texts a {language} keyword gets these replies; off, those words are "
            "read as requests in other words (an opt-out still opts out, answered in English)."
        )
        for name in REPLIES:
            self.fields[name].widget.account = self.instance.account

    @property
    def language(self) -> str:
        return self.instance.language


class LineForm(forms.ModelForm):
    """A line's name and consent policy, as typed; `crm.services.line_update` checks them."""

    class Meta:
        model = Line
        fields = ["name", "consent_policy"]
        widgets = {"consent_policy": forms.Select}


class AccountLinesFormSet(forms.BaseModelFormSet):
    """The account's existing lines only: an id from elsewhere is an error, never a new line."""

    def clean(self):
        super().clean()
        if any(form.instance.pk is None for form in self.forms):
            raise ValidationError(
                "The form names a line that is not one of this account's; reload the page."
            )


LineFormSet = forms.modelformset_factory(
    Line,
    form=LineForm,
    formset=AccountLinesFormSet,
    extra=0,
    can_delete=False,
    edit_only=True,
)
