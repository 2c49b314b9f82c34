"""Signed Twilio-format requests for tests: signatures computed by the `twilio` package."""

import itertools

from django.urls import reverse
from twilio.request_validator import RequestValidator

TOKEN = "test-auth-token"
ACCOUNT_SID = "AC" + "1" * 32
_sids = itertools.count(1)


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


def inbound_params(line, sender="+12025550143", body="STOP", **extra) -> dict[str, str]:
    return {
        "MessageSid": new_sid(),
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": line.number,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


def status_params(line, message_sid: str, status: str, **extra) -> dict[str, str]:
    """A status callback as Twilio posts it for a message sent from `line`."""
    return {
        "MessageSid": message_sid,
        "AccountSid": ACCOUNT_SID,
        "From": line.number,
        "MessageStatus": status,
        **extra,
    }


def post_signed(
    client,
    route: str,
    params: dict[str, str],
    *,
    token: str = TOKEN,
    signed_url: str | None = None,
    sent_params: dict[str, str] | None = None,
    algorithm: str | None = None,
    query: str = "",
    **request_extra,
):
    """POST `sent_params` (default: `params`) signed over `params` and `signed_url`, to the
    route with `query` as its query string (signed with it, as Twilio signs the whole URL)."""
    path = f"{reverse(route)}?{query}" if query else reverse(route)
    url = signed_url or f"http://testserver{path}"
    signature = RequestValidator(token).compute_signature(url, params, algorithm=algorithm)
    return client.post(
        path,
        sent_params if sent_params is not None else params,
        HTTP_X_TWILIO_SIGNATURE=signature,
        **request_extra,
    )


def post_inbound(client, params, **kwargs):
    return post_signed(client, "twilio-inbound-message", params, **kwargs)


def post_status(client, params, **kwargs):
    return post_signed(client, "twilio-status", params, **kwargs)
