"""Test settings: the real settings, with a key and an in-memory SMS outbox."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
# The test client and the live server speak plain HTTP.
os.environ.setdefault("HTTPS", "0")

from capacity_sms.settings import *  # noqa: F403

SMS_BACKEND = "conversations.backends.locmem.LocmemBackend"

# Tests find static files in the apps, with their plain names (no collectstatic before a run;
# tests/core/test_deploy.py runs it for the production server).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tasks run in-process unless a test starts a real worker (tests/test_celery_worker.py), which
# switches the app to the Redis broker for its duration.
CELERY_TASK_ALWAYS_EAGER = True

# Failure counters start empty in every test (tests/conftest.py clears the cache).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# One process, so its own cache tells it when configuration changed.
CONFIG_CACHE_IN_MEMORY = True

# Webhook receivers in tests listen on 127.0.0.1 over plain HTTP.
WEBHOOKS_ALLOW_HTTP = True
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
