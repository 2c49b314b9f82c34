from django import forms

from conversations.forms import SendAtInput, line_label
from core.form_fields import FieldsetsMixin
from core.segments import MAX_BODY_LENGTH
from core.sms_fields import SmsTextarea, SmsTextField
from crm.filters import STATUS_FILTER_CHOICES
from crm.models import ContactImport, ImportStatus, Line


class BroadcastForm(FieldsetsMixin, forms.Form):
    """A broadcast as typed. Parsing only: `broadcasts.services.broadcast_create` checks it."""

    fieldsets = [
        ("Name and line", ["name", "line"]),
        ("Audience", ["search", "status_line", "consent_status", "contact_import"]),
        ("Message", ["body", "send_at"]),
    ]

    name = forms.CharField(max_length=120, help_text="For your team: contacts never see it.")
    line = forms.ModelChoiceField(queryset=Line.objects.none(), label="From line", empty_label=None)
    search = forms.CharField(
        required=False, max_length=200, label="Contacts whose name or number contains"
    )
    status_line = forms.ModelChoiceField(
        queryset=Line.objects.none(),
        required=False,
        label="Whose consent status on",
        empty_label="Any line",
    )
    consent_status = forms.ChoiceField(
        choices=[("", "Any status"), *STATUS_FILTER_CHOICES], required=False, label="is"
    )
    contact_import = forms.ModelChoiceField(
        queryset=ContactImport.objects.none(),
        required=False,
        label="Only the contacts of the import",
        empty_label="Any contacts",
    )
    body = SmsTextField(
        label="Message",
        max_length=MAX_BODY_LENGTH,
        widget=SmsTextarea(attrs={"rows": 4}),
        help_text="{first_name}, {name} and {account} are filled in for each contact (empty "
        "for a contact without a name), so the count above is for the text as typed.",
    )
    send_at = forms.DateTimeField(
        label="Send at",
        required=False,
        widget=SendAtInput(),
        help_text="Empty: when you confirm after the preview. Times are in the app's time zone.",
    )

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        lines = Line.objects.for_account(account).order_by("name")
        for name in ("line", "status_line"):
            self.fields[name].queryset = lines
            self.fields[name].label_from_instance = line_label
        self.fields["contact_import"].queryset = ContactImport.objects.for_account(account).filter(
            status=ImportStatus.DONE
        )
