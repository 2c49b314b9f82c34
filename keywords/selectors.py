"""Reads of keyword responders."""

from django.db.models import Exists, OuterRef, Q

from crm.models import Line
from keywords.models import KeywordResponder


def responders_for_line(line: Line) -> list[KeywordResponder]:
    """The account's active responders that apply on the line, line-bound ones first.

    One query: a responder bound to the line wins over one for all lines (SPEC section 2).
    """
    through = KeywordResponder.lines.through
    bound = Exists(through.objects.filter(keywordresponder_id=OuterRef("pk"), line_id=line.pk))
    on_some_line = Exists(through.objects.filter(keywordresponder_id=OuterRef("pk")))
    return list(
        KeywordResponder.objects.filter(account_id=line.account_id, is_active=True)
        .annotate(bound=bound)
        .filter(Q(bound=True) | ~on_some_line)
        .order_by("-bound", "pk")
    )
