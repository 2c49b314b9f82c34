"""Test settings: the real settings, with a key and an in-memory SMS outbox."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")

from capacity_sms.settings import *  # noqa: F403

SMS_BACKEND = "conversations.backends.locmem.LocmemBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
