"""Limits on failed attempts per client address: wrong passwords, bad webhook signatures,
API keys that are not valid.

Only failures are counted, and a limit only ever turns a failure into a 429: a correct
login before the limit, or a validly signed webhook at any time, always goes through, so a
flood of forgeries cannot lock the provider out. Counters live in the cache (Redis when
REDIS_URL is set, so every worker process shares them).
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FailureLimit:
    """At most `limit` failures per client in `window_seconds`.

    When the cache cannot count (Redis down or hanging), `fail_open` says what happens: a
    login limiter lets people in rather than lock everyone out; a limiter of forgeries refuses.
    """

    scope: str
    limit: int
    window_seconds: int
    fail_open: bool

    def take(self, client: str) -> bool:
        """Count an attempt before it is checked; False when the client has no attempts left.

        Counting first, in one atomic increment, is what holds the limit against a burst of
        parallel attempts: each one takes its own number, and only the first `limit` are
        checked. A successful attempt gives its number back (`give_back`).
        """
        return self._count(client) <= self.limit

    def give_back(self, client: str) -> None:
        """The attempt taken succeeded: it was not a failure."""
        try:
            cache.decr(self._key(client))
        except ValueError:  # the window ended meanwhile
            pass
        except (RedisError, OSError):
            logger.warning("Rate limit %s: cannot reach the cache to count", self.scope)

    def record(self, client: str) -> int:
        """Count one more failure; returns the count in the current window."""
        return self._count(client)

    def _count(self, client: str) -> int:
        key = self._key(client)
        try:
            cache.add(key, 0, self.window_seconds)
            try:
                return cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, self.window_seconds)
                return 1
        except (RedisError, OSError):
            logger.warning(
                "Rate limit %s: cannot reach the cache to count; %s",
                self.scope,
                "allowing the attempt" if self.fail_open else "refusing the request",
                exc_info=True,
            )
            return 0 if self.fail_open else self.limit + 1

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


LOGIN_FAILURES = FailureLimit("login", settings.LOGIN_FAILURE_LIMIT, 15 * 60, fail_open=True)
WEBHOOK_SIGNATURE_FAILURES = FailureLimit(
    "webhook-signature", settings.WEBHOOK_SIGNATURE_FAILURE_LIMIT, 10 * 60, fail_open=False
)
API_KEY_FAILURES = FailureLimit("api-key", settings.API_KEY_FAILURE_LIMIT, 10 * 60, fail_open=False)
