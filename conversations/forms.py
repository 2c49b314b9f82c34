from django import forms

from core.segments import MAX_BODY_LENGTH


class ComposeForm(forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=MAX_BODY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Type a message…"}),
    )


class ConsentActionForm(forms.Form):
    """What an agent records in the contact panel; the engine checks role and evidence."""

    ACTIONS = (
        ("opt_out", "Record an opt-out"),
        ("opt_in", "Record an opt-in"),
        ("confirm_revocation", "Opt out"),
        ("dismiss_flag", "Not a revocation"),
    )

    action = forms.ChoiceField(choices=ACTIONS)
    note = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
