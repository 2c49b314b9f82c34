from django import forms


class SmsTextarea(forms.Textarea):
    """A text box with a live count of characters and SMS parts (static/js/app.js)."""

    template_name = "shared/_sms_textarea.html"
