import re

from django import forms

from core.form_fields import BoundedModelMultipleChoiceField
from core.segments import MAX_BODY_LENGTH
from core.sms_fields import SmsTextarea, SmsTextField
from crm.models import Line
from keywords.models import Action, KeywordResponder

KEYWORD_SEPARATORS = re.compile(r"[,\n]")


class RadioSelectShownWith(forms.RadioSelect):
    """Radio buttons that only matter while the checkbox field `shown_with` is ticked."""

    def __init__(self, *args, shown_with: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.shown_with = shown_with


class ResponderForm(forms.Form):
    """A responder as typed: the keywords split into a list, the checkbox and radio buttons
    read as one action. `keywords.services.responder_save` checks every rule."""

    name = forms.CharField(max_length=80)
    keywords = forms.CharField(
        label="Keywords",
        help_text="One or more, separated by commas. Matching ignores case, spaces and hyphens, "
        "quotes and trailing . ! ?, letters typed apart and look-alike letters.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    lines = BoundedModelMultipleChoiceField(
        queryset=Line.objects.none(),
        required=False,
        help_text="None ticked: all lines.",
        widget=forms.CheckboxSelectMultiple,
    )
    updates_consent = forms.BooleanField(
        label="This keyword updates the contact's opt in/out status",
        required=False,
    )
    direction = forms.ChoiceField(
        label="Update it to",
        choices=[
            (Action.OPT_IN, "Opted in"),
            (Action.OPT_OUT, "Opted out"),
        ],
        required=False,
        widget=RadioSelectShownWith(shown_with="updates_consent"),
    )
    reply = SmsTextField(
        required=False,
        max_length=500,
        widget=SmsTextarea(attrs={"rows": 3}),
        help_text="At most 500 characters; {account} and {help_contact} are filled in. Empty: "
        "the account's default opt-in or opt-out reply, or no reply for reply-only.",
    )
    is_active = forms.BooleanField(label="Active", required=False)

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].queryset = Line.objects.for_account(account).order_by("name")
        self.fields["reply"].widget.account = account

    @classmethod
    def initial_for(cls, responder: KeywordResponder) -> dict:
        """The form's initial values for an existing responder."""
        updates_consent = responder.action != Action.REPLY
        return {
            "name": responder.name,
            "keywords": ", ".join(responder.keyword_list),
            "lines": list(responder.lines.all()),
            "updates_consent": updates_consent,
            "direction": responder.action if updates_consent else "",
            "reply": responder.reply,
            "is_active": responder.is_active,
        }

    def clean_keywords(self) -> list[str]:
        words = [word.strip() for word in KEYWORD_SEPARATORS.split(self.cleaned_data["keywords"])]
        return [word for word in words if word]

    def clean(self):
        data = super().clean()
        if not data.get("updates_consent"):
            data["action"] = Action.REPLY
        elif data.get("direction"):
            data["action"] = data["direction"]
        else:
            self.add_error("direction", "Choose whether the keyword opts the contact in or out.")
        return data

    def action_arguments(self) -> dict:
        """What `responder_save` takes, from the parsed form."""
        data = self.cleaned_data
        fields = ("name", "keywords", "lines", "action", "reply", "is_active")
        return {field: data[field] for field in fields}


class TesterForm(forms.Form):
    """A message as a contact would text it, to see what the product would do."""

    line = forms.ModelChoiceField(queryset=Line.objects.none(), empty_label=None)
    message = SmsTextField(
        nul_as_replacement=True,
        max_length=MAX_BODY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "e.g. STOP, or please remove me"}),
    )

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = Line.objects.for_account(account).order_by("name")
