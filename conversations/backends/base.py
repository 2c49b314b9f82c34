from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingSms:
    from_number: str
    to_number: str
    body: str
    reference: str
    # The sending account's own provider credentials; empty: the backend's defaults.
    account_sid: str = field(default="", repr=False)
    auth_token: str = field(default="", repr=False)


class ProviderRejected(Exception):
    """The provider refused this message for good (e.g. Twilio 21610: recipient unsubscribed)."""

    def __init__(self, code: str, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class ProviderUnavailable(Exception):
    """The provider could not be reached or failed temporarily and took nothing; sending again
    may work."""


class ProviderOutcomeUnknown(Exception):
    """The request reached the provider but no answer came back: the message may have been
    taken, so it must not be sent again."""


class SmsBackend:
    def send(self, sms: OutgoingSms) -> str:
        """Hand the message to the provider and return its message id."""
        raise NotImplementedError
