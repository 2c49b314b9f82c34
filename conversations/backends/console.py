import logging
import uuid

from conversations.backends.base import OutgoingSms, SmsBackend

logger = logging.getLogger("capacity_sms.sms")


class ConsoleBackend(SmsBackend):
    """Logs each message instead of sending it: for development and the demo."""

    def send(self, sms: OutgoingSms) -> str:
        provider_id = f"CONSOLE{uuid.uuid4().hex}"
        logger.info(
            "SMS %s from %s to %s: %s", provider_id, sms.from_number, sms.to_number, sms.body
        )
        return provider_id
