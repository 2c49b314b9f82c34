"""Keyword matching (SPEC section 3): one rule for built-in and custom keywords.

A message matches a keyword when the whole message is it once both are brought to their
keyword forms (`core.text.keyword_forms`): Unicode NFKC, case-folded, surrounding white space,
quotes and trailing `. ! ?` removed, runs of spaces, hyphens and underscores made one space,
letters typed apart joined and look-alike characters folded (UTS #39). So "Stop", " STOP ",
"stop.", "STOP!!", "Opt-Out", "S.T.O.P" and STOP in Cyrillic letters match; "STOP this bill
now" does not. Built-in keywords come in language packs (`keywords.languages`): English is
always read, the others when the account has switched them on.
"""

from collections.abc import Collection
from dataclasses import dataclass

from core.text import keyword_forms
from crm.languages import Language
from keywords.languages import PACKS


@dataclass(frozen=True)
class BuiltinMatch:
    kind: str  # an Action
    keyword: str  # as the pack spells it
    language: str


_BUILTIN_BY_FORM: dict[str, BuiltinMatch] = {}
for _pack in PACKS.values():
    for _kind, _keywords in _pack.keywords.items():
        for _keyword in _keywords:
            for _form in keyword_forms(_keyword):
                _BUILTIN_BY_FORM.setdefault(_form, BuiltinMatch(_kind, _keyword, _pack.language))


def match_builtin(
    text: str, languages: Collection[str] = (Language.ENGLISH,)
) -> BuiltinMatch | None:
    """The built-in keyword of one of these languages that the whole message is, or None."""
    for form in keyword_forms(text):
        match = _BUILTIN_BY_FORM.get(form)
        if match is not None and match.language in languages:
            return match
    return None


def builtin_kind(keyword: str) -> str | None:
    """The kind of built-in keyword this word is in any language (after normalisation), or
    None: a responder may not give it another effect, whichever packs are on."""
    match = match_builtin(keyword, PACKS)
    return match.kind if match else None


def same_keyword(first: str, second: str) -> bool:
    """Whether two texts are one keyword (their keyword forms meet)."""
    return not set(keyword_forms(first)).isdisjoint(keyword_forms(second))
