"""SMS provider backends, chosen by the SMS_BACKEND setting like Django's e-mail backends."""

from django.conf import settings
from django.utils.module_loading import import_string

from conversations.backends.base import (
    ProviderRejected,
    ProviderUnavailable,
    SmsBackend,
)

__all__ = ["ProviderRejected", "ProviderUnavailable", "SmsBackend", "get_backend"]


def get_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()
