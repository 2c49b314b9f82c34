"""Webhook signatures, in Stripe's scheme: HMAC-SHA256 over `<timestamp>.<body>`.

The header `Capacity-Signature: t=<unix seconds>,v1=<hex digest>` carries both, so a receiver
can refuse a request whose timestamp is old (a replay) before trusting the body. `verify` is
what a receiver runs; the README shows it.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Capacity-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    pass


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless `header` signs `body` with `secret` within `tolerance`."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError) as error:
        raise SignatureError("No timestamp in the signature header.") from error
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        raise SignatureError("The timestamp is outside the tolerance: a replay, or a clock off.")
    expected = sign(secret, body, timestamp).partition(",v1=")[2]
    if not any(hmac.compare_digest(expected, given) for given in fields.get("v1", [])):
        raise SignatureError("The signature does not match the body.")
