import re

from django import forms
from django.core.exceptions import ValidationError

from core.form_fields import BoundedModelMultipleChoiceField
from core.replies import reply_problem
from core.segments import MAX_BODY_LENGTH
from core.sms_fields import SmsTextarea, SmsTextField
from crm.models import Line
from keywords import services
from keywords.matching import same_keyword
from keywords.models import KeywordResponder, ResponderAction

KEYWORD_SEPARATORS = re.compile(r"[,\n]")
MAX_KEYWORDS = 20


class RadioSelectShownWith(forms.RadioSelect):
    """Radio buttons that only matter while the checkbox field `shown_with` is ticked."""

    def __init__(self, *args, shown_with: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.shown_with = shown_with


class ResponderForm(forms.ModelForm):
    keywords = forms.CharField(
        label="Keywords",
        help_text="One or more, separated by commas. Matching ignores case, spaces and hyphens, "
        "quotes and trailing . ! ?",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    lines = BoundedModelMultipleChoiceField(
        queryset=Line.objects.none(),
        required=False,
        help_text="None chosen: all lines.",
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    updates_consent = forms.BooleanField(
        label="This keyword updates the contact's opt in/out status",
        required=False,
    )
    direction = forms.ChoiceField(
        label="Update it to",
        choices=[
            (ResponderAction.OPT_IN, "Opted in"),
            (ResponderAction.OPT_OUT, "Opted out"),
        ],
        required=False,
        widget=RadioSelectShownWith(shown_with="updates_consent"),
    )

    field_order = ["name", "keywords", "lines", "updates_consent", "direction", "reply"]

    class Meta:
        model = KeywordResponder
        fields = ["name", "keywords", "lines", "reply", "is_active"]
        labels = {"is_active": "Active", "reply": "Reply"}
        help_texts = {
            "reply": "At most 500 characters; {account} and {help_contact} are filled in. Empty: "
            "the account's default opt-in or opt-out reply, or no reply for reply-only.",
        }
        widgets = {"reply": SmsTextarea(attrs={"rows": 3})}
        field_classes = {"reply": SmsTextField}

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.instance.account = account
        self.fields["lines"].queryset = Line.objects.for_account(account).order_by("name")
        self.fields["reply"].widget.account = account
        action = self.instance.action if self.instance.pk else self.initial.get("action")
        if action in (ResponderAction.OPT_IN, ResponderAction.OPT_OUT):
            self.initial.setdefault("updates_consent", True)
            self.initial.setdefault("direction", action)
        if self.instance.pk:
            self.initial["keywords"] = ", ".join(self.instance.keyword_list)

    def clean_keywords(self) -> list[str]:
        words = [word.strip() for word in KEYWORD_SEPARATORS.split(self.cleaned_data["keywords"])]
        words = [word for word in words if word]
        if not words:
            raise ValidationError("Enter at least one keyword.")
        if len(words) > MAX_KEYWORDS:
            raise ValidationError(f"At most {MAX_KEYWORDS} keywords per responder.")
        problems = [problem for word in words if (problem := services.keyword_problem(word))]
        for index, word in enumerate(words):
            earlier = next((other for other in words[:index] if same_keyword(other, word)), None)
            if earlier is not None:
                problems.append(f"“{word}” is the same keyword as “{earlier}”.")
        if problems:
            raise ValidationError(problems)
        return words

    def clean_reply(self) -> str:
        reply = self.cleaned_data["reply"]
        problem = reply_problem(reply, self.account)
        if problem:
            raise ValidationError(problem)
        return reply

    def clean(self):
        data = super().clean()
        action = self._action(data)
        if action is None:
            return data
        self.instance.action = action
        words = data.get("keywords") or []
        builtin = [problem for word in words if (problem := services.builtin_problem(word, action))]
        if builtin:
            self.add_error("keywords", builtin)
        if data.get("is_active") and "lines" in data and words:
            for word, other in services.conflicting_responders(
                account=self.account, keywords=words, lines=data["lines"], exclude=self.instance
            ):
                self.add_error(
                    "keywords",
                    f"“{word}” is already a keyword of the active responder “{other.name}” on "
                    f"{_lines_label(other)}. Remove it there, or choose other lines.",
                )
        return data

    def _action(self, data) -> str | None:
        if not data.get("updates_consent"):
            return ResponderAction.REPLY_ONLY
        if not data.get("direction"):
            self.add_error("direction", "Choose whether the keyword opts the contact in or out.")
            return None
        return data["direction"]


def _lines_label(responder: KeywordResponder) -> str:
    names = [line.name for line in responder.lines.all()]
    return ", ".join(names) if names else "all lines"


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
