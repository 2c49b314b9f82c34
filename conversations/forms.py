from django import forms

from conversations.models import AskedBy
from core.phones import format_phone
from core.segments import MAX_BODY_LENGTH
from core.sms_fields import SmsTextarea, SmsTextField
from crm.models import ConsentStatus, Contact, Line


def line_label(line: Line) -> str:
    return f"{line.name} · {format_phone(line.number)}"


class SendAtInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class ComposeForm(forms.Form):
    body = SmsTextField(
        label="Message",
        max_length=MAX_BODY_LENGTH,
        widget=SmsTextarea(attrs={"rows": 3, "placeholder": "Type a message…"}),
    )
    send_at = forms.DateTimeField(
        label="Send at (optional)",
        required=False,
        widget=SendAtInput(),
        help_text="Empty: now. Times are in the app's time zone.",
    )


class NewMessageForm(ComposeForm):
    """Who to text, from which line, and what: `to` is a name or number typed (`contact`, an
    id, only prefills it). Parsing only: `conversations.selectors.find_recipient` resolves `to`
    among the account's contacts, and the send action checks everything else."""

    to = forms.CharField(
        label="To",
        required=False,
        max_length=200,
        help_text="A contact's name or number, or a new number.",
    )
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, widget=forms.HiddenInput
    )
    line = forms.ModelChoiceField(queryset=Line.objects.none(), label="From line", empty_label=None)
    field_order = ["to", "contact", "line", "body", "send_at"]

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.for_account(account)
        self.fields["line"].queryset = Line.objects.for_account(account).order_by("name")


class StaffConsentForm(forms.Form):
    """A status staff record from the contact panel; the engine checks role and evidence."""

    consent = forms.ChoiceField(choices=ConsentStatus.choices)
    asked_by = forms.ChoiceField(
        choices=AskedBy.choices, required=False, widget=forms.RadioSelect, label="How they asked"
    )
    note = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewFlagForm(forms.Form):
    """An agent's answer to a message flagged as a possible revocation."""

    decision = forms.ChoiceField(choices=[("confirm", "Opt out"), ("dismiss", "Not a revocation")])
