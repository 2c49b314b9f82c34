"""Revocation in the contact's own words (SPEC section 4).

The FCC treats any reasonable means as a revocation of consent, so "Stop texting me" counts as
much as STOP. The detector is precise before it is eager: a false opt-out silences a customer who
wanted the texts, so everyday sentences that merely contain a keyword ("can't stop laughing",
"end of the month works") must not match, and negated or conditional requests ("please don't
stop texting me", "don't text me after 9") are left to people. Typos such as "stpo" are left
unmatched. Precision and recall are measured on `tests/data/revocation_corpus.tsv`.
"""

import re
import unicodedata
from dataclasses import dataclass

STOP_WORDS = frozenset(
    "stop stopall unsubscribe unsub optout revoke "
    "baja alto parar pare detener cancelar desuscribir desuscribirme "
    "arret arrete arretez desabonner desinscrire stopp abmelden".split()
)
FILLER_WORDS = frozenset(
    "please pls plz now it thanks thank you thx ty asap immediately already all the these those "
    "texts text messages message msgs sms txts ok okay me right away just again for good "
    "por favor gracias ya todo todos los mensajes merci bitte danke obrigado obrigada sil vous "
    "plait".split()
)
NEGATIONS = frozenset(
    "don't dont do not never no won't wont didn't didnt shouldn't if why can't cant did does "
    "when".split()
)
TIME_LIMITS = re.compile(
    r"^\s*(after|before|until|till|til|between|during|tonight|today|tomorrow|while|"
    r"this (morning|afternoon|evening|week|weekend)|next|on (weekends?|sundays?|saturdays?)|"
    r"at (work|night)|so (late|early)|back)\b"
)

ME = r"(me|us|this number|my (phone|number|cell|mobile))"
VERBS = r"(texting|txting|texing|messaging|msging|msg'ing|contacting|spamming|bothering|harassing)"
OTHER_CHANNELS = r"((calling|emailing|phoning)\s+(and|or|&)\s+)?"
NOUNS = (
    r"(texts?|txts?|messages?|msgs?|sms|spam|reminders|notifications|alerts|promos?|promotions|"
    r"marketing|ads)"
)
MESSAGES = r"(" + NOUNS + r"|texting|messaging)"
POLITE_END = r"(\s+(please|pls|plz|now|asap|thanks|thank you|immediately))*\s*([.!?,;]|$)"
LIST = r"(list|lists|texts?|messages?|database|system|contacts|mailing|sms|marketing|texting)"
# What "stop getting ...", "unsubscribe from ..." must be about for it to mean these texts.
THESE = (
    r"((these|this|them|those|it)"
    + POLITE_END
    + r"|((all|any|these|those|the|your|this|more)\s+)*"
    + NOUNS
    + r"\b)"
)
TARGET = (
    r"(\s+(from|of|off)\s+((your|these|this|the|all|any|every)\s+)*("
    + LIST
    + r"|"
    + NOUNS
    + r")\b|"
    + POLITE_END
    + r")"
)


@dataclass(frozen=True)
class Pattern:
    name: str
    regex: re.Pattern
    guarded: bool = True  # a negation just before the match cancels it


PATTERNS = (
    Pattern(
        "asks to stop being texted",
        re.compile(
            r"\b(stop|quit|cease|end)\s+"
            + OTHER_CHANNELS
            + VERBS
            + r"(\s+(and|or|&)\s+"
            + VERBS
            + r")*\s*("
            + ME
            + r"\b|[.!?,;]|$)"
        ),
    ),
    Pattern(
        "asks to stop the messages",
        re.compile(
            r"\b(stop|quit|cease|end)\s+(sending\s+)?(me\s+|us\s+)?"
            r"((all|these|those|the|your|this|any|more)\s+)*" + NOUNS + r"\b"
        ),
    ),
    Pattern(
        "asks to stop sending",
        re.compile(
            r"\b(stop|quit|cease)\s+sending\s+(me|us)\s*((stuff|things|anything|junk|crap|"
            r"this|these|them)\b|" + POLITE_END + r")"
        ),
    ),
    Pattern(
        "asks to be unsubscribed",
        re.compile(
            r"\bunsubscribe\s+" + ME + r"\b|\bopt\s+" + ME + r"\s+out\b|"
            r"^(please\s+|pls\s+|plz\s+)?(unsubscribe|optout)" + TARGET
        ),
    ),
    Pattern(
        "asks to be removed",
        re.compile(
            r"\b(remove|delete|take|erase)\s+" + ME + r"\s*((from|off|out of)\s+((your|the|this|"
            r"all|any|every)\s+)*" + LIST + r"\b|(off)?" + POLITE_END + r")"
        ),
    ),
    Pattern(
        "asks not to be texted",
        re.compile(
            r"\b(don'?t|do not|never|pls don'?t|please don'?t|please do not)\s+(ever\s+)?"
            r"(text|txt|message|msg|sms|contact|send)\s+(" + ME + r"|any more|anymore)\b"
            r"(?!\s*back)"
        ),
        guarded=False,
    ),
    Pattern(
        "asks for no more messages",
        re.compile(r"\bno\s+(more|further)\s+" + MESSAGES + r"\b"),
    ),
    Pattern(
        "says they want out",
        re.compile(
            r"\b(i|we)\s*('d| would| want| wish| need)?\s*(like\s+)?(to\s+)?"
            r"((unsubscribe|optout|be removed|be taken off)"
            + TARGET
            + r"|stop\s+(receiving|getting)\s+"
            + THESE
            + r")"
        ),
    ),
    Pattern(
        "asks how to stop the messages",
        re.compile(
            r"\bhow\s+(do|can)\s+i\s+((unsubscribe|optout)"
            + TARGET
            + r"|stop\s+((receiving|getting)\s+)?"
            + THESE
            + r")"
        ),
        guarded=False,
    ),
    Pattern("asks to be left alone", re.compile(r"\bleave me alone\b|\blose my number\b")),
    Pattern(
        "withdraws consent",
        re.compile(
            r"\b(revoke|withdraw|withdrawing|revoking)\s+(my\s+|all\s+)?consent\b|"
            r"\bcease\s+and\s+desist\b|\bcease\s+(all\s+)?(communications?|contact)\b"
        ),
    ),
    Pattern(
        "says they do not want the messages",
        re.compile(
            r"\b(no longer|don'?t|do not|dont)\s+(want|wish)\s+(to\s+(receive|get)\s+)?"
            r"((any|these|your|the|more)\s+)*" + NOUNS + r"\b|"
            r"\b(rather|prefer)\s+not\s+(to\s+)?(get|receive)\s+((any|these|your)\s+)*"
            + NOUNS
            + r"\b|\bcan you (please\s+)?not\s+(text|message|contact)\s+"
            + ME
            + r"\b"
        ),
        guarded=False,
    ),
    Pattern(
        "asks to cancel the messages",
        re.compile(
            r"\bcancel\s+((all|these|those|the|your|my)\s+)*((subscription|subscriptions)\s+"
            r"to\s+((these|your|the|all)\s+)*)?" + NOUNS + r"\b"
        ),
    ),
    Pattern("asks to be removed", re.compile(r"\b(please|pls|plz)\s+remove\s*([.!?]|$)")),
    Pattern(
        "asks to stop (Spanish)",
        re.compile(
            r"\bno\s+(mas|quiero\s+(recibir\s+)?(mas\s+)?)\s*(mensajes|textos|sms)\b|"
            r"\b(deja|dejen|dejar|deje|para|paren|pare|parar)\s+de\s+(enviar|mandar|escribir)|"
            r"\bno\s+me\s+(envie|envies|envien|mande|mandes|manden|escriba|escribas|escriban)\b|"
            r"\b(darme|dar|dame|deme|denme)\s+de\s+baja\b|"
            r"\b(eliminar|borrar|quitar|quiten|saquen|sacar|eliminen|borren)\s+(mi\s+numero|"
            r"me\s+de)\b"
        ),
    ),
    Pattern(
        "asks to stop (French)",
        re.compile(
            r"\barret(e|ez)?\s+de\s+m\s?'?\s*(envoyer|ecrire)|"
            r"\bne\s+m\s?'?\s*(envoyez|ecrivez|envoie|ecris)\s+plus\b|"
            r"\b(je\s+veux|je\s+souhaite|veuillez)\s+(me\s+)?(desabonner|desinscrire)\b|"
            r"\bplus\s+de\s+(messages|sms|textos)\b|\b(desabonnez|desinscrivez)\s*-?\s*moi\b"
        ),
    ),
    Pattern(
        "asks to stop (Portuguese)",
        re.compile(
            r"\b(pare|parem|parar)\s+de\s+(me\s+)?(enviar|mandar)|"
            r"\bnao\s+(quero\s+)?(mais\s+)?(receber\s+)?(mais\s+)?(mensagens|sms)\b"
        ),
    ),
    Pattern(
        "asks to stop (German)",
        re.compile(
            r"\bkeine\s+(sms|nachrichten|nachricht|werbung)\s+mehr\b|"
            r"\b(horen sie|hor|hort)\s+auf\b|\bbitte\s+abmelden\b"
        ),
    ),
)

SENTENCE_BREAKS = re.compile(r"[.!?;\n]+|\s[-–—]+\s")
WORDS = re.compile(r"[a-z0-9']+")


def normalize_phrase(text: str) -> str:
    """Lower case, accents and typographic quotes removed, opt-out spellings joined."""
    folded = unicodedata.normalize("NFKD", text or "").casefold()
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = folded.replace("’", "'").replace("‘", "'").replace("`", "'")
    folded = re.sub(r"\bopt[\s\-_]*out\b", "optout", folded)
    folded = re.sub(r"\bstop[\s\-_]+all\b", "stopall", folded)
    return re.sub(r"[ \t]+", " ", folded).strip()


def detect_revocation(text: str) -> str | None:
    """Why the message reads as a request to stop messages, or None when it does not."""
    normalized = normalize_phrase(text)
    if not normalized:
        return None
    sentences = SENTENCE_BREAKS.split(normalized)
    last_clause = [sentence.split(",")[-1] for sentence in sentences if sentence.strip()][-1:]
    for sentence in [*sentences, *last_clause]:
        if _only_asks_to_stop(sentence):
            return "a sentence that only asks to stop"
    for pattern in PATTERNS:
        for match in pattern.regex.finditer(normalized):
            if pattern.guarded and _negated(normalized, match.start()):
                continue
            if _time_limited(normalized, match.end()):
                continue
            return pattern.name
    return None


def _only_asks_to_stop(sentence: str) -> bool:
    words = set(WORDS.findall(sentence))
    return bool(words & STOP_WORDS) and words <= STOP_WORDS | FILLER_WORDS


def _negated(text: str, start: int) -> bool:
    clause = re.split(r"[.!?;,\n]", text[:start])[-1]
    before = WORDS.findall(clause)[-4:]
    joined = " ".join(before)
    return any(word in NEGATIONS for word in before) or "do not" in joined


def _time_limited(text: str, end: int) -> bool:
    return bool(TIME_LIMITS.match(text[end:]))
