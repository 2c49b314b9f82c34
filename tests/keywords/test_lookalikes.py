"""Keywords written apart or in look-alike letters are the keywords they look like.

"S.T.O.P" and STOP spelt in Cyrillic are opt-outs, through the real webhook; and since the
responder form compares keywords the same way, no one can make such a spelling an opt-in.
"""

import pytest
from django.urls import reverse

from crm.models import Consent, ConsentEvent, ConsentStatus
from keywords.models import Action, KeywordResponder
from tests.keywords.test_keyword_responders import errors_of
from tests.support.factories import ResponderFactory
from tests.support.webhook_client import inbound_params

pytestmark = pytest.mark.usefixtures("signed_account")

SPELLINGS_OF_STOP = {
    "dots": "S.T.O.P",
    "spaces": "S T O P",
    "hyphens": "s-t-o-p",
    "dots and a full stop": "s.t.o.p.",
    "Cyrillic dze, te, o, er": "\u0405\u0422\u041e\u0420",
    "Cyrillic es, te, o, er": "\u0421\u0422\u041e\u0420",
    "Cyrillic in lower case": "\u0455\u0442\u043e\u0440",
    "Cyrillic O among Latin letters": "ST\u041eP",
    "fullwidth": "\uff33\uff34\uff2f\uff30",
    "mathematical bold": "\U0001d412\U0001d413\U0001d40e\U0001d40f",
    "zero for O": "ST0P",
    "a right-to-left override in front": "\u202eSTOP",
    "a zero-width space inside": "ST\u200bOP",
    "unsubscribe spaced out": "U N S U B S C R I B E",
    "Armenian capital S": "\u054fTOP",
    "Greek capitals": "\u0395\u039dD",  # END, whose lower case (εν) looks nothing like it
}


@pytest.mark.parametrize("body", SPELLINGS_OF_STOP.values(), ids=SPELLINGS_OF_STOP.keys())
def test_look_alike_spellings_of_stop_opt_out(client, line, deliver, body):
    assert deliver(client, inbound_params(line, body=body)).status_code == 200
    assert Consent.objects.get(line=line).status == ConsentStatus.OPTED_OUT
    assert ConsentEvent.objects.get().keyword in ("STOP", "UNSUBSCRIBE", "END")


@pytest.mark.parametrize(
    "body",
    ["step", "shop", "top", "stops", "S.T.O.P. by later", "st op", "s.t.o.p the car", "5TOP"],
)
def test_ordinary_words_and_sentences_stay_ordinary(client, line, deliver, body):
    assert deliver(client, inbound_params(line, body=body)).status_code == 200
    assert not ConsentEvent.objects.exists()


def test_letters_typed_apart_match_custom_keywords_too(client, account, line, deliver):
    join = ResponderFactory(account=account, name="Join", keywords=["JOIN"], action=Action.OPT_IN)
    deliver(client, inbound_params(line, body="J.O.I.N"))
    event = ConsentEvent.objects.get()
    assert (event.responder, event.status) == (join, ConsentStatus.OPTED_IN)


@pytest.mark.parametrize(
    "keyword",
    ["s-t-o-p", "S.T.O.P", "\u0405\u0422\u041e\u0420", "\u0421\u0422\u041e\u0420", "\u0395\u039dD"],
)
def test_a_look_alike_of_stop_cannot_be_an_opt_in_keyword(client, admin_user, line, keyword):
    client.force_login(admin_user)
    errors = errors_of(client, keywords=keyword)
    assert "is a built-in opt out keyword" in " ".join(errors["keywords"])
    assert not KeywordResponder.objects.exists()


def test_keywords_with_bidirectional_controls_are_refused(client, admin_user, line):
    client.force_login(admin_user)
    errors = errors_of(client, keywords="JOIN\u202e")
    assert "bidirectional control characters" in " ".join(errors["keywords"])


def test_two_spellings_of_one_keyword_are_one_keyword(client, admin_user, line):
    client.force_login(admin_user)
    errors = errors_of(client, keywords="JOIN, J.O.I.N")
    assert "is the same keyword as" in " ".join(errors["keywords"])
    ResponderFactory(account=line.account, name="Join", keywords=["JOIN"], action=Action.OPT_IN)
    errors = errors_of(client, name="Other", keywords="j o i n")
    assert "is already a keyword of the active responder" in " ".join(errors["keywords"])


def test_the_tester_reads_look_alikes_as_the_worker_does(client, admin_user, line):
    client.force_login(admin_user)
    page = client.get(reverse("responders"), {"line": line.pk, "message": "S.T.O.P"})
    assert "Built-in keyword STOP" in page.content.decode()
