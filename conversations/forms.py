from django import forms

from conversations.sending import MAX_BODY_LENGTH


class ComposeForm(forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=MAX_BODY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Type a message…"}),
    )
