"""Keyword matching (SPEC section 3): one normalisation for built-in and custom keywords.

A message matches a keyword when the whole message equals it once both are normalised: Unicode
NFKC, case-folded, surrounding white space, quotes and trailing `. ! ?` removed, and runs of
spaces, hyphens and underscores made one space. So "Stop", " STOP ", "stop.", "STOP!!" and
"Opt-Out" match; "STOP this bill now" does not.
"""

from django.db import models

from core.text import normalize


class KeywordKind(models.TextChoices):
    OPT_OUT = "opt_out", "Opt out"
    OPT_IN = "opt_in", "Opt in"
    HELP = "help", "Help"


BUILTIN_KEYWORDS: dict[str, tuple[str, ...]] = {
    KeywordKind.OPT_OUT: (
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "OPT OUT",
        "OPT-OUT",
    ),
    KeywordKind.OPT_IN: ("START", "UNSTOP", "YES", "SUBSCRIBE"),
    KeywordKind.HELP: ("HELP", "INFO"),
}


_BUILTIN_BY_NORMAL_FORM: dict[str, tuple[str, str]] = {}
for _kind, _keywords in BUILTIN_KEYWORDS.items():
    for _keyword in _keywords:
        _BUILTIN_BY_NORMAL_FORM.setdefault(normalize(_keyword), (_kind, _keyword))


def match_builtin(text: str) -> tuple[str, str] | None:
    """(kind, keyword) of the built-in keyword the whole message is, or None."""
    return _BUILTIN_BY_NORMAL_FORM.get(normalize(text))


def builtin_kind(keyword: str) -> str | None:
    """The kind of built-in keyword this word is (after normalisation), or None."""
    match = _BUILTIN_BY_NORMAL_FORM.get(normalize(keyword))
    return match[0] if match else None
