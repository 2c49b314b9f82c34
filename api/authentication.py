"""How a request proves which account it acts for: `Authorization: Bearer <API key>`."""

import logging
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions, throttling

from api.keys import key_hash
from api.models import ApiKey
from core.ratelimit import API_KEY_FAILURES, client_address

logger = logging.getLogger(__name__)

# Last-used times are kept to the minute: a busy key writes once a minute, not per request.
LAST_USED_PRECISION = timedelta(minutes=1)


class KeyUser:
    """The request's user for an API key: authenticated, belonging to the key's account,
    holding no permissions of the pages."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, key: ApiKey):
        self.key = key
        self.pk = None

    def has_perm(self, perm: str, obj=None) -> bool:
        return False

    def get_username(self) -> str:
        return f"API key {self.key.name}"

    def __str__(self) -> str:
        return self.get_username()


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise _refusal(request, "Send the key as `Authorization: Bearer <key>`.")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise _refusal(request) from error
        api_key = (
            ApiKey.objects.select_related("account")
            .filter(key_hash=key_hash(key), revoked_at__isnull=True)
            .first()
        )
        if api_key is None:
            raise _refusal(request)
        _note_use(api_key)
        return KeyUser(api_key), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


def _refusal(request, detail: str = "This key is not valid or has been revoked."):
    """401 for a key that is not valid; 429 once the client has sent too many (a valid key
    always goes through: only failures are counted)."""
    if API_KEY_FAILURES.record(client_address(request)) > API_KEY_FAILURES.limit:
        return exceptions.Throttled(
            wait=API_KEY_FAILURES.window_seconds, detail="Too many requests with a bad key."
        )
    return exceptions.AuthenticationFailed(detail)


def _note_use(api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


class KeyAccessPermission(permissions.BasePermission):
    """Any key reads; only a read-write key changes anything."""

    message = "This key is read-only: create a read-write key to record or send."

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            return False
        return request.method in permissions.SAFE_METHODS or request.auth.can_write


class KeyRateThrottle(throttling.SimpleRateThrottle):
    """Requests per key, counted in the shared cache (Redis in production).

    A cache that is down lets requests through (logged) rather than failing them: the limit
    protects the service, it must not become the outage.
    """

    scope = "api_key"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.warning("Rate limit not checked: the cache is unavailable", exc_info=True)
            return True
