import functools
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from conversations.backends.base import (
    OutgoingSms,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
    SmsBackend,
)

REQUEST_TIMEOUT_SECONDS = 10


@functools.lru_cache(maxsize=256)
def client_for(account_sid: str, auth_token: str) -> Client:
    """A Twilio client with a request timeout: a hung call must not hold the contact's lock."""
    return Client(
        account_sid, auth_token, http_client=TwilioHttpClient(timeout=REQUEST_TIMEOUT_SECONDS)
    )


class TwilioBackend(SmsBackend):
    """Sends through Twilio's Messages API.

    With the account SID and token of the sending account when it has its own (a subaccount),
    else those from settings; Twilio then signs the status callbacks with the same token. With
    PUBLIC_BASE_URL set, Twilio reports delivery to our status callback webhook.
    """

    def __init__(self, client: Client | None = None):
        self.client = client

    def send(self, sms: OutgoingSms) -> str:
        if self.client is not None:
            client = self.client
        elif sms.account_sid and sms.auth_token:
            client = client_for(sms.account_sid, sms.auth_token)
        else:
            client = client_for(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        options = {}
        if settings.PUBLIC_BASE_URL:
            # Our id in the URL (which Twilio signs with the rest) finds the message even when
            # the report comes before its provider id is stored.
            options["status_callback"] = (
                f"{settings.PUBLIC_BASE_URL}{reverse('twilio-status')}?"
                f"{urlencode({'message': sms.reference})}"
            )
        try:
            created = client.messages.create(
                from_=sms.from_number, to=sms.to_number, body=sms.body, **options
            )
        except TwilioRestException as error:
            if error.status >= 500 or error.status == 429:
                raise ProviderUnavailable(str(error)) from error
            raise ProviderRejected(str(error.code or error.status), error.msg) from error
        except requests.ReadTimeout as error:
            raise ProviderOutcomeUnknown(str(error)) from error
        except (TwilioException, requests.RequestException) as error:
            raise ProviderUnavailable(str(error)) from error
        return created.sid
