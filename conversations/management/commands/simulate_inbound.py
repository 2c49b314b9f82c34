import time
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.test import Client
from django.urls import reverse
from twilio.request_validator import RequestValidator

from conversations.models import Direction, Message, MessageStatus
from core.phones import format_phone, normalize_phone
from crm.models import Line
from crm.selectors import contact_consent_on_line


class Command(BaseCommand):
    help = (
        "Text a line as a contact would: a correctly signed Twilio request through the real "
        "webhook, then the resulting consent and reply."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, help="The line: its number or its name.")
        parser.add_argument("--from", dest="sender", required=True, help="The contact's number.")
        parser.add_argument("--body", required=True, help="The text.")
        parser.add_argument("--opt-out-type", choices=["STOP", "START", "HELP"], default="")
        parser.add_argument(
            "--wait", type=float, default=10.0, help="Seconds to wait for a worker."
        )

    def handle(self, *args, to: str, sender: str, body: str, opt_out_type: str, wait: float, **_):
        line = self._line(to)
        try:
            sender = normalize_phone(sender)
        except ValidationError as error:
            raise CommandError(f"--from: {error.messages[0]}") from error
        token = line.account.twilio_auth_token or settings.TWILIO_AUTH_TOKEN
        if not token:
            raise CommandError(
                "No Twilio auth token: set TWILIO_AUTH_TOKEN or the account's auth token."
            )
        sid = f"SM{uuid.uuid4().hex}"
        params = {
            "MessageSid": sid,
            "AccountSid": (
                line.account.twilio_account_sid or settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32
            ),
            "From": sender,
            "To": line.number,
            "Body": body,
            "NumMedia": "0",
        }
        if opt_out_type:
            params["OptOutType"] = opt_out_type
        response = self._post(params, token)
        self.stdout.write(f"Webhook answered {response.status_code}: {response.content.decode()}")
        if response.status_code != 200:
            raise CommandError("The webhook refused the message.")
        message = self._wait_for_processing(line, sid, wait)
        self._report(message, line)

    def _line(self, to: str) -> Line:
        try:
            number = normalize_phone(to)
        except ValidationError:
            number = None
        lines = Line.objects.select_related("account").filter(Q(number=number) | Q(name__iexact=to))
        if len(lines) != 1:
            known = ", ".join(f"{line.name} {line.number}" for line in Line.objects.all()[:20])
            raise CommandError(f"No single line matches {to!r}. Lines: {known or 'none'}.")
        return lines[0]

    def _post(self, params: dict[str, str], token: str):
        base = settings.PUBLIC_BASE_URL or "http://localhost"
        url = base + reverse("twilio-inbound-message")
        parts = urlsplit(url)
        signature = RequestValidator(token).compute_signature(url, params)
        client = Client(HTTP_HOST=parts.netloc)
        return client.post(
            parts.path, params, secure=parts.scheme == "https", HTTP_X_TWILIO_SIGNATURE=signature
        )

    def _wait_for_processing(self, line: Line, sid: str, wait: float) -> Message:
        deadline = time.monotonic() + wait
        while True:
            message = Message.objects.get(
                line=line, direction=Direction.INBOUND, provider_message_id=sid
            )
            if message.status == MessageStatus.PROCESSED or time.monotonic() > deadline:
                return message
            time.sleep(0.2)

    def _report(self, message: Message, line: Line) -> None:
        if message.status != MessageStatus.PROCESSED:
            self.stdout.write("Stored; not processed yet (is a Celery worker running?).")
            return
        self.stdout.write(f"Decision: {message.decision}")
        current = contact_consent_on_line(message.contact, line)
        self.stdout.write(
            f"Consent of {format_phone(message.contact.phone)} on {line.name}: {current.label}"
        )
        reply = message.replies.first()
        if reply is None:
            self.stdout.write("Reply: none")
        elif reply.status == MessageStatus.BLOCKED:
            self.stdout.write(f"Reply blocked: {reply.blocked_reason}")
        else:
            self.stdout.write(f"Reply ({reply.get_status_display().lower()}): {reply.body}")
