"""Keyword matching (SPEC section 3): one rule for built-in and custom keywords.

A message matches a keyword when the whole message is it once both are brought to their
keyword forms (`core.text.keyword_forms`): Unicode NFKC, case-folded, surrounding white space,
quotes and trailing `. ! ?` removed, runs of spaces, hyphens and underscores made one space,
letters typed apart joined and look-alike characters folded (UTS #39). So "Stop", " STOP ",
"stop.", "STOP!!", "Opt-Out", "S.T.O.P" and STOP in Cyrillic letters match; "STOP this bill
now" does not.
"""

from core.text import keyword_forms
from keywords.models import Action

BUILTIN_KEYWORDS: dict[str, tuple[str, ...]] = {
    Action.OPT_OUT: (
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
    Action.OPT_IN: ("START", "UNSTOP", "YES", "SUBSCRIBE"),
    Action.HELP: ("HELP", "INFO"),
}


_BUILTIN_BY_FORM: dict[str, tuple[str, str]] = {}
for _kind, _keywords in BUILTIN_KEYWORDS.items():
    for _keyword in _keywords:
        for _form in keyword_forms(_keyword):
            _BUILTIN_BY_FORM.setdefault(_form, (_kind, _keyword))


def match_builtin(text: str) -> tuple[str, str] | None:
    """(kind, keyword) of the built-in keyword the whole message is, or None."""
    for form in keyword_forms(text):
        if form in _BUILTIN_BY_FORM:
            return _BUILTIN_BY_FORM[form]
    return None


def builtin_kind(keyword: str) -> str | None:
    """The kind of built-in keyword this word is (after normalisation), or None."""
    match = match_builtin(keyword)
    return match[0] if match else None


def same_keyword(first: str, second: str) -> bool:
    """Whether two texts are one keyword (their keyword forms meet)."""
    return not set(keyword_forms(first)).isdisjoint(keyword_forms(second))
