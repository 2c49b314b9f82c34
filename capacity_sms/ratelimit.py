"""Limits on failed attempts per client address: wrong passwords, bad webhook signatures.

Only failures are counted, and a limit only ever turns a failure into a 429: a correct
login before the limit, or a validly signed webhook at any time, always goes through, so a
flood of forgeries cannot lock the provider out. Counters live in the cache (Redis when
REDIS_URL is set, so every worker process shares them).
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class FailureLimit:
    scope: str
    limit: int
    window_seconds: int

    def exceeded(self, client: str) -> bool:
        return (cache.get(self._key(client)) or 0) >= self.limit

    def record(self, client: str) -> int:
        """Count one more failure; returns the count in the current window."""
        key = self._key(client)
        cache.add(key, 0, self.window_seconds)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, self.window_seconds)
            return 1

    def _key(self, client: str) -> str:
        return f"failures:{self.scope}:{client}"


def client_address(request: HttpRequest) -> str:
    """The address the request came from.

    Behind `TRUSTED_PROXIES` proxies, REMOTE_ADDR is the nearest proxy's, which every client
    shares; the client's is then the one the outermost trusted proxy appended to
    X-Forwarded-For, counted from the right. Entries further left come from the client and
    could be forged, so they are never used.
    """
    forwarded = [
        address.strip()
        for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if address.strip()
    ]
    if settings.TRUSTED_PROXIES and len(forwarded) >= settings.TRUSTED_PROXIES:
        return forwarded[-settings.TRUSTED_PROXIES]
    return request.META.get("REMOTE_ADDR") or "unknown"


LOGIN_FAILURES = FailureLimit("login", settings.LOGIN_FAILURE_LIMIT, 15 * 60)
WEBHOOK_SIGNATURE_FAILURES = FailureLimit(
    "webhook-signature", settings.WEBHOOK_SIGNATURE_FAILURE_LIMIT, 10 * 60
)
