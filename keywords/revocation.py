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

# Words that, alone or with only courtesies around them, ask to stop; each names its language.
STOP_WORDS = {
    **dict.fromkeys(
        "stop stopall unsubscribe unsub unsuscribe optout revoke cease desist discontinue "
        "unenroll unregister deregister stahp".split(),
        Language.ENGLISH,
    ),
    **dict.fromkeys(
        "baja alto parar pare paren detener cancelar desuscribir desuscribirme salir basta "
        "desuscribirse".split(),
        Language.SPANISH,
    ),
    **dict.fromkeys(
        "arret arrete arrett arretez arreter stoppez desabonner desinscrire desinscription "
        "desabonnement".split(),
        Language.FRENCH,
    ),
    **dict.fromkeys("sair remover descadastrar descadastra".split(), Language.PORTUGUESE),
    **dict.fromkeys("stopp abmelden austragen abbestellen".split(), Language.GERMAN),
}
# Words that ask to stop only alone or with politeness ("Remove." "Kindly remove"), never with
# an object ("remove it", "remove all" are about something else).
BARE_STOP_WORDS = {"remove": Language.ENGLISH, "remover": Language.PORTUGUESE}
POLITENESS = {
    **dict.fromkeys(
        "no nope nah please pls plz kindly now thanks thank you thx ty tks asap immediately "
        "already ok okay me right away just again for good and".split(),
        Language.ENGLISH,
    ),
    **dict.fromkeys("ya por favor porfa gracias ahora".split(), Language.SPANISH),
    **dict.fromkeys(
        "merci svp stp sil vous plait maintenant immediatement".split(), Language.FRENCH
    ),
    **dict.fromkeys("obrigado obrigada".split(), Language.PORTUGUESE),
    **dict.fromkeys("bitte danke".split(), Language.GERMAN),
}
# Also allowed around a stop word (not a bare one): what the stopping is about.
ABOUT = frozenset(
    "it all the these those texts text messages message sms de la mi el todo todos los "
    "mensajes".split()
)
# A request inside a condition is a question of what to do, not a request: left to people.
CONDITIONS = frozenset("if when whether unless".split())
# Just before the verb, these make it something other than a request ("please don't stop").
NEGATIONS = CONDITIONS | frozenset(
    "don't dont not never won't wont didn't didnt shouldn't did does i'll ill we'll sin sans "
    "sem ohne".split()
)
IGNORED_BEFORE_THE_VERB = frozenset("please pls plz just ever you u ya".split())
# A request followed by these is limited in time or scope: left to people.
LIMITS = re.compile(
    r"^\s*((by|via|through|on|over)\s+(e-?mail|phone|calls?|whatsapp|facebook|messenger|mail)|"
    r"(from|of|off)\s+((the|your|my|all)\s+)*(e-?mails?|e-?mail list|newsletters?|mailing list|"
    r"calls?|phone calls)\b(?!\s+list)|"
    r"except|unless|only|instead|other than|after|before|until|till|til|between|during|"
    r"tonight|today|tomorrow|while|once|as soon as|by\s+(\w+day|the|next|\d)|right\s*\?|"
    r"for\s+(the\s+)?(next|this|a|one|two|three|few|couple)\b|"
    r"this (morning|afternoon|evening|week|weekend)|next|on (weekends?|sundays?|saturdays?)|"
    r"at (work|night|\d)|so (late|early)|back|for (now|a (while|bit|few|week|month|day)|"
    r"(this|the|next) (month|week|weekend|summer|holidays?|season)))\b"
)

# Words that end the stretch between a verb and its thing: a new clause, a place, a time, or
# a message of the past ("cancel my last message").
BOUNDARY = (
    r"(and|or|but|so|because|cause|if|when|to|at|by|in|on|into|for|with|about|until|after|than|"
    r"then|from|per|like|since|just|only|as|once|last|previous|earlier|yesterday|via|"
    r"y|o|pero|que|si|cuando|porque|para|desde|hasta|en|con|sin|por|al|despues|antes|mientras|"
    r"et|ou|mais|quand|parce|pour|depuis|avec|sans|"
    r"before|while|i|i'm|im|you|he|she|we|they|is|are|was|were|be|been|can|could|will|would|"
    r"should|please|pls|thanks|not|no)"
)
GAP = r"((\s+(?!" + BOUNDARY + r"(\s|$))[a-z0-9'&*-]+){0,5}?)"  # anything between verb and thing
# The messages themselves; a noun followed by a verb is a subject ("the text was enough").
THINGS = (
    r"(texts?|txts?|messages?|msgs?|sms|sms's|reminders|notifications|alerts|promos|msjs?|"
    r"mensaje|mensagem|"
    r"promotions|deals|offers|ads|adverts|advertisements|updates|marketing|spam|blasts|"
    r"broadcasts|textos?|rappels|pubs|publicites|mensajes|recordatorios|notificaciones|"
    r"promociones|ofertas|publicidad|mensagens)"
    r"(?!\s+(was|is|were|are|said|says|came|come|will|did|do|does|have|has|had|de voz)\b)"
)
OTHER_CHANNELS = r"((calls?|phone calls|e-?mails?)\s+(and|&|or)\s+)?"
DETAILS = r"(name|number|phone number|cell number|contact|contact info|info|details|data)"
ME = r"(me|us|this number|my (phone|number|cell|mobile)( number)?|this phone)"
# A list of contacts; not a waiting list, a guest list or a shopping list.
LIST = (
    r"(?<!waiting )(?<!wait )(?<!cancellation )(?<!standby )(?<!guest )(?<!appointment )"
    r"(?<!reservation )(?<!booking )(?<!priority )(?<!delivery )(?<!pickup )(?<!shopping )"
    r"(?<!grocery )(?<!wish )(?<!to-do )(?<!todo )"
    r"(list|lists|database|system|contacts|contact list|mailing list|texting list|roster)"
)
TEXTING = (
    r"(texting|messaging|messagin|msging|msg'ing|contacting|spamming|bothering|harassing|bugging|pestering|hounding|"
    r"hitting me up|blowing up my phone)"
)
SWEAR = r"(\s+(f\S*ing|f\S*in|freaking|frickin|fricking|effing|damn|bloody|goddamn))?"
CLAUSE_END = (
    r"(\s+(please|pls|plz|now|asap|thanks|thank you|immediately|already|ok|por favor|porfa|"
    r"gracias|svp|merci|s'il vous plait|bitte|danke|obrigad[oa]))*\s*([.!?,;]|$)"
)
THAT = rf"\s+(this|these|it|here|them|that|everything|all)\s*{CLAUSE_END}"  # "off this."
JUNK = (
    r"(((this|that|these|your|the|all)\s+)?(stuff|junk|crap|garbage|spam|shit|s\S*t|bs|nonsense|"
    r"things)|this|these|them|it|anything( else)?)"
)
# "darme de baja del plan": leaving something other than the messages.
NOT_OF_SOMETHING_ELSE = (
    r"(?!\s+(del?|de la)\s+(?!(la\s+|los\s+|sus\s+)?(lista|mensajes|sms|textos|servicio de "
    r"mensajes|promociones)))"
)
STOPPING = (
    r"(stop|stopall|stp|quit|cease|halt|discontinue|cancel|"
    r"end(?=\s+(the|these|those|your|all|this|my|texts?|messages?|sms|alerts|reminders)\b))"
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
        rf"\b(stop|stp|quit|cease|end){SWEAR}\s+((calling|emailing|phoning)\s+(and|or|&)\s+)?"
        rf"{TEXTING}(\s+(and|or|&)\s+{TEXTING})*\s*({ME}\b|{CLAUSE_END})",
        rf"\b(stop|quit|cease){SWEAR}\s+sending(\s+{ME})?(\s+{JUNK})?{CLAUSE_END}",
        rf"\b(stop|quit|cease){SWEAR}\s+sending(\s+{ME})?{GAP}\s+{THINGS}\b",
        rf"\bappreciate\s+it\s+if\s+(you|y'all)\s+(would\s+)?(stop|stopped|quit)\s+{TEXTING}",
    ),
    _pattern(
        "asks to stop the messages",
        rf"\b{STOPPING}(\s+(me|us))?(\s+with)?{GAP}\s+{OTHER_CHANNELS}{THINGS}\b",
        rf"\bcancel{GAP}\s+subscriptions?\s+(to|for){GAP}\s+{THINGS}\b",
        rf"\bknock it off(\s+with{GAP}\s+{THINGS}\b|{CLAUSE_END})",
        rf"\b(stop|quit|cut)\s+it\s+with{GAP}\s+{THINGS}\b",
        rf"\benough\s+(already\s+)?with{GAP}\s+{THINGS}\b",
        rf"\b(can|could|would|will)\s+(you|you guys|y'all)\s+(please\s+|pls\s+)?stop{CLAUSE_END}",
        r"\b(i|we)\s+(said|say|already said|told you|have said|'ve said|keep saying)\s+"
        rf"(to\s+)?(stop|unsubscribe|optout)(\s+(\d+|two|three|several|many|so many)\s+times)?"
        rf"{CLAUSE_END}",
        r"\bhow many times\b[^.!?]{0,30}\b(say|tell you|text|reply|ask)\b[^.!?]{0,12}\bstop\b",
        r"^(i\s+)?(do not|don't|dont) want( (it|this|these|them))?( anymore| any more)?\s*[.!]*$",
        r"^((please|pls|plz)\s+)?(stop|quit)\s+(these|them|this|it)(\s+(now|already))?\s*([.!]|$)",
        rf"\b(f\S*|piss|buzz|back)\s+off\s+with{GAP}\s+{THINGS}\b",
        rf"\b(done|finished|sick|tired|fed up|had enough)\s+(with|of)(\s+(getting|receiving))?"
        rf"{GAP}\s+{THINGS}\b",
        r"^(no more|enough already)(\s+(please|pls|thanks))*\s*[.!]*$",
    ),
    _pattern(
        "wants the messages to stop",
        rf"\b(these|the|those|your|all|all the|all these|all your){GAP}\s+{THINGS}\s+"
        r"(to|must|need to|needs to|have to|has to|should|gotta)\s+(stop|end|cease)\b",
        rf"\bmake\s+(the|these|your){GAP}\s+{THINGS}\s+stop\b",
    ),
    _pattern(
        "asks to be unsubscribed",
        rf"\b(unsubscribe|unsub|optout)\s+{ME}\b",
        rf"\bopt\s+{ME}\s+out\b",
        r"\b(i'm|i am|im|we're|we are)\s+(optout|unsubscribing)\b",
        rf"\b(unsubscribe|unsub|optout)\s+(from|of)({GAP}\s+({THINGS}|{LIST})\b|{THAT})",
        rf"^((please|pls|plz|kindly)\s+)?(unsubscribe|unsub|optout){CLAUSE_END}",
        rf"\blet\s+me\s+(unsubscribe|optout|unsub){CLAUSE_END}",
        rf"\bcount\s+me\s+out(\s+of{GAP}\s+{THINGS}\b|{CLAUSE_END})",
    ),
    _pattern(
        "asks to be removed",
        rf"\b(remove|delete|erase|take|get|scratch|strike|cross)\s+{ME}\s*"
        rf"((from|off|of|out of|outta)\b({GAP}\s+({LIST}|{THINGS})\b|{THAT})|"
        rf"off{CLAUSE_END})",
        rf"\b(remove|delete|erase|scratch)\s+{ME}{CLAUSE_END}",
        rf"\b(remove|delete|take)\s+(from|off)\s+(your|the|this|ur)\s+{LIST}\b",
        rf"\b(remove|delete|erase|lose|forget|take)\s+(my|this)\s+({DETAILS}(\s+(and|&)\s+)?)+"
        rf"(\s+(from|off)({GAP}\s+({LIST}|{THINGS})\b|{THAT})|{CLAUSE_END}|\s+or\s+(i|we|else)\b)",
        rf"\bput\s+{ME}\s+on{GAP}\s+(do not|dont|don't|no)\s+(text|call|contact)\s+list\b",
        rf"\b(can|could|may)\s+(i|we)\s+(please\s+)?be\s+(taken\s+off|removed(\s+from)?)"
        rf"({GAP}\s+({LIST}|{THINGS})\b|{THAT}|{CLAUSE_END})",
        rf"\bblock\s+(my number|me|this number)\s+from{GAP}\s+{LIST}\b",
        rf"\b(don'?t|do not)\s+want\s+to\s+be\s+on{GAP}\s+(text|texting|sms|contact|mailing)\s+"
        rf"list\b",
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
        rf"\b(wish|want|like)\s+to\s+no\s+longer\s+(receive|get){GAP}\s+{THINGS}\b",
    ),
    _pattern(
        "asks how to stop the messages",
        rf"\bhow\s+(do|can|to)\s+(i\s+|we\s+)?((unsubscribe|optout)(\s+(from|of){GAP}\s+"
        rf"({THINGS}|{LIST}|these|them)\b|{CLAUSE_END})|(stop|end)\s+((receiving|getting)"
        rf"\s+)?(these|this|those|your){GAP}\s+{THINGS}{CLAUSE_END})",
        guarded=False,
    ),
    _pattern(
        "asks not to be texted",
        rf"\b(don'?t|do not|never|dont)\s+(ever\s+)?(text|txt|message|msg|sms|contact|email or "
        rf"text|call or text)\s+({ME}\b(\s+(again|anymore|any more|ever|no more))?{CLAUSE_END}|"
        rf"(anymore|any more){CLAUSE_END}|{ME}\s+(again|anymore|any more|ever|no more)\b)",
        rf"\b(don'?t|do not|never|dont)\s+(ever\s+)?send\s+({ME}\s+)?((any\s*more|anything"
        rf"( else)?)\s*"
        rf"{CLAUSE_END}|(any\s*more\s+)?{GAP}\s+{THINGS}\b)",
        r"\bif\s+(you|u)\s+(text|txt|message|contact)\s+(me|us)\s+(again|one more time)\b",
        r"\b(don'?t|do not|never)\s+(text|message|contact)(\s+(me|us))?\s+again\b",
        guarded=False,
    ),
    _pattern(
        "asks for no more messages",
        rf"\bno\s+(more|further){GAP}\s+({THINGS}|texting|messaging)\b",
        rf"\bno\s+{THINGS}\s+(anymore|any more|please|pls|plz|thanks|thank you)\b",
    ),
    _pattern(
        "asks to be left alone",
        r"\bleave\s+(me|this number|my number)(\s+\S+){0,2}\s+alone\b",
        r"\b(lose|forget)\s+my\s+number\b",
        r"\b(gtfo|get off|get out of|stay off|stay out of)\s+(of\s+)?my\s+(phone|number|cell)\b",
    ),
    _pattern(
        "withdraws consent",
        r"\b(revoke|withdraw|withdrawing|revoking|rescind|retract)\s+(my\s+|all\s+|any\s+)?"
        r"(consent|permission|authorization)\b"
        r"(?!\s+(for|to|on|of)\s+(?!(the\s+)?(receive|receiving|get|text|texts|texting|message|"
        r"messages|messaging|sms|contact|contacting|send|be\b|marketing|promo)))",
        r"\bcease\s+and\s+desist\b",
        r"\b(no longer|don'?t|do not|never)\s+(give|gave|have given|grant)\s+(you\s+)?(my\s+)?"
        r"(permission|consent)\b",
        r"\b(you\s+)?(don'?t|do not)\s+have\s+my\s+(permission|consent)\b",
        r"\bi\s+(do not|don'?t)\s+consent\b",
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
        rf"\bcan\s+(you|you guys|y'all)\s+(please\s+)?not\s+(text|message|contact)\s+{ME}\b",
        rf"\bno\s+longer\s+(receive|get|want|accepting|receiving|taking|interested in){GAP}\s+"
        rf"{THINGS}\b",
    ),
    _pattern(
        "asks to stop (Spanish)",
        r"\bno\s+(mas|quiero\s+(recibir\s+)?(mas\s+)?)\s*(\w+\s+)?(mensajes|textos|sms|"
        r"promociones|ofertas|recordatorios|notificaciones|publicidad)\b(?!\s+de\s+voz)",
        r"\b(deja|dejen|dejar|deje|dejes|para|paren|pare|parar)\s+de\s+((enviar|mandar)(me|nos)?"
        rf"(\s+mas)?\s+({THINGS}|mas\b|nada\b)|(escribir|molestar|contactar|enviar|mandar)(me|nos)?"
        rf"{CLAUSE_END}|(escribir|molestar|contactar)(me|nos)\b|(molestar|escribir)(me|nos)?\s+con"
        rf"\s+((tantos|sus|los|esos)\s+)?{THINGS})",
        r"\bno\s+quiero\s+que\s+me\s+(contacten|escriban|envien|manden|llamen|molesten|sigan)\b",
        r"\b(ya\s+)?no\s+(me\s+)?(vuelva|vuelvan|vuelvas)\s+a\s+(escribir|enviar|mandar|contactar)",
        r"\bno\s+me\s+(envie|envies|envien|mande|mandes|manden|escriba|escribas|escriban|"
        rf"contacte|contacten)(\s+(mas|nunca))?(\s+por\s+(este|ese)\s+(medio|numero))?({CLAUSE_END}|\s+(\w+\s+)?{THINGS}|\s+nada\b)",
        r"\bno\s+me\s+(llegue|lleguen)\s+(ningun|mas)\b",
        r"\bno\s+(autorizo|doy\s+(mi\s+)?(permiso|consentimiento))\b",
        rf"\b(darme|dame|deme|denme|darse|darte|dese)\s+de\s+baja\b{NOT_OF_SOMETHING_ELSE}",
        r"\b(eliminar|borrar|quitar|quiten|quite|saquen|saque|sacar|eliminen|elimine|borren|"
        rf"borre|elimina|borra|quita|saca)\s+(mi\s+numero|este\s+numero|me)(\s+(de|del)\s+(la|su|tu|"
        rf"sus|esta)\s+(lista|base)|{CLAUSE_END})",
        r"\b(borrenme|eliminenme|quitenme|saquenme|borrame|sacame|quitame|eliminame|bajenme|"
        rf"bajame|desuscribanme|desuscribame)(\s+(de|del)\s+(la|su|tu|sus|esta|los)\s+(lista|base|"
        rf"{THINGS})|{CLAUSE_END})",
        rf"\b(quiero|deseo)\s+(darme\s+de\s+baja{NOT_OF_SOMETHING_ELSE}|desuscribirme|salir(me)?\s+"
        rf"de\s+(la|su|esta)\s+lista|que\s+(dejen|paren))",
        rf"\bno\s+(quiero|deseo)\s+(seguir\s+)?(recibir|recibiendo)(\s+(mas|sus|estos|esos|los))*"
        rf"(\s+{THINGS}|{CLAUSE_END})",
        r"\b(favor\s+de\s+)?no\s+(enviar|mandar)(me)?\s+mas\b",
        r"\bfavor\s+de\s+no\s+(contactar|escribir|enviar|mandar)(me|nos)\b",
        rf"\b(detengan|deten|cancela|cancelen|cancelar|paren|suspendan|suspender){GAP}\s+{THINGS}\b",
        r"\b(cancelar|cancelen|cancela|anular)\s+(la\s+|mi\s+)?suscripcion\b",
        r"\bla\s+baja\s+(de|del)\s+(la\s+)?(lista|servicio\s+de\s+mensajes)",
        language=Language.SPANISH,
    ),
    _pattern(
        "asks to stop (French)",
        r"\b(arret(e|ez|er)?|cesse[zr]?)\s+(de\s+(m\s?'?|me\s+)\s*(envoyer|ecrire|texter|contacter|"
        r"harceler|spammer|deranger|relancer)|(les|vos|ces|tes)\s+(\w+\s+)?(messages|sms|textos|"
        r"texto|notifications|"
        r"promotions|rappels|pubs|envois))",
        r"\bstoppe[zr]?\s+(les|vos|ces|tes)\s+(\w+\s+)?(envois|messages|sms|textos)\b",
        r"\b(coupez|couper|desactivez|desactiver)\s+(les|vos|ces|tes)\s+(\w+\s+)?(envois|messages|sms|"
        r"textos|alertes|notifications)\b",
        r"\bcombien de fois\b[^.!?]{0,30}\b(dire|ecrire|repondre)\b[^.!?]{0,12}\b(stop|arret)\b",
        r"\b(deja|deux fois|plusieurs fois)\b[^.!?]{0,20}\b(repondu|envoye|ecrit|dit)\s+"
        r"(stop|arret)\b",
        r"\bne\s+(me\s+|m\s?'\s*)(envoyez|ecrivez|envoie|ecris|contactez|textez|appelez|"
        r"contacte)\s+plus\b",
        r"\bje\s+(ne\s+(veux|souhaite|desire)\s+plus|(veux|souhaite|desire)\s+(pu|pus))\s+"
        rf"(recevoir|de)\s*((de|vos|ces|tes|les|d'?)\s*)?(\w+\s+)?{THINGS}\b",
        r"\bje\s+(veux|souhaite|desire)\s+(pu|pus)\s+recevoir\b",
        r"\b(je\s+veux|je\s+souhaite|je\s+voudrais|veuillez)\s+me\s+(desabonner|desinscrire|"
        r"retirer\s+de)",
        r"\b(je\s+veux|je\s+souhaite|je\s+voudrais|veuillez)\s+(desabonner|desinscrire)\s+(mon|ce)"
        r"\s+numero\b",
        r"(^|[,;:]\s*|\b(stop|svp|merci)\s+)plus\s+de\s+(messages|sms|textos|texto|promotions|"
        r"notifications)\b",
        r"\b(veux|souhaite|desire)\s+plus\s+etre\s+(contacte|sollicite|derange)",
        r"\b(desabonnez|desinscrivez|retirez|enlevez|supprimez|effacez|rayez|desabonne|"
        r"desinscris|retire|enleve|supprime|efface|raye)\s*-?\s*moi\b",
        r"\bje\s+me\s+(desabonne|desinscris)\b",
        r"\b(lachez|lache)\s*-?\s*moi\b",
        r"\b(supprimez|effacez|retirez|enlevez|oubliez|oublie)\s+(mon\s+numero|mes\s+coordonnees)\b",
        r"\bne\s+plus\s+(me\s+|m\s?'\s*)?(envoyer|ecrire|contacter|texter|solliciter)\b",
        rf"\bne\s+plus\s+recevoir\s+((de|vos|ces|les|d'?)\s*)?(\w+\s+)?{THINGS}\b",
        r"\b(me|m\s?'?)\s*(retirer|desabonner|desinscrire|supprimer|enlever|radier)\s+(de|du|des)"
        r"\s+((votre|vos|la|cette|ces|tes|ta)\s+)?(liste|listes|sms|messages|textos|envois|"
        r"abonnement|base|fichier|notifications|contacts)\b",
        r"\b(laissez|laisse|fichez|foutez)\s*-?\s*moi\s+(tranquille|la paix)\b",
        rf"\b(ca suffit|assez)\s+(les|avec\s+(les|vos|ces|tes)|de)\s+(\w+\s+)?{THINGS}\b",
        language=Language.FRENCH,
    ),
    _pattern(
        "asks to stop (Portuguese)",
        r"\b(pare|parem|parar|para)\s+de\s+(me\s+)?(enviar|mandar)",
        r"\bnao\s+(quero\s+)?(mais\s+)?(receber\s+)?(mais\s+)?(mensagens|sms)\b",
        r"\b(me\s+(tire|tirem|remova|removam|exclua)|(tire|remova|exclua)-me|(remova|removam|"
        r"remover|exclua|excluam|tire|tirem|apaguem|apague)\s+(o\s+)?meu\s+numero)\s+(da|de|dessa|"
        r"desta)\s+lista\b",
        rf"\bnao\s+me\s+(mande|mandem|envie|enviem)\s+mais({CLAUSE_END}|\s+(\w+\s+)?{THINGS}|"
        rf"\s+nada\b)",
        r"\b(descadastrar|descadastre|descadastrem|me\s+descadastre|sair\s+da\s+lista)\b",
        r"\bnao\s+quero\s+(mais\s+)?receber\b|\bchega\s+de\s+(mensagens|mensagem|sms)\b",
        language=Language.PORTUGUESE,
    ),
    _pattern(
        "asks to stop (German)",
        r"\bkeine\s+([\w-]*-)?(sms|nachrichten|nachricht|werbung)\s+mehr\b",
        r"\bnicht\s+mehr\s+(schreiben|senden|kontaktieren|anschreiben|simsen)\b",
        r"\blass(en sie|t)?\s+mich\s+in\s+ruhe\b",
        r"\b(horen sie|hor|hort)\s+auf\b",
        r"\bbitte\s+abmelden\b",
        r"\b(aus|von)\s+(der|ihrer|dieser)\s+liste\s+(entfernen|streichen|loschen|nehmen)\b",
        r"\b(loschen|entfernen|streichen|nehmen)\s+sie\s+(meine\s+nummer|mich)\s+(aus|von)\b",
        r"\b(nehmen sie|bitte)\s+mich\s+(aus|von)\s+(der|ihrer)\s+(liste|verteiler)",
        r"\bwiderspreche\s+ich\b",
        language=Language.GERMAN,
    ),
)

SYMBOLS = frozenset({"So", "Sk", "Cs", "Co"})  # emoji and pictographs: "🛑 STOP 🛑"
# Words as texted, read as written out before the patterns see them.
SHORTHAND = {
    "u": "you",
    "ur": "your",
    "frm": "from",
    "txt": "text",
    "txts": "texts",
    "msg": "message",
    "msgs": "messages",
    "textng": "texting",
    "textn": "texting",
    "textin": "texting",
    "texing": "texting",
    "txting": "texting",
    "txtin": "texting",
    "stahp": "stop",
    "msj": "mensaje",
    "msjs": "mensajes",
}
SPELLED_OUT = re.compile(r"\b[a-z]([\s.\-][a-z]\b){2,}\.?")
# "Stop! That's too funny 😂": a lone "stop" among laughter is not a request.
LAUGHTER = re.compile(
    r"[\U0001F602\U0001F923\U0001F606\U0001F639]|\b(lol|lmao|haha\w*|jaja\w*|mdr|kkk+)\b"
)
# A message that asks to go on texting is not a request to stop, whatever else it says.
KEEPS_THE_TEXTS = re.compile(
    r"(?<!you )(?<!they )(?<!need to )(?<!don't )(?<!dont )(?<!stop )(?<!not )"
    r"\b(keep|continue|still want)\s+(texting|messaging|sending|getting|"
    r"receiving|the\s+texts|the\s+reminders)|\b(text|message)\s+me\s+instead\b|"
    r"\b(only|just)\s+(texts?|by text)\b|\btexts?\s+only\b|\bprefer\s+(texts?|texting)\b|"
    r"\b(mandeme|envieme|mandenme|envienme)\s+(mensajes|textos)\b|\bsolo\s+(mensajes|textos)\b|"
    r"\bplutot\s+par\s+(texto|sms|message)\b|\b(texts?|texting)\s+(is|are)\s+(fine|ok|okay|good)\b"
)
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
    folded = "".join(" " if unicodedata.category(ch) in SYMBOLS else ch for ch in folded)
    folded = re.sub(r"([a-z])\1{2,}", r"\1", folded)  # "stoppp", "outtt"
    folded = re.sub(r"\bopt(ing|ed)?[\s\-_]*out\b", "optout", folded)
    folded = re.sub(r"\b[a-z]+\b", lambda word: SHORTHAND.get(word.group(), word.group()), folded)
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
    if KEEPS_THE_TEXTS.search(normalized):
        return None
    sentences = [
        sentence
        for sentence, end in re.findall(r"([^.!?;\n]+)([.!?;\n]*)", normalized)
        if sentence.strip() and "?" not in end
    ]
    last_clause = [sentence.split(",")[-1] for sentence in sentences][-1:]
    joking = LAUGHTER.search(text.casefold())
    for sentence in [*sentences, *last_clause] if not joking else []:
        if language := _only_asks_to_stop(sentence):
            return Revocation("a sentence that only asks to stop", language)
    for pattern in PATTERNS:
        for match in pattern.regex.finditer(normalized):
            if _negated(normalized, match.start(), guarded=pattern.guarded):
                continue
            if _limited(normalized, match.end()):
                continue
            return Revocation(pattern.reason, pattern.language)
    return None


def _only_asks_to_stop(sentence: str) -> str | None:
    """The language of a sentence made of words that ask to stop and courtesies only ("Alto
    por favor" is Spanish), or None when it says anything else."""
    words = WORDS.findall(sentence)
    stopping = [STOP_WORDS[word] for word in words if word in STOP_WORDS]
    bare = [BARE_STOP_WORDS[word] for word in words if word in BARE_STOP_WORDS]
    around = set(words) - STOP_WORDS.keys() - BARE_STOP_WORDS.keys()
    if stopping and around <= POLITENESS.keys() | ABOUT:
        return _language_of(stopping, words)
    if bare and not stopping and around <= POLITENESS.keys():
        return _language_of(bare, words)
    return None


def _language_of(stopping: list[str], words: list[str]) -> str:
    """The language of the words of stopping, or of the courtesies when those are English
    (a "stop" with "por favor" is Spanish)."""
    courtesies = {POLITENESS[word] for word in words if word in POLITENESS} - {Language.ENGLISH}
    if stopping[0] == Language.ENGLISH and len(courtesies) == 1:
        return courtesies.pop()
    return stopping[0]


def _negated(text: str, start: int, *, guarded: bool) -> bool:
    """Whether the match is inside a condition ("if", "when" earlier in its clause) or, for a
    guarded pattern, negated just before ("please don't stop")."""
    clause = re.split(r"[.!?;,\n]", text[:start])[-1]
    before = [word for word in WORDS.findall(clause) if word not in IGNORED_BEFORE_THE_VERB]
    if any(word in CONDITIONS for word in WORDS.findall(clause)):
        return True
    return guarded and any(word in NEGATIONS for word in before[-2:])


def _limited(text: str, end: int) -> bool:
    return bool(LIMITS.match(text[end:]))
