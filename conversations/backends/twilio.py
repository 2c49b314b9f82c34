import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from conversations.backends.base import (
    OutgoingSms,
    ProviderRejected,
    ProviderUnavailable,
    SmsBackend,
)


class TwilioBackend(SmsBackend):
    """Sends through Twilio's Messages API with the account SID and token from settings."""

    def __init__(self, client: Client | None = None):
        self.client = client or Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)

    def send(self, sms: OutgoingSms) -> str:
        try:
            created = self.client.messages.create(
                from_=sms.from_number, to=sms.to_number, body=sms.body
            )
        except TwilioRestException as error:
            if error.status >= 500 or error.status == 429:
                raise ProviderUnavailable(str(error)) from error
            raise ProviderRejected(str(error.code or error.status), error.msg) from error
        except (TwilioException, requests.RequestException) as error:
            raise ProviderUnavailable(str(error)) from error
        return created.sid
