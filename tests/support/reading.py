"""Whether a message reads as a request to stop, as the webhook's decision reads it."""

import functools
from dataclasses import asdict

from crm.languages import ADDED_LANGUAGES, DEFAULT_REPLIES
from crm.models import Account, AccountLanguage
from keywords.decisions import decide
from keywords.matching import match_builtin
from keywords.models import Action


@functools.cache
def _account() -> tuple[Account, dict[str, AccountLanguage]]:
    account = Account(name="Acme Plumbing", help_contact="help@acme.example")
    packs = {
        language: AccountLanguage(
            account=account, language=language, is_active=True, **asdict(DEFAULT_REPLIES[language])
        )
        for language in ADDED_LANGUAGES
    }
    return account, packs


def reads_as_stop(message: str) -> bool:
    """The decision for an account with every pack on opts out (or flags)."""
    account, packs = _account()
    return decide(account=account, body=message, responders=(), languages=packs).asks_to_stop


def reads_as_stop_in_english_only(message: str) -> bool:
    """The same for an account as created: no pack on, English keywords only."""
    account, _ = _account()
    return decide(account=account, body=message, responders=()).asks_to_stop


def stop_keyword_only(message: str) -> bool:
    """The baseline: only an exact built-in opt-out keyword of any pack."""
    match = match_builtin(message, (*ADDED_LANGUAGES, "en"))
    return match is not None and match.kind == Action.OPT_OUT
