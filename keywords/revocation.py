"""Revocation in the contact's own words (SPEC section 4).

The FCC treats any reasonable means as a revocation of consent, so "Stop texting me" counts as
much as STOP. The detector is precise before it is eager: a false opt-out silences a customer who
wanted the texts, so everyday sentences that merely contain a keyword ("can't stop laughing",
"end of the month works", "cancel my appointment") must not match, and negated or conditional
requests ("please don't stop texting me", "don't text me after 9") are left to people.

It reads structure, not a list of sentences. A request is a verb of stopping (stop, quit,
cease, end, cancel, unsubscribe, remove, take off…) and what it is about, with anything a person
puts between them: "stop sending me the weekly promo texts" is `stop` + `sending me the weekly
promo` + `texts`. What may stand between them is any run of a few words that does not end the
clause (`and`, `but`, `to`, `at`, `until`…), so "stop by the shop and text me" is not one.
The thing is the messages (texts, reminders, alerts, promos, this number, me, the list). Words
sent alone that mean stop ("remove", "unsub", "basta") count, as do keywords misspelt inside a
sentence ("please stpo texting me", `keywords.misspellings`). Spanish, French, Portuguese and
German requests are read too, and each reading names its language so the reply can match it.

Precision and recall are measured on `tests/data/revocation/` (`benchmarks/revocation.py`).
"""

import re
import unicodedata
from dataclasses import dataclass

from crm.languages import Language
from keywords.misspellings import read_misspelling

# Words that, alone or with only courtesies around them, ask to stop.
STOP_WORDS = frozenset(
    "stop stopall unsubscribe unsub unsuscribe optout revoke remove cease desist discontinue "
    "unenroll unregister deregister "
    "baja alto parar pare paren detener cancelar desuscribir desuscribirme salir basta "
    "arret arrete arrett arretez arreter desabonner desinscrire desinscription desabonnement "
    "sair remover descadastrar stopp abmelden austragen abbestellen".split()
)
COURTESIES = frozenset(
    "please pls plz now it thanks thank you thx ty tks asap immediately already all the these "
    "those texts text messages message msgs sms txts ok okay me right away just again for good "
    "and ya de la mi el por favor gracias todo todos los mensajes merci svp stp sil vous plait "
    "bitte danke obrigado obrigada".split()
)
# A request inside a condition is a question of what to do, not a request: left to people.
CONDITIONS = frozenset("if when whether unless".split())
NEGATIONS = CONDITIONS | frozenset(
    "don't dont do not never no won't wont didn't didnt shouldn't if why can't cant did does "
    "i'll ill we'll".split()
)
# A request followed by these is limited in time or scope: left to people.
LIMITS = re.compile(
    r"^\s*((by|via|through|on|over)\s+(e-?mail|phone|calls?|whatsapp|facebook|messenger|mail)|"
    r"except|unless|only|instead|other than|after|before|until|till|til|between|during|"
    r"tonight|today|tomorrow|while|"
    r"this (morning|afternoon|evening|week|weekend)|next|on (weekends?|sundays?|saturdays?)|"
    r"at (work|night|\d)|so (late|early)|back|for (now|a (while|bit|few|week|month|day)))\b"
)

# Words that end the stretch between a verb and its thing: a new clause, or a place or time.
BOUNDARY = (
    r"(and|or|but|so|because|cause|if|when|to|at|by|in|on|into|for|with|about|until|after|than|"
    r"y|o|pero|que|si|cuando|porque|para|et|ou|mais|quand|parce|pour|"
    r"before|while|i|i'm|im|you|he|she|we|they|is|are|was|were|be|been|can|could|will|would|"
    r"should|please|pls|thanks|not|no)"
)
GAP = r"((\s+(?!" + BOUNDARY + r"(\s|$))[a-z0-9'&*-]+){0,5}?)"  # anything between verb and thing
THINGS = (
    r"(texts?|txts?|messages?|msgs?|sms|sms's|reminders?|notifications?|alerts|promos?|"
    r"promotions|deals|offers|ads|adverts|advertisements|updates|marketing|spam|blasts|"
    r"broadcasts|textos?|rappels|pubs?|publicites|mensajes|recordatorios|notificaciones|"
    r"promociones|ofertas|publicidad|mensagens)"
)
ME = r"(me|us|this number|my (phone|number|cell|mobile)( number)?|this phone)"
LIST = r"(list|lists|database|system|contacts|contact list|mailing list|texting list|roster)"
TEXTING = (
    r"(texting|textin|txting|texing|messaging|messagin|msging|msg'ing|contacting|spamming|"
    r"bothering|harassing|hitting me up|blowing up my phone)"
)
SWEAR = r"(\s+(f\S*ing|f\S*in|freaking|frickin|fricking|effing|damn|bloody|goddamn))?"
CLAUSE_END = (
    r"(\s+(please|pls|plz|now|asap|thanks|thank you|immediately|already|ok))*\s*([.!?,;]|$)"
)
THAT = rf"\s+(this|these|it|here|them|that|everything|all)\s*{CLAUSE_END}"  # "off this."
STOPPING = (
    r"(stop|stopall|stp|quit|cease|halt|discontinue|cancel|"
    r"end(?=\s+(the|these|those|your|all|this|my)\b))"
)


@dataclass(frozen=True)
class Pattern:
    reason: str
    regex: re.Pattern
    language: str = Language.ENGLISH
    guarded: bool = True  # a negation just before the match cancels it


def _pattern(reason: str, *parts: str, **options) -> Pattern:
    return Pattern(reason, re.compile("|".join(parts)), **options)


PATTERNS = (
    _pattern(
        "asks to stop being texted",
        rf"\b(stop|quit|cease|end){SWEAR}\s+((calling|emailing|phoning)\s+(and|or|&)\s+)?"
        rf"{TEXTING}(\s+(and|or|&)\s+{TEXTING})*\s*({ME}\b|{CLAUSE_END})",
        rf"\b(stop|quit|cease){SWEAR}\s+sending\s*(({ME}|stuff|things|anything|junk|crap|"
        rf"garbage|this|these|them|it)\b|{CLAUSE_END})",
    ),
    _pattern(
        "asks to stop the messages",
        rf"\b{STOPPING}(\s+sending)?(\s+(me|us))?(\s+with)?{GAP}\s+{THINGS}\b",
        rf"\bcancel{GAP}\s+subscriptions?\s+(to|for){GAP}\s+{THINGS}\b",
        rf"\bknock it off(\s+with{GAP}\s+{THINGS}\b|{CLAUSE_END})",
        rf"\benough\s+with{GAP}\s+{THINGS}\b",
        rf"\b(can|could|would|will)\s+(you|u|you guys|y'all)\s+(please\s+|pls\s+)?stop{CLAUSE_END}",
        r"\b(i|we)\s+(said|say|already said|told you|have said|'ve said|keep saying)\s+"
        r"(to\s+)?(stop|unsubscribe|optout)\b",
        rf"^((please|pls|plz)\s+)?(stop|quit)\s+(these|them|this|it)\s*{CLAUSE_END}",
    ),
    _pattern(
        "wants the messages to stop",
        rf"\b(these|the|those|your|all|all the|all these|all your){GAP}\s+{THINGS}\s+"
        r"(to|must|need to|needs to|have to|has to|should|gotta)\s+(stop|end|cease)\b",
        r"\bmake\s+(it|them|this)\s+stop\b",
    ),
    _pattern(
        "asks to be unsubscribed",
        rf"\b(unsubscribe|unsub|optout)\s+{ME}\b",
        rf"\bopt\s+{ME}\s+out\b",
        r"\b(i'm|i am|im|we're|we are)\s+(opting out|unsubscribing|optouting)\b",
        rf"\b(unsubscribe|unsub|optout)\s+(from|of)({GAP}\s+({THINGS}|{LIST})\b|{THAT})",
        rf"^((please|pls|plz|kindly)\s+)?(unsubscribe|unsub|optout){CLAUSE_END}",
    ),
    _pattern(
        "asks to be removed",
        rf"\b(remove|delete|erase|take|get|drop|scratch|strike|pull|cross)\s+{ME}\s*"
        rf"((from|off|of|out of|outta)\b({GAP}\s+({LIST}|{THINGS})\b|{THAT})|"
        rf"off{CLAUSE_END})",
        rf"\b(remove|delete|erase|scratch)\s+{ME}{CLAUSE_END}",
        rf"\b(remove|delete|take)\s+(from|off)\s+(your|the|this|ur)\s+{LIST}\b",
        rf"\b(remove|delete|erase|lose|forget)\s+(my|this)\s+(number|phone number|cell number|"
        rf"contact|info)(\s+(from|off)({GAP}\s+({LIST}|{THINGS})\b|{THAT})|{CLAUSE_END})",
        rf"\b(please|pls|plz)\s+remove{CLAUSE_END}",
        rf"\bput\s+{ME}\s+on{GAP}\s+(do not|dont|don't|no)\s+(text|call|contact)\s+list\b",
    ),
    _pattern(
        "says they want out",
        rf"\b(i|we)\s*('d| would| want| wanna| wish| need)?\s*(like\s+)?(to\s+)?"
        rf"((unsubscribe|optout|unsub|be removed|be taken off)(\s+(from|of)({GAP}\s+({LIST}|"
        rf"{THINGS})\b|{THAT})|{CLAUSE_END})"
        rf"|stop\s+(receiving|getting){GAP}\s+({THINGS}\b|(these|this|them|those|it)"
        rf"{CLAUSE_END}))",
        rf"\b(i|we)\s*('d like| would like| want| wanna| need)\s+(to\s+(be|get)\s+)?(off|out)"
        rf"((\s+(of|from))?({GAP}\s+({LIST}|{THINGS})\b|{THAT})|{CLAUSE_END})",
    ),
    _pattern(
        "asks how to stop the messages",
        rf"\bhow\s+(do|can|to)\s+(i\s+|we\s+)?((unsubscribe|optout)(\s+(from|of){GAP}\s+"
        rf"({THINGS}|{LIST}|this|these|them|it)\b|{CLAUSE_END})|(stop|end)\s+((receiving|getting)"
        rf"\s+)?((these|this|them|those)|(these|this|those|your){GAP}\s+{THINGS}){CLAUSE_END})",
        guarded=False,
    ),
    _pattern(
        "asks not to be texted",
        rf"\b(don'?t|do not|never|pls don'?t|please don'?t|please do not|dont)\s+(ever\s+)?"
        rf"(text|txt|message|msg|sms|contact|send|email or text|call or text)\s+({ME}|anything|"
        rf"any more|anymore)\b(?!\s*back)",
        r"\b(don'?t|do not)\s+(ever\s+)?(text|txt|message|msg|contact)\s+(me|us)\s+again\b",
        r"\bif\s+(you|u)\s+(text|txt|message|contact)\s+(me|us)\s+(again|one more time)\b",
        guarded=False,
    ),
    _pattern(
        "asks for no more messages",
        rf"\bno\s+(more|further){GAP}\s+({THINGS}|texting|messaging)\b",
        rf"\bno\s+{THINGS}\s+(anymore|any more|please|pls|plz|thanks|thank you)\b",
    ),
    _pattern(
        "asks to be left alone",
        r"\bleave\s+me(\s+\S+){0,2}\s+alone\b",
        r"\blose my number\b",
        r"\b(stop|quit)\s+(it|this)\s*(now|already|please|!)",
    ),
    _pattern(
        "withdraws consent",
        r"\b(revoke|withdraw|withdrawing|revoking|rescind|retract)\s+(my\s+|all\s+|any\s+)?"
        r"(consent|permission|authorization)\b",
        r"\bcease\s+and\s+desist\b",
        r"\bcease\s+(all\s+)?(communications?|contact)\b",
    ),
    _pattern(
        "says they do not want the messages",
        rf"\b(no longer|don'?t|do not|dont|never)\s+(want|wish|need)(\s+to\s+(receive|get))?"
        rf"{GAP}\s+{THINGS}\b",
        r"\b(don'?t|do not|dont|no longer)\s+(want|need)\s+(these|this|them|those|it|any)"
        r"(\s+\w+)?\s+(anymore|any more|no more)\b",
        rf"\b(don'?t|do not|dont|no longer)\s+(want|wish)\s+to\s+(receive|get)\s+(these|this|them|"
        rf"those|it|any|anything|anymore|any more){CLAUSE_END}",
        rf"\b(rather|prefer)\s+not\s+(to\s+)?(get|receive){GAP}\s+{THINGS}\b",
        rf"\bcan you (please\s+)?not\s+(text|message|contact)\s+{ME}\b",
        r"\b(not|never) interested\b.*\b(stop|remove|unsubscribe)\b",
    ),
    _pattern(
        "asks to stop (Spanish)",
        r"\bno\s+(mas|quiero\s+(recibir\s+)?(mas\s+)?)\s*(\w+\s+)?(mensajes|textos|sms|"
        r"promociones|ofertas|recordatorios|notificaciones|publicidad)\b",
        r"\b(deja|dejen|dejar|deje|dejes|para|paren|pare|parar)\s+de\s+(enviar|mandar|escribir|"
        r"molestar|contactar)",
        r"\b(ya\s+)?no\s+me\s+(vuelva|vuelvan|vuelvas)\s+a\s+(escribir|enviar|mandar|contactar)",
        r"\bno\s+me\s+(envie|envies|envien|mande|mandes|manden|escriba|escribas|escriban|"
        r"contacte|contacten)\b",
        r"\b(darme|dar|dame|deme|denme|den|doy|dese)\s+de\s+baja\b",
        r"\b(eliminar|borrar|quitar|quiten|quite|saquen|saque|sacar|eliminen|elimine|borren|"
        r"borre)\s+(mi\s+numero|me\s+de|de\s+su\s+lista)",
        r"\b(borrenme|eliminenme|quitenme|saquenme|borrame|sacame|quitame|eliminame|"
        r"desuscribanme|desuscribame)\b",
        r"\bquiero\s+(darme\s+de\s+baja|desuscribirme|salir\s+de\s+la\s+lista|que\s+(dejen|paren))",
        r"\b(quiero|deseo)\s+(darme\s+de\s+baja|desuscribirme|salir\s+de\s+(la|su|esta)\s+lista)",
        r"\bno\s+(quiero|deseo)\s+(seguir\s+)?(recibir|recibiendo)\b",
        r"\b(favor\s+de\s+)?no\s+(enviar|mandar)(me)?\s+mas\b",
        rf"\b(detengan|deten|cancela|cancelen|cancelar|paren|suspendan|suspender){GAP}\s+{THINGS}\b",
        r"\b(cancelar|anular)\s+(la\s+|mi\s+)?suscripcion\b",
        r"\b(darse|darte|dese)\s+de\s+baja\b|\bla\s+baja\s+(de|del)\s+(la\s+)?(lista|servicio)",
        language=Language.SPANISH,
    ),
    _pattern(
        "asks to stop (French)",
        r"\b(arret(e|ez|er)?|cesse[zr]?)\s+(de\s+m\s?'?\s*(envoyer|ecrire|texter|contacter|"
        r"harceler)|(les|vos|ces|tes)\s+(\w+\s+)?(messages|sms|textos|texto|notifications|"
        r"promotions|rappels|pubs?))",
        r"\bne\s+m\s?'?\s*(envoyez|ecrivez|envoie|ecris|contactez|textez)\s+plus\b",
        r"\b(je\s+(ne\s+)?(veux|souhaite|desire)\s+(plus|pu|pus)\s+(recevoir|avoir))\b",
        r"\b(je\s+veux|je\s+souhaite|je\s+voudrais|veuillez)\s+(me\s+)?(desabonner|"
        r"desinscrire|retirer|etre retire)",
        r"(^|[,;:]\s*|\b(stop|svp|merci)\s+)plus\s+de\s+(messages|sms|textos|texto|promotions|"
        r"notifications)\b",
        r"\b(veux|souhaite|desire)\s+plus\s+etre\s+(contacte|sollicite|derange)",
        r"\b(desabonnez|desinscrivez|retirez|enlevez|supprimez|effacez|rayez)\s*-?\s*moi\b",
        r"\b(supprimez|effacez|retirez|enlevez)\s+mon\s+numero\b",
        r"\bne\s+plus\s+(me\s+|m\s?'\s*)?(envoyer|ecrire|contacter|texter|recevoir|solliciter)\b",
        r"\b(veux|souhaite|desire|voudrais)\s+(plus|pu|pus|pas)\s+(de|vos|ces|tes)"
        r"\s+(\w+\s+)?(messages|sms|textos|texto|promotions|pubs?|notifications)\b",
        r"\b(me|m\s?'?)\s*(retirer|desabonner|desinscrire|supprimer|enlever|radier)\s+(de|du|des)"
        r"\s+((votre|vos|la|cette|ces|tes|ta)\s+)?(liste|listes|sms|messages|textos|envois|"
        r"abonnement|base|fichier|notifications)\b",
        r"\b(laissez|laisse|fichez|foutez)\s*-?\s*moi\s+(tranquille|la paix)\b",
        language=Language.FRENCH,
    ),
    _pattern(
        "asks to stop (Portuguese)",
        r"\b(pare|parem|parar)\s+de\s+(me\s+)?(enviar|mandar)",
        r"\bnao\s+(quero\s+)?(mais\s+)?(receber\s+)?(mais\s+)?(mensagens|sms)\b",
        r"\b(me\s+(tire|tirem|remova|removam|exclua)|(tire|remova|exclua)-me)\s+(da|de|dessa|"
        r"desta)\s+lista\b",
        r"\bnao\s+me\s+(mande|mandem|envie|enviem)\s+mais\b",
        r"\b(descadastrar|descadastre|descadastrem|me\s+descadastre|sair\s+da\s+lista)\b",
        r"\bnao\s+quero\s+(mais\s+)?receber\b|\bchega\s+de\s+(mensagens|sms)\b",
        language=Language.PORTUGUESE,
    ),
    _pattern(
        "asks to stop (German)",
        r"\bkeine\s+(sms|nachrichten|nachricht|werbung)\s+mehr\b",
        r"\b(horen sie|hor|hort)\s+auf\b",
        r"\bbitte\s+abmelden\b",
        r"\b(aus|von)\s+(der|ihrer|dieser)\s+liste\s+(entfernen|streichen|loschen|nehmen)\b",
        r"\b(nehmen sie|bitte)\s+mich\s+(aus|von)\s+(der|ihrer)\s+(liste|verteiler)",
        language=Language.GERMAN,
    ),
)

SPELLED_OUT = re.compile(r"\b[a-z]([\s.\-][a-z]\b){2,}\.?")
SENTENCE_BREAKS = re.compile(r"[.!?;\n]+|\s[-–—]+\s")
WORDS = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Revocation:
    reason: str
    language: str = Language.ENGLISH


def normalize_phrase(text: str) -> str:
    """Lower case, accents and typographic quotes removed, opt-out spellings joined and
    misspelt opt-out keywords read as the keyword ("stpo texting" is "stop texting")."""
    folded = unicodedata.normalize("NFKD", text or "").casefold()
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = folded.replace("’", "'").replace("‘", "'").replace("`", "'")
    folded = re.sub(r"\bopt[\s\-_]*out\b", "optout", folded)
    folded = re.sub(r"\bstop[\s\-_]+all\b", "stopall", folded)
    folded = SPELLED_OUT.sub(_spelled_word, folded)
    folded = re.sub(r"[a-z]{3,}", _keyword_as_meant, folded)
    return re.sub(r"[ \t]+", " ", folded).strip()


def _spelled_word(letters: re.Match) -> str:
    """A word of stopping typed apart ("S T O P texting me") joined; other letters stay."""
    word = re.sub(r"[\s.\-]", "", letters.group())
    return word if word in STOP_WORDS else letters.group()


def _keyword_as_meant(word: re.Match) -> str:
    misspelling = read_misspelling(word.group(), (Language.ENGLISH,))
    return misspelling.keyword.lower().replace(" ", "") if misspelling else word.group()


def read_revocation(text: str) -> Revocation | None:
    """Why the message reads as a request to stop messages, in which language, or None."""
    normalized = normalize_phrase(text)
    if not normalized:
        return None
    sentences = [sentence for sentence in SENTENCE_BREAKS.split(normalized) if sentence.strip()]
    last_clause = [sentence.split(",")[-1] for sentence in sentences][-1:]
    for sentence in [*sentences, *last_clause]:
        if _only_asks_to_stop(sentence):
            return Revocation("a sentence that only asks to stop")
    for pattern in PATTERNS:
        for match in pattern.regex.finditer(normalized):
            if _negated(normalized, match.start(), NEGATIONS if pattern.guarded else CONDITIONS):
                continue
            if _limited(normalized, match.end()):
                continue
            return Revocation(pattern.reason, pattern.language)
    return None


def _only_asks_to_stop(sentence: str) -> bool:
    words = set(WORDS.findall(sentence))
    return bool(words & STOP_WORDS) and words <= STOP_WORDS | COURTESIES


def _negated(text: str, start: int, words: frozenset[str]) -> bool:
    """Whether one of `words` is among the four before the match in its clause."""
    clause = re.split(r"[.!?;,\n]", text[:start])[-1]
    before = WORDS.findall(clause)[-4:]
    return any(word in words for word in before)


def _limited(text: str, end: int) -> bool:
    return bool(LIMITS.match(text[end:]))
