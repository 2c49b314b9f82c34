"""Twilio's identifiers must have Twilio's shape, so no re-split of a signed request validates.

Twilio signs the URL followed by the sorted parameter names and values joined with nothing in
between. The same string splits other ways: move the next parameter into the end of a SID's
value and the captured `X-Twilio-Signature` still fits, while the SID looks new. Replayed, a
captured START would then opt a contact back in after their STOP.
"""

from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.urls import reverse
from twilio.request_validator import RequestValidator

from conversations.models import Direction, Message, MessageStatus
from crm.models import Consent, ConsentEvent, ConsentStatus
from tests.support.factories import SentMessageFactory
from tests.support.webhook_client import (
    ACCOUNT_SID,
    TOKEN,
    inbound_params,
    new_sid,
    post_inbound,
    post_status,
)

pytestmark = pytest.mark.usefixtures("signed_account")

SENDER = "+12025550143"


def resplit(params: dict[str, str], into: str, absorbed: str) -> dict[str, str]:
    """The same signed string split another way: `absorbed` and its value appended to `into`."""
    moved = {name: value for name, value in params.items() if name != absorbed}
    moved[into] = params[into] + absorbed + params[absorbed]
    return moved


def signature_still_fits(route: str, signed: dict[str, str], sent: dict[str, str]) -> bool:
    url = f"http://testserver{reverse(route)}"
    validator = RequestValidator(TOKEN)
    return validator.validate(url, sent, validator.compute_signature(url, signed))


def test_a_resplit_start_cannot_opt_a_contact_back_in_after_stop(client, line, deliver, outbox):
    start = inbound_params(line, sender=SENDER, body="START")
    assert deliver(client, start).status_code == 200
    assert deliver(client, inbound_params(line, sender=SENDER, body="STOP")).status_code == 200
    texts_before = len(outbox)

    replayed = resplit(start, into="MessageSid", absorbed="NumMedia")
    assert signature_still_fits("twilio-inbound-message", start, replayed)
    response = deliver(client, start, sent_params=replayed)

    assert response.status_code == 400
    assert "MessageSid" in response.content.decode()
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 2
    assert Consent.objects.get(line=line).status == ConsentStatus.OPTED_OUT
    assert ConsentEvent.objects.count() == 2
    assert len(outbox) == texts_before


def split_across_a_name_and_a_value(tail: str, where: int) -> dict[str, str]:
    """The tail parked after the forged parameters: whole in one value (`where` 0), or cut
    `where` characters into the real SID's name, its end becoming a parameter name (lower
    case: it sorts after the others) with an empty value."""
    if not where:
        return {"ZZ": tail}
    cut = tail.index("MessageSid") + where
    return {"ZZ": tail[:cut], tail[cut:]: ""}


@pytest.mark.parametrize("where", [0, 3, 8, 9], ids=["value", "name 3", "name 8", "name 9"])
def test_a_body_written_to_be_resplit_cannot_forge_a_text_from_someone_else(
    client, line, deliver, outbox, where
):
    """The attacker texts the line a body that spells out a request of their choosing, then
    replays Twilio's signed request re-split: the body they wrote becomes a STOP from the
    victim under a new SID, and the real rest is parked in a parameter nobody reads."""
    attacker, victim, forged_sid = "+12025550143", "+12025550199", "SM" + "ab" * 16
    body = f"STOPFrom{victim}MessageSid{forged_sid}To{line.number}ZZ"
    captured = inbound_params(line, sender=attacker, body=body)
    deliver(client, captured)  # refused or not, Twilio signed it and it can be captured
    tail = f"From{attacker}MessageSid{captured['MessageSid']}NumMedia0To{line.number}"
    forged = {
        "AccountSid": captured["AccountSid"],
        "Body": "STOP",
        "From": victim,
        "MessageSid": forged_sid,
        "To": line.number,
        **split_across_a_name_and_a_value(tail, where),
    }
    assert signature_still_fits("twilio-inbound-message", captured, forged)

    response = deliver(client, captured, sent_params=forged)

    assert response.status_code == 400
    assert "holds another message SID than its own" in response.content.decode()
    assert not Message.objects.filter(remote_number=victim).exists()
    assert not ConsentEvent.objects.exists()
    assert outbox == []


def test_a_parameter_sent_twice_is_refused(client, line):
    body = urlencode({**inbound_params(line), "Body": ["START", "STOP"]}, doseq=True)
    url = reverse("twilio-inbound-message")
    signature = RequestValidator(TOKEN).compute_signature(
        f"http://testserver{url}", QueryDict(body)
    )
    response = client.post(
        url,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )
    assert response.status_code == 400
    assert "Body: Sent more than once." in response.content.decode()
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("into", "absorbed"),
    [
        ("MessageSid", "NumMedia"),
        ("SmsMessageSid", "SmsSid"),
        ("SmsSid", "SmsStatus"),
        ("AccountSid", "ApiVersion"),
    ],
)
def test_no_resplit_of_an_inbound_message_is_stored(client, line, into, absorbed):
    sid = new_sid()
    signed = {
        **inbound_params(line, body="START"),
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    sent = resplit(signed, into=into, absorbed=absorbed)
    assert signature_still_fits("twilio-inbound-message", signed, sent)

    response = post_inbound(client, signed, sent_params=sent)

    assert response.status_code == 400
    assert into in response.content.decode()
    assert not Message.objects.exists()


def delivered_callback(message) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": message.line.number,
        "MessageSid": message.provider_message_id,
        "MessageStatus": "delivered",
        "SmsSid": message.provider_message_id,
        "SmsStatus": "delivered",
        "To": message.remote_number,
    }


@pytest.mark.parametrize(
    ("into", "absorbed"), [("SmsSid", "SmsStatus"), ("AccountSid", "ApiVersion")]
)
def test_no_resplit_of_a_status_callback_is_accepted(client, line, contact, into, absorbed):
    message = SentMessageFactory(contact=contact, line=line, body="See you tomorrow")
    signed = delivered_callback(message)
    sent = resplit(signed, into=into, absorbed=absorbed)
    assert signature_still_fits("twilio-status", signed, sent)

    response = post_status(client, signed, sent_params=sent)

    assert response.status_code == 400
    assert into in response.content.decode()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert post_status(client, signed).status_code == 204


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("MessageSid", "SM" + "0" * 31),
        ("MessageSid", "SM" + "0" * 33),
        ("MessageSid", "XX" + "0" * 32),
        ("MessageSid", "SM" + "g" * 32),
        ("AccountSid", "AC" + "0" * 31),
        ("AccountSid", "SM" + "0" * 32),
        ("SmsSid", "SM" + "f" * 32),
        ("SmsMessageSid", "MM" + "f" * 32),
    ],
)
def test_identifiers_that_are_not_twilios_shape_are_400(client, line, field, value):
    params = {**inbound_params(line), field: value}
    response = post_inbound(client, params)
    assert response.status_code == 400
    assert field in response.content.decode()
    assert not Message.objects.exists()


def test_mms_sids_are_accepted(client, line):
    sid = "MM" + "a1" * 16
    params = {**inbound_params(line), "MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid}
    assert post_inbound(client, params).status_code == 200
    assert Message.objects.get().provider_message_id == sid


def test_the_account_sid_must_be_the_accounts_own_when_it_has_one(client, line, signed_account):
    signed_account.twilio_account_sid = "AC" + "ab" * 16
    signed_account.save()
    foreign = post_inbound(client, inbound_params(line))
    assert foreign.status_code == 400
    assert "AccountSid" in foreign.content.decode()
    own = post_inbound(client, {**inbound_params(line), "AccountSid": "AC" + "ab" * 16})
    assert own.status_code == 200
    assert Message.objects.count() == 1


def test_a_message_sid_received_on_one_line_is_refused_on_another(
    client, line, second_line, deliver
):
    params = inbound_params(line, body="START")
    assert deliver(client, params).status_code == 200
    elsewhere = {**params, "To": second_line.number}
    response = deliver(client, elsewhere)
    assert response.status_code == 400
    assert "Already received on another line." in response.content.decode()
    assert Message.objects.get(direction=Direction.INBOUND).line == line
    assert not Consent.objects.filter(line=second_line).exists()
