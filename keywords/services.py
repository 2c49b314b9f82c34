"""Rules for the account's keyword responders, shared by the forms, the banner and the worker."""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from core.text import has_bidi_controls, keyword_forms
from crm.models import Account, Line
from keywords.decisions import Decision, decide
from keywords.matching import KeywordKind, builtin_kind, same_keyword
from keywords.models import KeywordResponder, ResponderAction
from keywords.selectors import responders_for_line

MAX_KEYWORD_LENGTH = 30

# A responder may use a built-in keyword only to change its reply, never its effect.
BUILTIN_ACTION = {
    KeywordKind.OPT_OUT: ResponderAction.OPT_OUT,
    KeywordKind.OPT_IN: ResponderAction.OPT_IN,
    KeywordKind.HELP: ResponderAction.REPLY_ONLY,
}


def decide_for_line(line: Line, body: str, opt_out_type: str = "") -> Decision:
    """What a message texted to this line means: the worker applies it, the tester shows it."""
    return decide(
        account=line.account,
        body=body,
        opt_out_type=opt_out_type,
        responders=responders_for_line(line),
    )


def keyword_problem(keyword: str) -> str | None:
    """Why a keyword cannot be used as typed, or None."""
    if len(keyword) > MAX_KEYWORD_LENGTH:
        return f"“{keyword}” is longer than {MAX_KEYWORD_LENGTH} characters."
    if any(unicodedata.category(char) == "Cc" for char in keyword):
        return f"“{keyword}” holds control characters, which no phone sends."
    if has_bidi_controls(keyword):
        return (
            f"“{keyword}” holds bidirectional control characters, which change how it looks "
            "but not what it matches."
        )
    if not any(keyword_forms(keyword)):
        return (
            f"“{keyword}” can never match: matching ignores quotes, trailing . ! ? and "
            "invisible characters, and nothing else is left."
        )
    return None


def builtin_problem(keyword: str, action: str) -> str | None:
    """Why a built-in keyword cannot have this action, or None."""
    kind = builtin_kind(keyword)
    if kind is None or BUILTIN_ACTION[kind] == action:
        return None
    effect = {
        KeywordKind.OPT_OUT: "opts the contact out",
        KeywordKind.OPT_IN: "opts the contact in",
        KeywordKind.HELP: "answers with help",
    }[kind]
    return (
        f"“{keyword}” is a built-in {KeywordKind(kind).label.lower()} keyword: it always "
        f"{effect}. Choose “{ResponderAction(BUILTIN_ACTION[kind]).label}” to change its reply."
    )


def conflicting_responders(
    *,
    account: Account,
    keywords: Iterable[str],
    lines: Iterable[Line],
    exclude: KeywordResponder | None = None,
) -> list[tuple[str, KeywordResponder]]:
    """(keyword, responder) for each keyword another active responder uses on a shared line.

    No lines means all lines, which overlap every other responder.
    """
    wanted = list(keywords)
    line_ids = {line.pk for line in lines}
    others = (
        KeywordResponder.objects.for_account(account)
        .filter(is_active=True)
        .exclude(pk=exclude.pk if exclude else None)
        .prefetch_related("lines")
        .order_by("name")
    )
    conflicts = []
    for other in others:
        other_ids = {line.pk for line in other.lines.all()}
        if line_ids and other_ids and not line_ids & other_ids:
            continue
        conflicts += [
            (word, other)
            for word in wanted
            if any(same_keyword(word, theirs) for theirs in other.keyword_list)
        ]
    return conflicts


@dataclass(frozen=True)
class CoverageGap:
    """An opt-in or opt-out responder the account lacks, on these lines (empty: all of them)."""

    action: str
    lines: tuple[Line, ...]

    @property
    def label(self) -> str:
        return ResponderAction(self.action).label.lower()


def responder_coverage_gaps(account: Account) -> list[CoverageGap]:
    """The opt-in and opt-out responders missing for some line, in one query (it runs on every
    admin page). SPEC 4: carriers do not all handle the default keywords, so each line needs
    the account's own."""
    actions = (ResponderAction.OPT_IN, ResponderAction.OPT_OUT)
    lines = list(
        Line.objects.for_account(account)
        .annotate(**{f"covered_{action}": _line_covered(account, action) for action in actions})
        .order_by("name", "number")
    )
    if not lines:
        present = set(
            KeywordResponder.objects.for_account(account)
            .filter(is_active=True)
            .values_list("action", flat=True)
        )
        return [CoverageGap(action=action, lines=()) for action in actions if action not in present]
    gaps = []
    for action in actions:
        missing = tuple(line for line in lines if not getattr(line, f"covered_{action}"))
        if missing:
            everywhere = len(missing) == len(lines)
            gaps.append(CoverageGap(action=action, lines=() if everywhere else missing))
    return gaps


def _line_covered(account: Account, action: str) -> Exists:
    """Whether an active responder with this action answers on the line (bound to it, or to
    all lines)."""
    through = KeywordResponder.lines.through
    active = KeywordResponder.objects.filter(account=account, is_active=True, action=action)
    bound_here = through.objects.filter(
        line_id=OuterRef("pk"), keywordresponder__in=active.values("pk")
    )
    on_every_line = active.exclude(
        Exists(through.objects.filter(keywordresponder_id=OuterRef("pk")))
    )
    return Exists(bound_here) | Exists(on_every_line)
