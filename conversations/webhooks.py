"""Twilio webhooks: inbound messages and delivery status callbacks.

Every request is authenticated with `X-Twilio-Signature` (the `twilio` package's validator,
over the public URL, with the auth token of the line's account or the TWILIO_AUTH_TOKEN
setting) before anything is read into the database; with no token configured nothing is
accepted, DEBUG or not. Answers: 403 bad or missing signature, 404 unknown line, 400 malformed
or oversized, 200 (with empty TwiML for messages) otherwise, duplicates included.
"""

import logging
import re

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
    QueryDict,
)
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from twilio.request_validator import (
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.messaging_response import MessagingResponse

from conversations.inbound import receive_inbound, record_delivery_status
from core.config_cache import cached
from core.phones import normalize_phone
from core.ratelimit import WEBHOOK_SIGNATURE_FAILURES, client_address
from core.responses import HttpResponseTooManyRequests, invalid_input, plain_response
from crm.models import Line

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024
MAX_BODY_CHARACTERS = 10_000


class PhoneField(forms.CharField):
    def to_python(self, value):
        return normalize_phone(super().to_python(value))


class MessageBodyField(forms.CharField):
    """Text as the contact typed it: NUL characters included (receive_inbound makes them safe)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [
            validator
            for validator in self.validators
            if not isinstance(validator, ProhibitNullCharactersValidator)
        ]


# Twilio's identifiers, in the shapes its API definition gives (twilio-oai). Checking them is
# what keeps a captured signature from fitting another request: Twilio signs the sorted names
# and values joined with nothing between them, so "MessageSid=SM…&NumMedia=0" and
# "MessageSid=SM…NumMedia0" carry the same signature, but only the first SID has this shape.
MESSAGE_SID = RegexValidator(
    r"\A(SM|MM)[0-9a-fA-F]{32}\Z", "Not a Twilio message SID (SM or MM and 32 hex digits)."
)
ACCOUNT_SID = RegexValidator(
    r"\AAC[0-9a-fA-F]{32}\Z", "Not a Twilio account SID (AC and 32 hex digits)."
)


# A SID in the string Twilio signs: after a parameter name, MessageSid, SmsSid or SmsMessageSid.
SIGNED_SID = re.compile(r"(?:Message|Sms)Sid((?:SM|MM)[0-9a-fA-F]{32})")


def resplit_problems(params: QueryDict) -> dict[str, list[str]]:
    """Why these parameters cannot be a request Twilio sent (empty: they can be).

    Twilio signs the sorted names and values joined with nothing between them, and one such
    string splits into many requests. To give a captured one a new MessageSid, the original
    SID must stay in the string, after its parameter name, wherever the split puts it: in a
    parameter nobody reads, or across a name and a value. So every SID the signed string holds
    after such a name must be the request's own. Twilio never sends a parameter twice either.
    """
    problems: dict[str, list[str]] = {}
    for name, values in params.lists():
        if len(values) > 1:
            problems[name] = ["Sent more than once."]
    signed = "".join(
        name + value for name in sorted(set(params)) for value in sorted(set(params.getlist(name)))
    )
    own = params.get("MessageSid", "")
    if any(sid != own for sid in SIGNED_SID.findall(signed)):
        problems["MessageSid"] = ["The request holds another message SID than its own."]
    return problems


class TwilioRequestForm(forms.Form):
    """What every Twilio webhook request carries about itself: the message and the account.

    `SmsSid` and `SmsMessageSid` are Twilio's older names for `MessageSid`: when sent, they
    must be the same. `AccountSid` must be the account's own (or the platform's) where one is
    configured.
    """

    MessageSid = forms.CharField(max_length=34, validators=[MESSAGE_SID])
    SmsSid = forms.CharField(required=False, max_length=34, validators=[MESSAGE_SID])
    SmsMessageSid = forms.CharField(required=False, max_length=34, validators=[MESSAGE_SID])
    AccountSid = forms.CharField(max_length=34, validators=[ACCOUNT_SID])

    def __init__(self, *args, account_sids: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.account_sids = account_sids

    def clean_AccountSid(self) -> str:
        sid = self.cleaned_data["AccountSid"]
        if self.account_sids and sid not in self.account_sids:
            raise ValidationError("Not the account SID of this line's Twilio account.")
        return sid

    def clean(self):
        data = super().clean()
        for alias in ("SmsSid", "SmsMessageSid"):
            if data.get(alias) and data.get("MessageSid") and data[alias] != data["MessageSid"]:
                self.add_error(alias, "Must be the same as MessageSid.")
        return data


class InboundMessageForm(TwilioRequestForm):
    From = PhoneField(max_length=64)
    Body = MessageBodyField(required=False, strip=False, max_length=MAX_BODY_CHARACTERS)
    NumMedia = forms.IntegerField(required=False, min_value=0, max_value=100)
    OptOutType = forms.CharField(required=False, max_length=10)

    def clean_OptOutType(self) -> str:
        return self.cleaned_data["OptOutType"].strip().upper()


class StatusCallbackForm(TwilioRequestForm):
    MessageStatus = forms.CharField(
        max_length=20, validators=[RegexValidator(r"\A[a-z_]+\Z", "Not a Twilio message status.")]
    )
    ErrorCode = forms.CharField(
        required=False,
        max_length=10,
        validators=[RegexValidator(r"\A[0-9]+\Z", "Not a Twilio error code.")],
    )


@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class TwilioWebhook(View):
    """A signed POST about one of our lines: authenticate, validate with `form_class`, handle."""

    http_method_names = ["post"]
    number_field = ""
    form_class: type[forms.Form]

    def post(self, request: HttpRequest) -> HttpResponse:
        line, refusal = _authenticated_line(request, number_field=self.number_field)
        if refusal:
            return refusal
        form = self.form_class(request.POST, account_sids=_account_sids(line))
        if not form.is_valid():
            return invalid_input("Malformed request", form.errors)
        if problems := resplit_problems(request.POST):
            logger.warning("Webhook refused: not a request Twilio sent: %s", problems)
            return invalid_input("Malformed request", problems)
        return self.handle(line, form.cleaned_data)

    def handle(self, line: Line, data: dict) -> HttpResponse:
        raise NotImplementedError


class InboundMessageWebhook(TwilioWebhook):
    number_field = "To"
    form_class = InboundMessageForm

    def handle(self, line: Line, data: dict) -> HttpResponse:
        try:
            receive_inbound(
                line=line,
                provider_message_id=data["MessageSid"],
                from_number=data["From"],
                body=data["Body"],
                media_count=data["NumMedia"] or 0,
                opt_out_type=data["OptOutType"],
            )
        except ValidationError as error:
            logger.warning("Webhook refused for %s: %s", line, error.message_dict)
            return invalid_input("Malformed request", error.message_dict)
        return HttpResponse(str(MessagingResponse()), content_type="text/xml")


class StatusCallbackWebhook(TwilioWebhook):
    number_field = "From"
    form_class = StatusCallbackForm

    def handle(self, line: Line, data: dict) -> HttpResponse:
        reference = self.request.GET.get("message", "")
        message = record_delivery_status(
            line=line,
            provider_message_id=data["MessageSid"],
            provider_status=data["MessageStatus"],
            error_code=data["ErrorCode"],
            message_id=int(reference) if reference.isdigit() and len(reference) < 19 else None,
        )
        if message is None:
            logger.warning("Status callback for unknown message %s on %s", data["MessageSid"], line)
            return plain_response(HttpResponseNotFound, "Unknown message.")
        return HttpResponse(status=204)


def _authenticated_line(
    request: HttpRequest, *, number_field: str
) -> tuple[Line | None, HttpResponse | None]:
    """The line the request is about, once its signature is proven; or the refusal to send.

    A signature is accepted under the auth token of the line's account or the platform's
    TWILIO_AUTH_TOKEN: messages sent with the platform's credentials are reported under its
    token even for an account that has its own.
    """
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > MAX_REQUEST_BYTES:
        return None, plain_response(HttpResponseBadRequest, "Request too large.")
    number = request.POST.get(number_field, "")
    line = _line_for(number)
    tokens = {
        token
        for token in (line.account.twilio_auth_token if line else "", settings.TWILIO_AUTH_TOKEN)
        if token
    }
    if line is None and not tokens:
        # No token could have signed for a number that is none of ours: nothing to check.
        logger.warning("Webhook for unknown line %r", number)
        return None, plain_response(HttpResponseNotFound, "Unknown line.")
    if not tokens:
        logger.error("Webhook refused: no Twilio auth token for %r", number)
        return None, plain_response(
            HttpResponseForbidden, "No auth token is configured for this line."
        )
    if not any(_signed_with(request, token) for token in tokens):
        client = client_address(request)
        logger.warning("Webhook refused: bad signature from %s", client)
        if WEBHOOK_SIGNATURE_FAILURES.record(client) > WEBHOOK_SIGNATURE_FAILURES.limit:
            refusal = plain_response(
                HttpResponseTooManyRequests, "Too many requests with a bad signature."
            )
            refusal["Retry-After"] = str(WEBHOOK_SIGNATURE_FAILURES.window_seconds)
            return None, refusal
        return None, plain_response(HttpResponseForbidden, "Invalid signature.")
    if line is None:
        logger.warning("Webhook for unknown line %r", number)
        return None, plain_response(HttpResponseNotFound, "Unknown line.")
    return line, None


def _account_sids(line: Line) -> set[str]:
    """The Twilio account SIDs a request about this line may carry; empty: any."""
    return {sid for sid in (line.account.twilio_account_sid, settings.TWILIO_ACCOUNT_SID) if sid}


def _signed_with(request: HttpRequest, token: str) -> bool:
    """Whether Twilio signed this request with `token`, over the public URL it posted to."""
    if settings.PUBLIC_BASE_URL:
        url = settings.PUBLIC_BASE_URL + request.get_full_path()
    else:
        url = request.build_absolute_uri()
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    signature = request.headers.get("X-Twilio-Signature", "")
    return RequestValidator(token).validate(url, request.POST, signature, algorithm=algorithm)


def _line_for(number: str) -> Line | None:
    try:
        e164 = normalize_phone(number)
    except ValidationError:
        return None
    return cached(
        f"line:{e164}", lambda: Line.objects.select_related("account").filter(number=e164).first()
    )
