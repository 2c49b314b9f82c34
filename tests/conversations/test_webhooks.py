"""The Twilio webhooks through the Django test client, with signatures from the twilio package."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conversations.models import Direction, Message, MessageStatus, Purpose
from crm.models import Consent, ConsentEvent, ConsentSource, ConsentStatus, Contact
from tests.support.factories import SentMessageFactory
from tests.support.webhook_client import (
    inbound_params,
    new_sid,
    post_inbound,
    post_signed,
    post_status,
    status_params,
)

SENDER = "+12025550143"


pytestmark = pytest.mark.usefixtures("signed_account")


def test_signed_stop_is_stored_processed_and_confirmed(client, line, second_line, outbox, deliver):
    response = deliver(client, inbound_params(line, body="STOP"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert response.content == b'<?xml version="1.0" encoding="UTF-8"?><Response />'

    inbound = Message.objects.get(direction=Direction.INBOUND)
    assert inbound.status == MessageStatus.PROCESSED
    contact = Contact.objects.get(phone=SENDER)
    assert inbound.contact == contact
    assert Consent.objects.get(contact=contact, line=line).status == ConsentStatus.OPTED_OUT
    assert not Consent.objects.filter(contact=contact, line=second_line).exists()
    event = ConsentEvent.objects.get()
    assert (event.source, event.keyword, event.message) == (ConsentSource.KEYWORD, "STOP", inbound)

    reply = Message.objects.get(direction=Direction.OUTBOUND)
    assert reply.in_reply_to == inbound
    assert reply.purpose == Purpose.OPT_OUT_CONFIRMATION
    assert reply.status == MessageStatus.SENT
    assert [sms.body for sms in outbox] == [
        "You have been unsubscribed from Acme Plumbing on this number and will receive no more "
        "messages. Reply START to resubscribe."
    ]


@pytest.mark.parametrize(
    "tamper",
    ["changed body", "extra field", "wrong token", "missing header", "https url"],
)
def test_bad_signatures_are_refused_and_nothing_is_stored(client, line, tamper):
    params = inbound_params(line)
    kwargs = {}
    if tamper == "changed body":
        kwargs["sent_params"] = {**params, "Body": "START"}
    elif tamper == "extra field":
        kwargs["sent_params"] = {**params, "Extra": "1"}
    elif tamper == "wrong token":
        kwargs["token"] = "not-the-token"
    elif tamper == "https url":
        kwargs["signed_url"] = "https://testserver" + reverse("twilio-inbound-message")
    if tamper == "missing header":
        response = client.post(reverse("twilio-inbound-message"), params)
    else:
        response = post_inbound(client, params, **kwargs)
    assert response.status_code == 403
    assert not Message.objects.exists()
    assert not Contact.objects.exists()


def test_behind_a_proxy_the_https_url_is_what_is_signed(client, line, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    params = inbound_params(line)
    https_url = "https://testserver" + reverse("twilio-inbound-message")
    response = post_inbound(client, params, signed_url=https_url, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert Message.objects.count() == 1


def test_with_a_public_base_url_that_is_the_url_checked(client, line, settings):
    settings.PUBLIC_BASE_URL = "https://sms.example.com"
    public = "https://sms.example.com" + reverse("twilio-inbound-message")
    assert post_inbound(client, inbound_params(line), signed_url=public).status_code == 200
    assert post_inbound(client, inbound_params(line)).status_code == 403


def test_hmac_sha256_signatures_named_in_the_settings_header(client, line):
    response = post_inbound(
        client,
        inbound_params(line),
        algorithm="HMAC_SHA256",
        HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS="algorithm=HMAC_SHA256",
    )
    assert response.status_code == 200
    assert post_inbound(client, inbound_params(line), algorithm="HMAC_SHA256").status_code == 403


def test_platform_token_is_accepted_for_an_account_with_its_own(client, line, contact, settings):
    settings.TWILIO_AUTH_TOKEN = "platform-token"
    sent = SentMessageFactory(contact=contact, line=line)
    params = status_params(line, sent.provider_message_id, "sent")
    assert post_status(client, params, token="platform-token").status_code == 204
    assert post_status(client, params, token="some-other-token").status_code == 403


def test_without_any_auth_token_everything_is_refused_even_in_debug(
    client, line, signed_account, settings
):
    settings.DEBUG = True
    settings.TWILIO_AUTH_TOKEN = ""
    signed_account.twilio_auth_token = ""
    signed_account.save()
    response = post_inbound(client, inbound_params(line), token="")
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_settings_token_serves_accounts_without_their_own(client, line, signed_account, settings):
    settings.TWILIO_AUTH_TOKEN = "platform-token"
    signed_account.twilio_auth_token = ""
    signed_account.save()
    assert post_inbound(client, inbound_params(line), token="platform-token").status_code == 200


def test_unknown_line_is_404_logged_and_stores_nothing(client, line, settings, caplog):
    settings.TWILIO_AUTH_TOKEN = "platform-token"
    params = inbound_params(line)
    params["To"] = "+14155550177"
    response = post_inbound(client, params, token="platform-token")
    assert response.status_code == 404
    assert "unknown line" in caplog.text
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"MessageSid": ""}, "MessageSid"),
        ({"From": "not a number"}, "From"),
        ({"From": "+1 555"}, "From"),
        ({"AccountSid": ""}, "AccountSid"),
        ({"NumMedia": "lots"}, "NumMedia"),
        ({"Body": "x" * 10_001}, "Body"),
    ],
)
def test_malformed_requests_are_400_and_store_nothing(client, line, change, error):
    params = {**inbound_params(line), **change}
    response = post_inbound(client, params)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Message.objects.exists()


def test_oversized_requests_are_400(client, line):
    params = inbound_params(line, body="x" * 70_000)
    assert post_inbound(client, params).status_code == 400
    assert not Message.objects.exists()


def test_get_is_not_allowed(client):
    assert client.get(reverse("twilio-inbound-message")).status_code == 405


def test_duplicate_delivery_stores_and_replies_once(client, line, outbox, deliver):
    params = inbound_params(line, body="STOP")
    assert deliver(client, params).status_code == 200
    assert deliver(client, params).status_code == 200
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 1
    assert ConsentEvent.objects.count() == 1
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1
    assert len(outbox) == 1


def test_nul_bytes_and_any_unicode_are_stored_safely(client, line, deliver):
    body = "Hi\x00 there ☃ 😀 <script>alert(1)</script> مرحبا"
    assert deliver(client, inbound_params(line, body=body)).status_code == 200
    stored = Message.objects.get(direction=Direction.INBOUND)
    assert stored.body == "Hi\ufffd there ☃ 😀 <script>alert(1)</script> مرحبا"
    assert stored.status == MessageStatus.PROCESSED


def test_stop_and_start_processed_in_reverse_order_end_with_the_later(
    client, line, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as stop_tasks:
        post_inbound(client, inbound_params(line, body="STOP"))
    with django_capture_on_commit_callbacks() as start_tasks:
        post_inbound(client, inbound_params(line, body="START"))
    for task in [*start_tasks, *stop_tasks]:
        task()
    contact = Contact.objects.get(phone=SENDER)
    assert Consent.objects.get(contact=contact, line=line).status == ConsentStatus.OPTED_IN
    history = list(ConsentEvent.objects.order_by("occurred_at").values_list("keyword", "outcome"))
    assert history == [("STOP", "superseded"), ("START", "changed")]


def test_status_callbacks_move_forward_only(client, line, contact):
    sent = SentMessageFactory(contact=contact, line=line)
    delivered = status_params(line, sent.provider_message_id, "delivered", To=contact.phone)
    assert post_status(client, delivered).status_code == 204
    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED
    late_sent = status_params(line, sent.provider_message_id, "sent", To=contact.phone)
    assert post_status(client, late_sent).status_code == 204
    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED


def test_a_status_report_that_moves_a_message_is_one_statement_on_the_messages(
    client, line, contact
):
    """Two reports per text sent are most of the webhook traffic: moving a message forward is
    one UPDATE, the forward-only rule in SQL. A repeat's UPDATE matches nothing, and one read
    tells it from a report about an unknown message."""
    sent = SentMessageFactory(contact=contact, line=line, sent_at=None)
    delivered = status_params(line, sent.provider_message_id, "delivered", To=contact.phone)
    with CaptureQueriesContext(connection) as moved:
        assert post_status(client, delivered).status_code == 204
    with CaptureQueriesContext(connection) as repeated:
        assert post_status(client, delivered).status_code == 204

    def on_messages(queries):
        return [q["sql"].split()[0] for q in queries if "conversations_message" in q["sql"]]

    assert on_messages(moved.captured_queries) == ["UPDATE"]
    assert on_messages(repeated.captured_queries) == ["UPDATE", "SELECT"]
    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED
    assert sent.sent_at is not None


def test_failed_status_with_21610_records_an_opt_out_once(client, line, contact):
    queued = SentMessageFactory(contact=contact, line=line)
    params = status_params(line, queued.provider_message_id, "undelivered", ErrorCode="21610")
    assert post_status(client, params).status_code == 204
    assert post_status(client, params).status_code == 204
    queued.refresh_from_db()
    assert (queued.status, queued.error_code) == (MessageStatus.FAILED, "21610")
    event = ConsentEvent.objects.get()
    assert (event.source, event.status, event.message) == (
        ConsentSource.PROVIDER_ERROR,
        ConsentStatus.OPTED_OUT,
        queued,
    )


def test_status_callback_for_unknown_message_is_404(client, line):
    params = status_params(line, new_sid(), "delivered")
    assert post_status(client, params).status_code == 404


def test_status_callback_signature_is_checked(client, line):
    params = status_params(line, new_sid(), "delivered")
    assert post_signed(client, "twilio-status", params, token="wrong").status_code == 403


def test_unknown_line_is_404_even_with_no_platform_token(client, line, settings, caplog):
    settings.TWILIO_AUTH_TOKEN = ""
    params = {**inbound_params(line), "To": "+14155550177"}
    response = post_inbound(client, params)
    assert response.status_code == 404
    assert response.content == b"Unknown line."
    assert "unknown line" in caplog.text
    assert not Message.objects.exists()


def test_a_status_report_finds_its_message_by_our_id_before_the_provider_id_is_stored(
    client, line, contact
):
    """A worker died after the provider took the text (or has not committed yet): the report,
    carrying our id in its signed URL, settles the message and stores the provider's id."""
    taken = SentMessageFactory(
        contact=contact, line=line, status=MessageStatus.SENDING, provider_message_id=""
    )
    sid = new_sid()
    params = status_params(line, sid, "delivered", To=contact.phone)
    response = post_status(client, params, query=f"message={taken.pk}")
    assert response.status_code == 204
    taken.refresh_from_db()
    assert (taken.status, taken.provider_message_id) == (MessageStatus.DELIVERED, sid)


def test_our_id_in_the_url_never_reaches_another_lines_or_another_texts_message(
    client, line, second_line, contact
):
    elsewhere = SentMessageFactory(
        contact=contact, line=second_line, status=MessageStatus.SENDING, provider_message_id=""
    )
    handed = SentMessageFactory(contact=contact, line=line)
    params = status_params(line, new_sid(), "delivered", To=contact.phone)
    assert post_status(client, params, query=f"message={elsewhere.pk}").status_code == 404
    assert post_status(client, params, query=f"message={handed.pk}").status_code == 404
    assert post_status(client, params, query="message=99999999999999999999").status_code == 404
    elsewhere.refresh_from_db()
    handed.refresh_from_db()
    assert elsewhere.status == MessageStatus.SENDING
    assert handed.status == MessageStatus.SENT
