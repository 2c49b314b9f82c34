from django import forms

from core.segments import MAX_BODY_LENGTH
from crm.models import ConsentStatus


class ComposeForm(forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=MAX_BODY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Type a message…"}),
    )


class StaffConsentForm(forms.Form):
    """A status staff record from the contact panel; the engine checks role and evidence."""

    consent = forms.ChoiceField(choices=ConsentStatus.choices)
    note = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewFlagForm(forms.Form):
    """An agent's answer to a message flagged as a possible revocation."""

    decision = forms.ChoiceField(choices=[("confirm", "Opt out"), ("dismiss", "Not a revocation")])
