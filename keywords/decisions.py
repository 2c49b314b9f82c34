"""What an inbound message means for consent, and what to answer (SPEC section 2).

Pure: given the account, the message and the responders that apply, it decides; the worker
applies the decision and the message tester shows it, so both always agree.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from core.replies import render_reply
from core.text import keyword_forms
from crm.gate import Purpose
from crm.models import Account, ConsentSource, RevocationPolicy
from keywords.matching import match_builtin, same_keyword
from keywords.models import CONSENT_STATUS, Action, KeywordResponder
from keywords.revocation import detect_revocation

PROVIDER_SIGNALS = {"STOP": Action.OPT_OUT, "START": Action.OPT_IN, "HELP": Action.HELP}


@dataclass(frozen=True)
class Decision:
    rule: str
    action: str
    source: str = ""
    keyword: str = ""
    responder: KeywordResponder | None = None
    reply: str = ""
    reply_purpose: str = Purpose.MESSAGE

    @property
    def changes_consent(self) -> bool:
        return self.action in CONSENT_STATUS

    @property
    def consent_status(self) -> str:
        """The status the decision records (for one that changes consent)."""
        return CONSENT_STATUS[self.action]


def decide(
    *,
    account: Account,
    body: str,
    responders: Sequence[KeywordResponder],
    opt_out_type: str = "",
) -> Decision:
    """The first rule that matches: provider signal, responders, built-in keywords, phrases.

    `responders` are the active ones for the message's line, line-bound first. A responder
    that uses a built-in keyword may change its reply, never its effect (SPEC section 3).
    Provider signals get no reply from us: the provider has already answered the contact.
    """
    signal = (opt_out_type or "").strip().upper()
    if signal in PROVIDER_SIGNALS:
        action = PROVIDER_SIGNALS[signal]
        return Decision(
            rule=f"Carrier signal {signal}",
            action=action,
            source=ConsentSource.CARRIER_SIGNAL if action != Action.HELP else "",
            keyword=signal,
        )
    responder, responder_keyword = _matching_responder(body, responders)
    builtin = match_builtin(body)
    if builtin is not None:
        return _builtin_decision(account, *builtin, responder=responder)
    if responder is not None:
        return _responder_decision(account, responder, responder_keyword)
    reason = detect_revocation(body)
    if reason is not None:
        if account.revocation_policy == RevocationPolicy.FLAG:
            return Decision(rule=f"Possible revocation ({reason})", action=Action.FLAG)
        return Decision(
            rule=f"Revocation phrase ({reason})",
            action=Action.OPT_OUT,
            source=ConsentSource.PHRASE,
            reply=render_reply(account.opt_out_confirmation, account),
            reply_purpose=Purpose.OPT_OUT_CONFIRMATION,
        )
    return Decision(rule="No keyword or revocation phrase", action=Action.NOTHING)


def _matching_responder(
    body: str, responders: Sequence[KeywordResponder]
) -> tuple[KeywordResponder | None, str]:
    if not any(keyword_forms(body)):
        return None, ""
    for responder in responders:
        for keyword in responder.keyword_list:
            if same_keyword(keyword, body):
                return responder, keyword
    return None, ""


def _responder_decision(account: Account, responder: KeywordResponder, keyword: str) -> Decision:
    action = responder.action
    default_reply = {
        Action.OPT_IN: account.opt_in_reply,
        Action.OPT_OUT: account.opt_out_confirmation,
        Action.REPLY: "",
    }[action]
    return Decision(
        rule=f"Keyword responder “{responder.name}” ({keyword})",
        action=action,
        source=ConsentSource.KEYWORD if action != Action.REPLY else "",
        keyword=keyword,
        responder=responder,
        reply=render_reply(responder.reply or default_reply, account),
        reply_purpose=(
            Purpose.OPT_OUT_CONFIRMATION if action == Action.OPT_OUT else Purpose.MESSAGE
        ),
    )


def _builtin_decision(
    account: Account, action: str, keyword: str, responder: KeywordResponder | None = None
) -> Decision:
    """The built-in keyword's effect; a responder using the same word supplies the reply."""
    rule = f"Built-in keyword {keyword}"
    custom_reply = responder.reply if responder else ""
    if responder is not None:
        rule += f" (reply of responder “{responder.name}”)" if custom_reply else ""
    default_reply, purpose = {
        Action.OPT_OUT: (account.opt_out_confirmation, Purpose.OPT_OUT_CONFIRMATION),
        Action.OPT_IN: (account.opt_in_reply, Purpose.MESSAGE),
        Action.HELP: (account.help_reply, Purpose.HELP_REPLY),
    }[action]
    return Decision(
        rule=rule,
        action=action,
        source=ConsentSource.KEYWORD if action != Action.HELP else "",
        keyword=keyword,
        responder=responder,
        reply=render_reply(custom_reply or default_reply, account),
        reply_purpose=purpose,
    )
