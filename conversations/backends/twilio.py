import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from conversations.backends.base import (
    OutgoingSms,
    ProviderRejected,
    ProviderUnavailable,
    SmsBackend,
)


class TwilioBackend(SmsBackend):
    """Sends through Twilio's Messages API with the account SID and token from settings.

    With PUBLIC_BASE_URL set, Twilio reports delivery to our status callback webhook.
    """

    def __init__(self, client: Client | None = None):
        self.client = client or Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)

    def send(self, sms: OutgoingSms) -> str:
        options = {}
        if settings.PUBLIC_BASE_URL:
            options["status_callback"] = settings.PUBLIC_BASE_URL + reverse("twilio-status")
        try:
            created = self.client.messages.create(
                from_=sms.from_number, to=sms.to_number, body=sms.body, **options
            )
        except TwilioRestException as error:
            if error.status >= 500 or error.status == 429:
                raise ProviderUnavailable(str(error)) from error
            raise ProviderRejected(str(error.code or error.status), error.msg) from error
        except (TwilioException, requests.RequestException) as error:
            raise ProviderUnavailable(str(error)) from error
        return created.sid
