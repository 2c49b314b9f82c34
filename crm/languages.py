"""The languages an account may answer keywords in, and the replies each starts with.

English is always on. Spanish and French are packs an account switches on in Settings: US
Spanish-language programmes and Canadian short codes must answer keywords in them (the keywords
themselves, and where they are documented, are in `keywords.languages`). Each reply says what a
contact can text next in words that work whatever the pack: START is read in every language.
"""

from dataclasses import dataclass

from django.db import models


class Language(models.TextChoices):
    """Languages requests to stop are read in; the first three have keyword packs."""

    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"
    FRENCH = "fr", "French"
    PORTUGUESE = "pt", "Portuguese"
    GERMAN = "de", "German"


@dataclass(frozen=True)
class Replies:
    opt_out_reply: str
    opt_out_all_reply: str
    opt_in_reply: str
    help_reply: str


DEFAULT_REPLIES = {
    Language.SPANISH: Replies(
        opt_out_reply="Se ha dado de baja de {account} en este número y no recibirá más "
        "mensajes. Responda START para volver a suscribirse.",
        opt_out_all_reply="Se ha dado de baja de todos los números de {account} y no recibirá "
        "más mensajes de ellos. Responda START para volver a suscribirse a este.",
        opt_in_reply="Está suscrito a los mensajes de {account}. Pueden aplicarse tarifas de "
        "mensajes y datos. Responda AYUDA para obtener ayuda, ALTO para darse de baja.",
        help_reply="{account}: para obtener ayuda, contacte a {help_contact}. Pueden aplicarse "
        "tarifas de mensajes y datos. Responda ALTO para darse de baja.",
    ),
    Language.FRENCH: Replies(
        opt_out_reply="Vous êtes désabonné des messages de {account} sur ce numéro et n'en "
        "recevrez plus. Répondez START pour vous réabonner.",
        opt_out_all_reply="Vous êtes désabonné de tous les numéros de {account} et n'en "
        "recevrez plus de messages. Répondez START pour vous réabonner à celui-ci.",
        opt_in_reply="Vous êtes abonné aux messages de {account}. Des frais de messagerie et de "
        "données peuvent s'appliquer. Répondez AIDE pour de l'aide, ARRET pour vous désabonner.",
        help_reply="{account} : pour de l'aide, contactez {help_contact}. Des frais de "
        "messagerie et de données peuvent s'appliquer. Répondez ARRET pour vous désabonner.",
    ),
}
ADDED_LANGUAGES = tuple(DEFAULT_REPLIES)
