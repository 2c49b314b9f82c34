"""Form fields and widgets for text sent as SMS."""

from django import forms

from conversations.segments import sms_segments


class SmsTextField(forms.CharField):
    """Text as it is sent: a line break is one character (browsers post CRLF), counted before
    the length is checked. With `nul_as_replacement`, NUL becomes U+FFFD, as the webhook
    stores it, instead of being refused."""

    def __init__(self, *args, nul_as_replacement: bool = False, **kwargs):
        self.nul_as_replacement = nul_as_replacement
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        text = super().to_python(value).replace("\r\n", "\n")
        return text.replace("\x00", "\ufffd") if self.nul_as_replacement else text


class SmsTextarea(forms.Textarea):
    """A reply box with a live count of characters and SMS parts, placeholders filled in.

    `placeholders` holds what {account} and {help_contact} become, so the count is of the text
    the contact receives; static/js/app.js keeps it up to date while typing.
    """

    template_name = "shared/_sms_textarea.html"

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.placeholders = {"account": "", "help_contact": ""}

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        counter_id = f"{widget['attrs'].get('id', name)}_counter"
        described = widget["attrs"].get("aria-describedby", "")
        widget["attrs"]["aria-describedby"] = f"{described} {counter_id}".strip()
        widget["counter_id"] = counter_id
        widget["placeholders"] = self.placeholders
        text = widget["value"] or ""
        for key, replacement in self.placeholders.items():
            text = text.replace(f"{{{key}}}", replacement)
        widget["segments"] = sms_segments(text)
        return context
