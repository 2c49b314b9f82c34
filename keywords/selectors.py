"""Reads of keyword responders: which answer on a line, what a message means, what is missing."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from core.config_cache import cached
from crm.models import Account, Line
from crm.selectors import active_languages
from keywords.decisions import Decision, decide
from keywords.models import Action, KeywordResponder


def responders_for_line(line: Line) -> list[KeywordResponder]:
    """The account's active responders that apply on the line, line-bound ones first.

    One query: a responder bound to the line wins over one for all lines (SPEC section 2).
    Kept in the process's memory until any responder or line changes (core.config_cache): it
    is read for every message received.
    """
    return cached(f"responders:{line.pk}", lambda: _responders_for_line(line))


def _responders_for_line(line: Line) -> list[KeywordResponder]:
    through = KeywordResponder.lines.through
    bound = Exists(through.objects.filter(keywordresponder_id=OuterRef("pk"), line_id=line.pk))
    on_some_line = Exists(through.objects.filter(keywordresponder_id=OuterRef("pk")))
    return list(
        KeywordResponder.objects.filter(account_id=line.account_id, is_active=True)
        .annotate(bound=bound)
        .filter(Q(bound=True) | ~on_some_line)
        .order_by("-bound", "pk")
    )


def decide_for_line(line: Line, body: str, opt_out_type: str = "") -> Decision:
    """What a message texted to this line means: the worker applies it, the tester shows it."""
    return decide(
        account=line.account,
        body=body,
        opt_out_type=opt_out_type,
        responders=responders_for_line(line),
        languages=active_languages(line.account),
    )


@dataclass(frozen=True)
class CoverageGap:
    """An opt-in or opt-out responder the account lacks, on these lines (empty: all of them)."""

    action: str
    lines: tuple[Line, ...]

    @property
    def label(self) -> str:
        return Action(self.action).label.lower()


def responder_coverage_gaps(account: Account) -> list[CoverageGap]:
    """The opt-in and opt-out responders missing for some line, in one query (it runs on every
    admin page). SPEC 4: carriers do not all handle the default keywords, so each line needs
    the account's own."""
    actions = (Action.OPT_IN, Action.OPT_OUT)
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
