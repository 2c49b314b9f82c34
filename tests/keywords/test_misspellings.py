"""A message that is only a misspelt opt-out keyword opts out, through the real webhook, when
the reading is unambiguous and the text is not a word of its own (issue 17)."""

from dataclasses import asdict

import pytest

from conversations.models import Direction, Message
from crm.languages import DEFAULT_REPLIES, Language
from crm.models import ConsentEvent, ConsentSource
from crm.services import account_language_update
from keywords.misspellings import read_misspelling
from keywords.models import Action
from tests.support.factories import ResponderFactory
from tests.support.webhook_client import inbound_params

pytestmark = pytest.mark.usefixtures("signed_account")
ALL = (Language.ENGLISH, Language.SPANISH, Language.FRENCH)


@pytest.mark.parametrize(
    ("typed", "keyword"),
    [
        ("stpo", "STOP"),
        ("Sotp", "STOP"),
        ("TSOP!", "STOP"),
        ("stopp", "STOP"),
        ("SSTOPPP", "STOP"),
        ("S T P O", "STOP"),
        ("qiut", "QUIT"),
        ("cancle", "CANCEL"),
        ("cancell", "CANCEL"),
        ("revkoe", "REVOKE"),
        ("optuot", "OPTOUT"),
        ("stpoall", "STOPALL"),
        ("sotp all", "STOP ALL"),
        ("unsubscirbe", "UNSUBSCRIBE"),
        ("unsubscibe", "UNSUBSCRIBE"),
        ("Unsusbcribe", "UNSUBSCRIBE"),
        ("unsubscrib", "UNSUBSCRIBE"),
        ("unsuscribe", "UNSUBSCRIBE"),
    ],
)
def test_misspellings_of_english_keywords_opt_out_read_as_the_keyword(
    client, line, deliver, typed, keyword
):
    assert deliver(client, inbound_params(line, body=typed)).status_code == 200
    event = ConsentEvent.objects.get()
    assert event.source == ConsentSource.KEYWORD
    message = Message.objects.get(direction=Direction.INBOUND)
    assert f"read as {keyword})" in message.decision
    assert Message.objects.filter(in_reply_to=message).exists()  # confirmed like the keyword


@pytest.mark.parametrize(
    "typed",
    [
        "step",  # one letter different: a word
        "shop",
        "top",  # one letter missing
        "stops",  # one more
        "stoop",  # a repeated letter that makes a word
        "stp",  # short keywords allow no letter missing
        "sop",
        "ned",  # END swapped: a word
        "quite",
        "cancer",  # CANCEL with one letter changed: a word
        "candle",
        "evoke",  # REVOKE less a letter: a word
        "usubscribe",  # as near SUBSCRIBE (opt in) as UNSUBSCRIBE
        "unsbscrbe xyz",
        "stops by",
        "stpo by later",
    ],
)
def test_everyday_words_and_ambiguous_spellings_change_nothing(client, line, deliver, typed):
    assert deliver(client, inbound_params(line, body=typed)).status_code == 200
    assert not ConsentEvent.objects.exists()


def test_short_keywords_allow_only_swaps_and_repeats_long_ones_two_edits():
    assert read_misspelling("stpo", ALL).keyword == "STOP"
    assert read_misspelling("stoq", ALL) is None  # one letter wrong in a short keyword
    assert read_misspelling("cancl", ALL).keyword == "CANCEL"  # one edit in six letters
    assert read_misspelling("cnel", ALL) is None  # two edits in six letters
    assert read_misspelling("unsbscrbe", ALL).keyword == "UNSUBSCRIBE"  # two edits
    assert read_misspelling("unsbscrb", ALL) is None  # three


def test_pack_keywords_are_misspelt_only_when_the_pack_is_on():
    assert read_misspelling("cancelra", ALL).keyword == "CANCELAR"
    assert read_misspelling("cancelra", (Language.ENGLISH,)) is None
    assert read_misspelling("arrte", ALL).language == Language.FRENCH
    assert read_misspelling("ARRÊTT", ALL).keyword == "ARRETT"
    assert read_misspelling("lato", ALL) is None  # ALTO swapped, and an Italian word


def test_a_responder_keyword_near_stop_is_the_responder_s(client, account, line, deliver):
    ResponderFactory(
        account=account, name="Stpo", keywords=["STPO"], action=Action.REPLY, reply="Our deal"
    )
    deliver(client, inbound_params(line, body="stpo"))
    assert not ConsentEvent.objects.exists()
    assert Message.objects.get(direction=Direction.OUTBOUND).body == "Our deal"


@pytest.mark.parametrize("typed", ["Rareté", "Détenir", "Arrêtée"])
def test_an_accented_everyday_word_is_not_a_misspelling(typed):
    assert read_misspelling(typed, ALL) is None


def test_a_keyword_with_its_accent_is_the_keyword_not_a_misspelling(client, account, line, deliver):

    account_language_update(
        account=account,
        language=Language.FRENCH,
        is_active=True,
        **asdict(DEFAULT_REPLIES[Language.FRENCH]),
    )
    deliver(client, inbound_params(line, body="Arrête"))
    message = Message.objects.get(direction=Direction.INBOUND)
    assert message.decision.startswith("Built-in keyword ARRETE")
    assert "misspelt" not in message.decision
