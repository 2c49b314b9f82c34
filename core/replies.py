"""Reply templates: the texts an account sends back, with {account} and {help_contact} filled in.

One function builds replies (`render_reply`); the worker, the settings and responder forms and
the SMS counter all call it, so what an admin sees counted is what goes out.
"""

import re
from collections.abc import Sequence
from typing import Protocol

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
KNOWN_PLACEHOLDERS = ("account", "help_contact")
MAX_REPLY_LENGTH = 500


class Replier(Protocol):
    """What a reply is filled in with: the account's name and help contact."""

    name: str
    help_contact: str


def unknown_placeholders(template: str, known: Sequence[str] = KNOWN_PLACEHOLDERS) -> list[str]:
    """Placeholders that would be left as typed, e.g. a misspelt {acount}; `known` are the
    ones filled in (by default those of replies, `render_reply`'s)."""
    names = set(PLACEHOLDER.findall(template)) - set(known)
    return [f"{{{name}}}" for name in sorted(names)]


def render_reply(template: str, replier: Replier) -> str:
    """Fill the two placeholders replies may use; any other brace stays as typed."""
    return (
        template.replace("{account}", replier.name)
        .replace("{help_contact}", replier.help_contact)
        .strip()
    )


def reply_problem(template: str, replier: Replier) -> str | None:
    """Why this reply cannot be sent as written for this account, or None.

    Checked once filled in: a long name or help contact can push a reply over the limit,
    and a reply the worker cannot send is an opt-out confirmation that never goes.
    """
    unknown = unknown_placeholders(template)
    if unknown:
        return f"Unknown placeholder {', '.join(unknown)}: use {{account}} or {{help_contact}}."
    length = len(render_reply(template, replier))
    if length > MAX_REPLY_LENGTH:
        return (
            f"With {{account}} and {{help_contact}} filled in, this reply is {length} characters; "
            f"at most {MAX_REPLY_LENGTH}."
        )
    return None
