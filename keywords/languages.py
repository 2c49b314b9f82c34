"""The built-in keywords of each language (SPEC section 3), and where each is documented.

English is always read. Spanish and French are packs an account switches on in Settings
(`crm.models.AccountLanguage`); a contact who texts a pack's keyword is answered in the pack's
language. Only words a provider, carrier or industry body documents are here:

* Spanish: ALTO and AYUDA are the words a Spanish-language US short code must answer (Twilio,
  "What are the requirements for a Spanish language short code?",
  https://www.twilio.com/help/faq/short-codes/what-are-the-requirements-for-a-spanish-language-short-code).
  PARAR, BAJA and CANCELAR are the infinitive and noun Spanish speakers text for "stop" and
  "unsubscribe" (Sinch lists PARAR and CANCELAR among its Portuguese defaults). DETENER and
  SALIR opt out and VOLVER and RECIBIR opt in under Sinch's Spanish consent defaults ("Both
  auto-replies and trigger keywords have defaults for the English, Spanish, and Portuguese
  languages", https://community.sinch.com/t5/Conversation-API/
  Can-I-customize-opt-in-and-opt-out-keywords-for-use-with-consent/m-p/18980). No source we
  found documents INICIO, COMENZAR, SÍ or ALTA, so they are not opt-in words here.
* French: ARRET and AIDE are two of the five keywords every Canadian short code must answer,
  "the response to ARRET must be in French" (CWTA guidelines, as Twilio states them:
  https://support.twilio.com/hc/en-us/articles/223181928; AWS End User Messaging lists ARRET
  among its opt-out words, https://docs.aws.amazon.com/sms-voice/latest/userguide/
  opt-out-list-keywords.html). ARRETE and ARRETT are the spellings Twilio Proxy also treats as
  opt-outs (https://www.twilio.com/docs/proxy/opt-out-keywords); ARRÊT is ARRET as French
  keyboards write it. No source documents a French opt-in word, so the French pack has none:
  START is read in every language.
"""

from dataclasses import dataclass

from crm.languages import Language
from keywords.models import Action


@dataclass(frozen=True)
class KeywordPack:
    language: str
    keywords: dict[str, tuple[str, ...]]  # Action -> the words, as shown

    @property
    def label(self) -> str:
        return Language(self.language).label


PACKS: dict[str, KeywordPack] = {
    Language.ENGLISH: KeywordPack(
        Language.ENGLISH,
        {
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
        },
    ),
    Language.SPANISH: KeywordPack(
        Language.SPANISH,
        {
            Action.OPT_OUT: ("ALTO", "PARAR", "BAJA", "CANCELAR", "DETENER", "SALIR"),
            Action.OPT_IN: ("VOLVER", "RECIBIR"),
            Action.HELP: ("AYUDA",),
        },
    ),
    Language.FRENCH: KeywordPack(
        Language.FRENCH,
        {
            Action.OPT_OUT: ("ARRET", "ARRÊT", "ARRETE", "ARRETT"),
            Action.OPT_IN: (),
            Action.HELP: ("AIDE",),
        },
    ),
}
