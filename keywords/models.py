"""The account's own keywords: what a contact can text to opt in, opt out or get a reply."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from crm.models import ConsentStatus
from crm.scoping import AccountScopedQuerySet


class Action(models.TextChoices):
    """What a message or keyword does: the one spelling of opting in, opting out and help.

    Built-in keywords opt in, opt out or help; a responder opts in, opts out or only replies;
    a message's decision may also flag it for review or do nothing.
    """

    OPT_IN = "opt_in", "Opt in"
    OPT_OUT = "opt_out", "Opt out"
    HELP = "help", "Help"
    REPLY = "reply_only", "Reply only"
    FLAG = "flag", "Flag for review"
    NOTHING = "nothing", "No action"


RESPONDER_ACTIONS = (Action.OPT_IN, Action.OPT_OUT, Action.REPLY)
# The status an action leaves the contact in, for the two that change it.
CONSENT_STATUS = {Action.OPT_IN: ConsentStatus.OPTED_IN, Action.OPT_OUT: ConsentStatus.OPTED_OUT}


class KeywordResponder(models.Model):
    account = models.ForeignKey(
        "crm.Account", on_delete=models.PROTECT, related_name="keyword_responders"
    )
    name = models.CharField(max_length=80)
    keywords = models.JSONField(default=list, help_text="The words that trigger it.")
    lines = models.ManyToManyField(
        "crm.Line", blank=True, related_name="keyword_responders", help_text="None: all lines."
    )
    action = models.CharField(
        max_length=12, choices=[(action.value, action.label) for action in RESPONDER_ACTIONS]
    )
    reply = models.TextField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["account", "is_active"], name="responder_account_active")]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=[action.value for action in RESPONDER_ACTIONS]),
                name="responder_action_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.keywords, list) or not all(
            isinstance(word, str) for word in self.keywords
        ):
            raise ValidationError({"keywords": "Keywords must be a list of words."})

    @property
    def keyword_list(self) -> list[str]:
        """The keywords, ignoring anything stored that is not a word (it can never match)."""
        if not isinstance(self.keywords, list):
            return []
        return [word for word in self.keywords if isinstance(word, str)]
