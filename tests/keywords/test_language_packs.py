"""Keywords in the contact's language (issue 17), through Settings, the webhook and the pages.

An account switches Spanish or French on in Settings; a contact who texts that language's
keyword is answered with its replies. Off, the pack's words are not keywords (an opt-out in
them is still read as a request in other words, answered in English).
"""

from dataclasses import asdict

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from conversations.models import Direction, Message
from crm.gate import Purpose
from crm.languages import DEFAULT_REPLIES, Language
from crm.models import AccountLanguage, Consent, ConsentEvent, ConsentSource, ConsentStatus
from crm.roles import Role
from crm.services import account_language_update
from tests.crm.test_account_settings import settings_data
from tests.support.factories import make_user
from tests.support.webhook_client import inbound_params

pytestmark = pytest.mark.usefixtures("signed_account")
SENDER = "+12025550143"


def switch_on(account, language, **replies):
    return account_language_update(
        account=account,
        language=language,
        is_active=True,
        **{**asdict(DEFAULT_REPLIES[language]), **replies},
    )


def text(client, deliver, line, body):
    assert deliver(client, inbound_params(line, sender=SENDER, body=body)).status_code == 200
    return Message.objects.filter(direction=Direction.INBOUND).latest("pk")


def reply_to(message):
    return Message.objects.get(direction=Direction.OUTBOUND, in_reply_to=message)


def status_on(line):
    consent = Consent.objects.filter(contact__phone=SENDER, line=line).first()
    return consent.status if consent else None


@pytest.mark.parametrize("body", ["ALTO", "Parar", "baja.", "CANCELAR", "Detener", "SALIR"])
def test_a_spanish_opt_out_keyword_opts_out_and_is_confirmed_in_spanish(
    client, deliver, account, line, body
):
    switch_on(account, Language.SPANISH, opt_out_reply="Baja de {account} confirmada.")
    message = text(client, deliver, line, body)
    assert status_on(line) == ConsentStatus.OPTED_OUT
    assert ConsentEvent.objects.get().source == ConsentSource.KEYWORD
    reply = reply_to(message)
    assert (reply.body, reply.purpose) == (
        "Baja de Acme Plumbing confirmada.",
        Purpose.OPT_OUT_CONFIRMATION,
    )


def test_spanish_help_and_opt_in_are_answered_in_spanish(client, deliver, account, line):
    switch_on(account, Language.SPANISH)
    help_reply = reply_to(text(client, deliver, line, "Ayuda"))
    assert help_reply.body.startswith("Acme Plumbing: para obtener ayuda, contacte a help@")
    assert help_reply.purpose == Purpose.HELP_REPLY
    text(client, deliver, line, "alto")
    opted_in = reply_to(text(client, deliver, line, "VOLVER"))
    assert status_on(line) == ConsentStatus.OPTED_IN
    assert opted_in.body.startswith("Está suscrito a los mensajes de Acme Plumbing.")


def test_french_arret_with_or_without_its_accent_is_answered_in_french(
    client, deliver, account, line, second_line
):
    switch_on(account, Language.FRENCH)
    first = reply_to(text(client, deliver, line, "ARRÊT"))
    second = reply_to(text(client, deliver, second_line, "arret"))
    for reply in (first, second):
        assert reply.body.startswith("Vous êtes désabonné des messages de Acme Plumbing")
    assert reply_to(text(client, deliver, line, "AIDE")).body.startswith("Acme Plumbing : pour")


def test_english_keywords_keep_english_replies_when_packs_are_on(client, deliver, account, line):
    switch_on(account, Language.SPANISH)
    switch_on(account, Language.FRENCH)
    reply = reply_to(text(client, deliver, line, "STOP"))
    assert reply.body.startswith("You have been unsubscribed from Acme Plumbing")


def test_with_the_pack_off_its_opt_out_word_is_a_phrase_answered_in_english(
    client, deliver, account, line
):
    message = text(client, deliver, line, "ALTO")
    assert status_on(line) == ConsentStatus.OPTED_OUT
    assert ConsentEvent.objects.get().source == ConsentSource.PHRASE
    assert reply_to(message).body.startswith("You have been unsubscribed from Acme Plumbing")
    help_message = text(client, deliver, line, "AYUDA")
    assert help_message.decision.startswith("No keyword")
    assert not Message.objects.filter(in_reply_to=help_message).exists()


def test_a_switched_off_pack_keeps_its_replies_but_is_not_read(client, deliver, account, line):
    switch_on(account, Language.SPANISH, help_reply="Ayuda de {account}.")
    account_language_update(
        account=account,
        language=Language.SPANISH,
        is_active=False,
        **{**asdict(DEFAULT_REPLIES[Language.SPANISH]), "help_reply": "Ayuda de {account}."},
    )
    assert AccountLanguage.objects.get().help_reply == "Ayuda de {account}."
    assert text(client, deliver, line, "AYUDA").decision.startswith("No keyword")


def test_a_spanish_phrase_is_confirmed_in_spanish_when_the_pack_is_on(
    client, deliver, account, line
):
    switch_on(account, Language.SPANISH)
    message = text(client, deliver, line, "Por favor no me manden más mensajes")
    assert status_on(line) == ConsentStatus.OPTED_OUT
    assert reply_to(message).body.startswith("Se ha dado de baja de Acme Plumbing")


def test_settings_switch_a_pack_on_with_its_replies(admin_client, account, line, deliver, client):
    page = admin_client.get(reverse("account-settings")).content.decode()
    assert "Answer keywords in Spanish" in page
    assert "Answer keywords in French" in page
    response = admin_client.post(
        reverse("account-settings"),
        settings_data(
            account,
            [line],
            **{
                "language-es-is_active": "on",
                "language-es-opt_out_reply": "Listo, {account} no le escribirá más.",
            },
        ),
    )
    assert response.status_code == 302
    pack = AccountLanguage.objects.get(account=account, language=Language.SPANISH)
    assert pack.is_active
    assert not AccountLanguage.objects.get(account=account, language=Language.FRENCH).is_active
    assert reply_to(text(client, deliver, line, "baja")).body == (
        "Listo, Acme Plumbing no le escribirá más."
    )


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", "This field is required."),
        ("Baja de {acount}", "Unknown placeholder {acount}"),
        ("x" * 501, "at most 500"),
    ],
)
def test_a_bad_pack_reply_is_refused_on_its_field_and_nothing_is_saved(
    admin_client, account, line, value, error
):
    response = admin_client.post(
        reverse("account-settings"),
        settings_data(
            account,
            [line],
            **{
                "account-name": "Renamed",
                "language-es-is_active": "on",
                "language-es-opt_out_reply": value,
            },
        ),
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not AccountLanguage.objects.exists()
    account.refresh_from_db()
    assert account.name == "Acme Plumbing"


def test_renaming_the_account_checks_the_packs_replies(admin_client, account, line):
    switch_on(account, Language.FRENCH, help_reply="{account} " + "x" * 400)
    response = admin_client.post(
        reverse("account-settings"), settings_data(account, [line], **{"account-name": "N" * 110})
    )
    assert response.status_code == 200
    assert "The French help reply" in response.content.decode()


def test_the_keywords_page_shows_each_pack_and_whether_it_is_on(admin_client, account):
    switch_on(account, Language.FRENCH)
    page = admin_client.get(reverse("responders")).content.decode()
    assert '<code class="keyword">ALTO</code>' in page
    assert '<code class="keyword">ARRÊT</code>' in page
    assert 'Spanish <span class="meta">(off)</span>' in page
    assert "French <span" not in page
    assert "Vous êtes désabonné des messages de Acme Plumbing" in page


def test_the_tester_shows_the_language_and_the_misspelling(admin_client, account, line):
    switch_on(account, Language.SPANISH)
    spanish = admin_client.get(reverse("responders"), {"line": line.pk, "message": "alto"})
    assert spanish.context["outcome"].language == Language.SPANISH
    assert "<dt>Language</dt><dd>Spanish" in spanish.content.decode()
    misspelt = admin_client.get(reverse("responders"), {"line": line.pk, "message": "Stpo"})
    page = misspelt.content.decode()
    assert '“stpo” read as <code class="keyword">STOP</code>' in page
    assert "(“stpo” read as STOP)" in page
    french = admin_client.get(
        reverse("responders"), {"line": line.pk, "message": "arrêtez de m'envoyer des textos"}
    )
    assert '<dt>Language</dt><dd>French <span class="meta">(answered in English)' in (
        french.content.decode()
    )


def test_the_admin_shows_the_languages_an_account_answers_in(account, client):
    switch_on(account, Language.FRENCH)
    staff = make_user(account, Role.ADMIN, username="pack-staff", is_staff=True)
    staff.user_permissions.set(Permission.objects.all())
    client.force_login(staff)
    page = client.get(reverse("admin:crm_account_change", args=[account.pk])).content.decode()
    assert "English, French (languages are switched on in Settings)" in page


def test_a_longer_name_and_a_shortened_pack_reply_save_together(admin_client, account, line):
    switch_on(account, Language.FRENCH, help_reply="{account} " + "x" * 470)
    response = admin_client.post(
        reverse("account-settings"),
        settings_data(
            account,
            [line],
            **{
                "account-name": "N" * 100,
                "language-fr-is_active": "on",
                "language-fr-help_reply": "{account} : aide.",
            },
        ),
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "N" * 100
    assert AccountLanguage.objects.get(language=Language.FRENCH).help_reply == "{account} : aide."


@pytest.mark.parametrize(
    ("body", "language", "start"),
    [
        ("ALTO por favor", Language.SPANISH, "Se ha dado de baja"),
        ("Basta ya", Language.SPANISH, "Se ha dado de baja"),
        ("Arrêtez svp", Language.FRENCH, "Vous êtes désabonné"),
        ("stop por favor", Language.SPANISH, "Se ha dado de baja"),
    ],
)
def test_a_sentence_that_only_asks_to_stop_is_answered_in_its_language(
    client, deliver, account, line, body, language, start
):
    switch_on(account, Language.SPANISH)
    switch_on(account, Language.FRENCH)
    assert reply_to(text(client, deliver, line, body)).body.startswith(start)
