"""Writes of the account's keyword responders, each an action checking every rule.

The pages and the Django admin call these; the rules live here, nowhere else.
"""

import unicodedata
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from core.lengths import too_long
from core.replies import reply_problem
from core.text import has_bidi_controls, keyword_forms
from crm.models import Account, Line
from keywords.matching import builtin_kind, same_keyword
from keywords.models import RESPONDER_ACTIONS, Action, KeywordResponder

MAX_KEYWORD_LENGTH = 30

# A responder may use a built-in keyword only to change its reply, never its effect.
BUILTIN_ACTION = {
    Action.OPT_OUT: Action.OPT_OUT,
    Action.OPT_IN: Action.OPT_IN,
    Action.HELP: Action.REPLY,
}


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
        Action.OPT_OUT: "opts the contact out",
        Action.OPT_IN: "opts the contact in",
        Action.HELP: "answers with help",
    }[kind]
    return (
        f"“{keyword}” is a built-in {Action(kind).label.lower()} keyword: it always "
        f"{effect}. Choose “{Action(BUILTIN_ACTION[kind]).label}” to change its reply."
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


MAX_KEYWORDS = 20


def responder_validate(
    *,
    account: Account,
    name: str,
    keywords: list[str],
    lines: Iterable[Line],
    action: str,
    reply: str,
    is_active: bool,
    responder: KeywordResponder | None = None,
) -> None:
    """Every rule of a responder (SPEC section 3), with ValidationError keyed by field.

    Keywords: at least one, at most 20, each usable, none twice (in any spelling that matches
    the same messages), a built-in one only with its own effect, and none that another active
    responder uses on a shared line. The reply: known placeholders, and short enough once
    filled in. The lines: the account's own.
    """
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Give the responder a name."]
    elif message := too_long(KeywordResponder, "name", name.strip()):
        errors["name"] = message
    if action not in RESPONDER_ACTIONS:
        errors["action"] = [f"Unknown action {action!r}."]
    keyword_errors = _keyword_errors(keywords, action)
    lines = list(lines)
    if any(line.account_id != account.pk for line in lines):
        errors["lines"] = ["Choose lines of this account."]
    elif is_active and not keyword_errors:
        keyword_errors += [
            f"“{word}” is already a keyword of the active responder “{other.name}” on "
            f"{_lines_label(other)}. Remove it there, or choose other lines."
            for word, other in conflicting_responders(
                account=account, keywords=keywords, lines=lines, exclude=responder
            )
        ]
    if keyword_errors:
        errors["keywords"] = keyword_errors
    if message := too_long(KeywordResponder, "reply", reply):
        errors["reply"] = message
    elif problem := reply_problem(reply, account):
        errors["reply"] = [problem]
    if errors:
        raise ValidationError(errors)


def _keyword_errors(keywords: list[str], action: str) -> list[str]:
    if not keywords:
        return ["Enter at least one keyword."]
    if len(keywords) > MAX_KEYWORDS:
        return [f"At most {MAX_KEYWORDS} keywords per responder."]
    problems = [problem for word in keywords if (problem := keyword_problem(word))]
    for index, word in enumerate(keywords):
        earlier = next((other for other in keywords[:index] if same_keyword(other, word)), None)
        if earlier is not None:
            problems.append(f"“{word}” is the same keyword as “{earlier}”.")
    if problems or action not in RESPONDER_ACTIONS:
        return problems
    return [problem for word in keywords if (problem := builtin_problem(word, action))]


def _lines_label(responder: KeywordResponder) -> str:
    names = [line.name for line in responder.lines.all()]
    return ", ".join(names) if names else "all lines"


@transaction.atomic
def responder_save(
    *,
    account: Account,
    name: str,
    keywords: list[str],
    lines: Iterable[Line],
    action: str,
    reply: str,
    is_active: bool,
    responder: KeywordResponder | None = None,
) -> KeywordResponder:
    """Create a responder, or change one, after checking every rule (`responder_validate`).

    The account's row is locked first, so two admins saving responders with the same keyword
    at once cannot both pass the conflict check.
    """
    Account.objects.select_for_update().filter(pk=account.pk).get()
    lines = list(lines)
    keywords = [word.strip() for word in keywords]
    responder_validate(
        account=account,
        name=name,
        keywords=keywords,
        lines=lines,
        action=action,
        reply=reply,
        is_active=is_active,
        responder=responder,
    )
    responder = responder or KeywordResponder(account=account)
    responder.name, responder.keywords, responder.action = name.strip(), keywords, action
    responder.reply, responder.is_active = reply, is_active
    responder.save()
    responder.lines.set(lines)
    return responder


@transaction.atomic
def responder_set_active(*, responder: KeywordResponder, is_active: bool) -> KeywordResponder:
    """Switch a responder on or off; on only while its keywords are free on its lines."""
    Account.objects.select_for_update().filter(pk=responder.account_id).get()
    if is_active:
        conflicts = conflicting_responders(
            account=responder.account,
            keywords=responder.keyword_list,
            lines=responder.lines.all(),
            exclude=responder,
        )
        if conflicts:
            word, other = conflicts[0]
            raise ValidationError(
                {
                    "is_active": f"“{responder.name}” stays off: “{word}” is a keyword of the "
                    f"active responder “{other.name}” on a shared line."
                }
            )
    responder.is_active = is_active
    responder.save(update_fields=["is_active", "updated_at"])
    return responder


@transaction.atomic
def responder_delete(*, responder: KeywordResponder) -> bool:
    """Delete a responder; one that is evidence for recorded consent changes is switched off
    instead, since the history must keep pointing at it. Whether it was deleted."""
    if responder.consent_events.exists():
        responder.is_active = False
        responder.save(update_fields=["is_active", "updated_at"])
        return False
    responder.delete()
    return True
