"""What an inbound message means for consent, and what to answer (SPEC section 2).

Pure: given the account, the message and the responders that apply, it decides; the worker
applies the decision and the message tester shows it, so both always agree.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from core.replies import render_reply
from core.text import keyword_forms
from crm.gate import Purpose
from crm.languages import Language
from crm.models import Account, AccountLanguage, ConsentSource, RevocationPolicy
from keywords.matching import match_builtin, same_keyword
from keywords.misspellings import read_misspelling
from keywords.models import CONSENT_STATUS, Action, KeywordResponder
from keywords.revocation import read_revocation

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
    language: str = Language.ENGLISH  # the language read
    reply_language: str = ""  # the reply's, when not the one read (its pack is off)
    read_as: str = ""  # the misspelt word read as `keyword`, e.g. "stpo"

    @property
    def language_label(self) -> str:
        return Language(self.language).label

    @property
    def asks_to_stop(self) -> bool:
        """Whether the message was read as a request to stop (opted out or flagged)."""
        return self.action in (Action.OPT_OUT, Action.FLAG)

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
    languages: Mapping[str, AccountLanguage] | None = None,
) -> Decision:
    """The first rule that matches: provider signal, responders, built-in keywords, their
    misspellings, phrases.

    `responders` are the active ones for the message's line, line-bound first. A responder
    that uses a built-in keyword may change its reply, never its effect (SPEC section 3).
    `languages` are the account's active language packs: their keywords are read, and a
    keyword or phrase in one is answered with its replies. Provider signals get no reply from
    us: the provider has already answered the contact.
    """
    languages = languages or {}
    read = (Language.ENGLISH, *languages)
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
    builtin = match_builtin(body, read)
    if builtin is not None:
        replies = languages.get(builtin.language, account)
        return _builtin_decision(
            replies, builtin.kind, builtin.keyword, builtin.language, responder=responder
        )
    if responder is not None:
        return _responder_decision(account, responder, responder_keyword)
    misspelling = read_misspelling(body, read)
    if misspelling is not None:
        replies = languages.get(misspelling.language, account)
        decision = _builtin_decision(
            replies, Action.OPT_OUT, misspelling.keyword, misspelling.language
        )
        if misspelling.exact:
            return decision
        return replace(
            decision,
            rule=f"Built-in keyword {misspelling.keyword}, misspelt "
            f"(“{misspelling.typed}” read as {misspelling.keyword})",
            read_as=misspelling.typed,
        )
    revocation = read_revocation(body)
    if revocation is not None:
        reason, language = revocation.reason, revocation.language
        if account.revocation_policy == RevocationPolicy.FLAG:
            return Decision(
                rule=f"Possible revocation ({reason})", action=Action.FLAG, language=language
            )
        replies = languages.get(language, account)
        return Decision(
            rule=f"Revocation phrase ({reason})",
            action=Action.OPT_OUT,
            source=ConsentSource.PHRASE,
            reply=render_reply(replies.opt_out_confirmation, replies),
            reply_purpose=Purpose.OPT_OUT_CONFIRMATION,
            language=language,
            reply_language="" if language in read else Language.ENGLISH,
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
    account: Account | AccountLanguage,
    action: str,
    keyword: str,
    language: str,
    responder: KeywordResponder | None = None,
) -> Decision:
    """The built-in keyword's effect, answered with the replies of its language (`account`:
    the account's own for English, else its language pack); a responder using the same word
    supplies the reply."""
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
        language=language,
    )
