"""Form fields and widgets for text sent as SMS."""

from django import forms

from core.replies import render_reply
from core.segments import sms_segments


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
    """A reply box with a live count of characters and SMS parts of the text as sent.

    With `account` set, {account} and {help_contact} are filled in by `render_reply`, the
    function that builds the replies; static/js/app.js keeps the count up to date while typing.
    """

    template_name = "shared/_sms_textarea.html"
    account = None

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        counter_id = f"{widget['attrs'].get('id', name)}_counter"
        described = widget["attrs"].get("aria-describedby", "")
        widget["attrs"]["aria-describedby"] = f"{described} {counter_id}".strip()
        widget["counter_id"] = counter_id
        widget["account"] = self.account
        text = widget["value"] or ""
        widget["segments"] = sms_segments(
            render_reply(text, self.account) if self.account else text
        )
        return context
