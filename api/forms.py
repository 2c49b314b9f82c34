"""Forms of the API keys and Webhooks pages: they parse; the services decide."""

from django import forms

from api.models import KeyAccess, WebhookEvent


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="The system that will use it, e.g. “Booking site”."
    )
    access = forms.ChoiceField(
        choices=KeyAccess.choices,
        initial=KeyAccess.READ,
        widget=forms.RadioSelect,
        help_text="Read: look up consent and follow changes. Read and write: also record "
        "opt-ins and opt-outs, edit contacts and send texts.",
    )


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/capacity"}),
    )
    description = forms.CharField(max_length=200, required=False)
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )
