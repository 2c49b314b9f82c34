import uuid

from conversations.backends.base import OutgoingSms, SmsBackend

outbox: list[OutgoingSms] = []


class LocmemBackend(SmsBackend):
    """Keeps sent messages in `outbox`, for tests (like Django's locmem e-mail backend)."""

    def send(self, sms: OutgoingSms) -> str:
        outbox.append(sms)
        return f"SM{uuid.uuid4().hex}"  # the shape of a Twilio message SID
