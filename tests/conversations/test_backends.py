import json
import logging
from dataclasses import replace

import pytest
import requests
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from conversations.backends import ProviderRejected, ProviderUnavailable, get_backend
from conversations.backends import twilio as twilio_module
from conversations.backends.base import OutgoingSms, ProviderOutcomeUnknown
from conversations.backends.console import ConsoleBackend
from conversations.backends.twilio import TwilioBackend

SMS = OutgoingSms(from_number="+14155550100", to_number="+12025550143", body="Hi", reference="1")


class RecordingHttp(HttpClient):
    """Answers Twilio API calls from a script instead of the network, keeping the requests."""

    def __init__(self, status: int, payload: dict | None = None, error: Exception | None = None):
        super().__init__(logger=logging.getLogger("tests.twilio"), is_async=False)
        self.status, self.payload, self.error = status, payload or {}, error
        self.requests = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, **kwargs):
        self.requests.append({"method": method, "uri": uri, "data": data, "auth": auth})
        if self.error:
            raise self.error
        return Response(self.status, json.dumps(self.payload))


def twilio_backend(http: RecordingHttp) -> TwilioBackend:
    return TwilioBackend(client=Client("ACtest", "token", http_client=http))


def test_twilio_backend_posts_the_message_and_returns_the_sid():
    http = RecordingHttp(201, {"sid": "SM123", "status": "queued"})
    assert twilio_backend(http).send(SMS) == "SM123"
    [request] = http.requests
    assert request["method"] == "POST"
    assert request["uri"].endswith("/Accounts/ACtest/Messages.json")
    assert request["data"] == {"From": "+14155550100", "To": "+12025550143", "Body": "Hi"}


def test_twilio_backend_asks_for_status_callbacks_at_the_public_url(settings):
    settings.PUBLIC_BASE_URL = "https://sms.example.com"
    http = RecordingHttp(201, {"sid": "SM123"})
    twilio_backend(http).send(SMS)
    assert http.requests[0]["data"]["StatusCallback"] == (
        f"https://sms.example.com/webhooks/twilio/status?message={SMS.reference}"
    )


def test_twilio_unsubscribed_recipient_is_a_rejection_with_its_code():
    http = RecordingHttp(400, {"code": 21610, "message": "Attempt to send to unsubscribed"})
    with pytest.raises(ProviderRejected) as rejected:
        twilio_backend(http).send(SMS)
    assert rejected.value.code == "21610"


@pytest.mark.parametrize(
    "http",
    [
        RecordingHttp(503, {"code": 20503, "message": "Service unavailable"}),
        RecordingHttp(429, {"code": 20429, "message": "Too many requests"}),
        RecordingHttp(0, error=requests.ConnectionError("connection refused")),
    ],
)
def test_twilio_outages_are_temporary(http):
    with pytest.raises(ProviderUnavailable):
        twilio_backend(http).send(SMS)


def test_a_twilio_call_without_an_answer_is_of_unknown_outcome_not_an_outage():
    http = RecordingHttp(0, error=requests.ReadTimeout("read timed out"))
    with pytest.raises(ProviderOutcomeUnknown):
        twilio_backend(http).send(SMS)


def test_backend_is_chosen_by_setting(settings, caplog):
    settings.SMS_BACKEND = "conversations.backends.console.ConsoleBackend"
    backend = get_backend()
    assert isinstance(backend, ConsoleBackend)
    with caplog.at_level("INFO", logger="capacity_sms.sms"):
        provider_id = backend.send(SMS)
    assert provider_id.startswith("CONSOLE")
    assert "to +12025550143: Hi" in caplog.text


@pytest.fixture
def recorded_twilio(monkeypatch):
    """Clients that client_for builds send to a recorder; the timeouts they ask for are kept."""
    http = RecordingHttp(201, {"sid": "SM1"})
    http.timeouts = []

    def recording_client(timeout):
        http.timeouts.append(timeout)
        return http

    monkeypatch.setattr(twilio_module, "TwilioHttpClient", recording_client)
    twilio_module.client_for.cache_clear()
    yield http
    twilio_module.client_for.cache_clear()


def test_twilio_backend_sends_with_the_sending_accounts_own_credentials(settings, recorded_twilio):
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "ACplatform", "platform-token"
    subaccount = replace(SMS, account_sid="ACsub", auth_token="sub-token")
    TwilioBackend().send(subaccount)
    TwilioBackend().send(SMS)
    assert [request["auth"] for request in recorded_twilio.requests] == [
        ("ACsub", "sub-token"),
        ("ACplatform", "platform-token"),
    ]
    assert "/Accounts/ACsub/" in recorded_twilio.requests[0]["uri"]
    assert recorded_twilio.timeouts == [10, 10]
