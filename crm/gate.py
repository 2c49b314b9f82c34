"""The send gate's rule (SPEC section 6): may this text go to a contact with this status?

One pure function, `block_reason`, judges every outbound text: when it is queued, again in the
worker right before the provider is called, and for the composer's warning before anything is
tried. conversations.sending stores and delivers; this says yes or why not.
"""

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from core.phones import format_phone
from crm.models import ConsentPolicy, ConsentStatus, Line

OPT_OUT_CONFIRMATION_WINDOW = timedelta(minutes=5)


class Purpose(models.TextChoices):
    """Why an outbound message is sent; the gate lets some purposes through an opt-out."""

    MESSAGE = "message", "Message"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation", "Opt-out confirmation"
    HELP_REPLY = "help_reply", "Help reply"


def block_reason(
    *,
    line: Line,
    status: str,
    since: datetime | None,
    purpose: str = Purpose.MESSAGE,
    confirmation_sent: bool = False,
    now: datetime | None = None,
) -> str:
    """Why the gate refuses this message, or an empty string when it may be sent.

    `status` is the contact's consent on `line` (empty: Not Defined). HELP replies always pass;
    an opt-out confirmation passes once, within minutes of the opt-out it confirms.
    """
    if purpose == Purpose.HELP_REPLY:
        return ""
    if status == ConsentStatus.OPTED_OUT:
        now = now or timezone.now()
        if purpose == Purpose.OPT_OUT_CONFIRMATION:
            if confirmation_sent:
                return "Not sent: the opt-out confirmation was already sent."
            if since is not None and since >= now - OPT_OUT_CONFIRMATION_WINDOW:
                return ""
        return f"Not sent: the contact opted out of {_label(line)}."
    if purpose == Purpose.OPT_OUT_CONFIRMATION:
        return "Not sent: the contact is not opted out, so there is nothing to confirm."
    if not status and line.consent_policy == ConsentPolicy.REQUIRE_OPT_IN:
        return f"Not sent: {_label(line)} requires opt-in and the contact has not opted in."
    return ""


def _label(line: Line) -> str:
    return f"{line.name} ({format_phone(line.number)})"
