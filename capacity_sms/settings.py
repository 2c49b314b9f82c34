"""Settings read from the environment; every variable is documented in the README.

With nothing set the app runs on a SQLite file with tasks executed in-process, so a fresh
machine needs only Python. DATABASE_URL and REDIS_URL switch to PostgreSQL and real workers.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (there is a default only with DEBUG=1).")
    SECRET_KEY = "insecure-development-key-only-used-while-debug-is-on"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
# The site's public address (https://sms.example.com): provider callbacks are addressed to it.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
# Behind a proxy that sets X-Forwarded-Proto, the public URL is https even though the proxy
# talks http to us; webhook signatures are computed over that public URL.
if env_bool("TRUST_X_FORWARDED_PROTO"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Served over HTTPS (the default outside development): plain HTTP is redirected, cookies are
# sent over HTTPS only, and browsers are told to use HTTPS for the site (HSTS). HTTPS=0 turns
# this off, e.g. behind a private load balancer in a test rig.
HTTPS = env_bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", 31_536_000)) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", default=True)

INSTALLED_APPS = [
    "crm.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_tables2",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "crm",
    "conversations",
    "keywords",
    "broadcasts",
    "reporting",
    "api",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "crm.scoping.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "capacity_sms.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "keywords.context_processors.responder_warning",
                "api.context_processors.webhook_warning",
            ],
        },
    },
]

# Widget templates come from the project's templates too (the reply box with its SMS counter).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

WSGI_APPLICATION = "capacity_sms.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        # A kept connection is checked before each request or task reuses it: one the
        # database dropped meanwhile (a restart, a failover) is replaced, not failed on.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server, and a statement run five times on a connection kept
    # prepared (parsed and planned once): the same few statements run for every text and
    # consent change, and parsing and planning them each time cost a fifth of the consent
    # engine's time (566 against 711 changes a second). Django turns both off by default for
    # PgBouncer in transaction mode before 1.21 (max_prepared_statements); set
    # DATABASE_PREPARE_THRESHOLD=off behind such a pooler. Options in DATABASE_URL win.
    options = {"server_side_binding": True, **DATABASES["default"].get("OPTIONS", {})}
    threshold = str(
        options.get("prepare_threshold", os.environ.get("DATABASE_PREPARE_THRESHOLD", "5"))
    )
    options["prepare_threshold"] = (
        None if threshold.lower() in ("off", "none", "") else int(threshold)
    )
    DATABASES["default"]["OPTIONS"] = options
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Consent changes lock rows; on SQLite the closest equivalent is taking the write lock at
    # the start of each transaction and waiting for it instead of failing. Write-ahead logging
    # lets pages read while a write commits, and commits without waiting for the disk each time
    # (the last commits, not the file, are what a power cut could cost a development database).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# WhiteNoise serves the static files from the web processes. In production (DEBUG off) run
# `collectstatic` when deploying: every file gets a content-hashed name, cached by browsers
# for a year, and gzip and Brotli copies WhiteNoise sends to browsers that accept them. With
# DEBUG on, files are found in the apps as they are edited.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

DJANGO_TABLES2_TEMPLATE = "shared/_table.html"

# Content-Security-Policy (django-csp, as Django 5.2 has none of its own): scripts, styles,
# images and requests from this site only, no inline script or style anywhere (htmx is told
# not to add its indicator style and not to evaluate code, see templates/base.html), no
# plugins, no framing, forms posting to this site only. A page that breaks this rule breaks
# visibly in the browser tests, which fail on any CSP violation the console reports.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Phone numbers without a country code are read in this region (ISO 3166 code).
DEFAULT_PHONE_REGION = os.environ.get("DEFAULT_PHONE_REGION", "US")

# Where outbound messages go: a dotted path to a class in conversations.backends.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "conversations.backends.console.ConsoleBackend")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")

# Celery: Redis when REDIS_URL is set; otherwise tasks run in-process, after the commit that
# queued them, so the app works with nothing else installed.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
# Task outcomes live in the database (message and import statuses); nothing reads Celery's
# results, so none are stored: a Redis write and a day-long key per task saved.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# In-process tasks behave as on a worker: an error is logged and the task's on_failure runs.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers keep their database connection between tasks (capacity_sms.celery closes it when
# CONN_MAX_AGE has passed or an error left it unusable); Celery renews it every so many tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A broker that is down or hangs must not hold a request up: each attempt to publish gives up
# within about 0.3 s (connect and reply timeouts, no retries; kombu copies the publish retry
# policy into the connection, so both are zero), and core.queueing stops trying for a while
# after a failure. What was stored waits for the sweep. The pool holds a producer for every
# thread of a web process, so threads never queue for one. The health check lets a worker drop
# a connection that stopped answering.
CELERY_BROKER_CONNECTION_TIMEOUT = 0.5
CELERY_BROKER_POOL_LIMIT = 64
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 0,
    "interval_start": 0,
    "interval_step": 0,
    "interval_max": 0,
}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 0.3,
    "socket_timeout": 0.3,
    "retry_on_timeout": False,
    "max_retries": 0,
    "interval_start": 0,
    "interval_step": 0,
    "interval_max": 0,
    "connect_retries_timeout": 0.5,
    "health_check_interval": 25,
}
CELERY_BEAT_SCHEDULE = {
    "sweep-pending-messages": {
        "task": "conversations.tasks.sweep_pending_messages",
        "schedule": 30.0,
    },
    "send-due-messages": {
        "task": "conversations.tasks.send_due_messages",
        "schedule": 30.0,
    },
    "start-due-broadcasts": {
        "task": "broadcasts.tasks.start_due_broadcasts",
        "schedule": 30.0,
    },
    "deliver-due-webhooks": {
        "task": "api.tasks.deliver_due_webhooks",
        "schedule": 15.0,
    },
    "prune-old-api-records": {
        "task": "api.tasks.prune_old_api_records",
        "schedule": 3600.0,
    },
    "sweep-stalled-imports": {
        "task": "crm.tasks.sweep_stalled_imports",
        "schedule": 60.0,
    },
    # The consent log's daily anchors (crm.ledger), and a nightly recomputation of it all.
    "anchor-consent-logs": {
        "task": "crm.tasks.anchor_consent_logs",
        "schedule": 3600.0,
    },
    "verify-consent-logs": {
        "task": "crm.tasks.verify_consent_logs",
        "schedule": 86400.0,
    },
    # The snapshot's daily rollups: the rows appended by each change, merged per day.
    "compact-consent-days": {
        "task": "crm.tasks.compact_consent_days",
        "schedule": 300.0,
    },
}

# Failed attempts allowed per client address before 429: wrong passwords in 15 minutes, and
# webhook requests with a bad signature in 10 minutes (validly signed ones are never limited).
# Two queues, so bulk work never delays a STOP. `celery` (the default) holds what a contact is
# waiting for: processing inbound texts and sending single messages (replies, confirmations,
# agents' texts), plus the sweep and the scheduled sends. `bulk` holds the long runs: imports,
# broadcasts and their batches of deliveries, outbound webhooks, the consent log's anchoring
# and verification. Run one worker per queue (`-Q celery` and `-Q bulk`), or one with
# `-Q celery,bulk` on a small server.
BULK_QUEUE = "bulk"
CELERY_TASK_ROUTES = {
    "crm.tasks.*": {"queue": BULK_QUEUE},
    "broadcasts.tasks.*": {"queue": BULK_QUEUE},
    "api.tasks.*": {"queue": BULK_QUEUE},
    "conversations.tasks.deliver_messages": {"queue": BULK_QUEUE},
}

LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", 10))
WEBHOOK_SIGNATURE_FAILURE_LIMIT = int(os.environ.get("WEBHOOK_SIGNATURE_FAILURE_LIMIT", 20))
API_KEY_FAILURE_LIMIT = int(os.environ.get("API_KEY_FAILURE_LIMIT", 20))
# How many proxies in front of the app append to X-Forwarded-For (see ratelimit.client_address).
TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", 0))


def redis_cache(url: str) -> dict:
    """The cache on Redis, with every call bounded in time: a Redis that hangs must cost a
    request a fraction of a second, not hold it until the connection dies."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }


CACHES = {
    "default": (
        redis_cache(REDIS_URL)
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Configuration read on every message is kept in each process's memory (core.config_cache)
# only where every process shares the cache that says when it changed: with Redis.
CONFIG_CACHE_IN_MEMORY = bool(REDIS_URL)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Largest contacts CSV an admin may upload (bytes); about 150,000 rows at 15 MB.
CONTACT_IMPORT_MAX_BYTES = int(os.environ.get("CONTACT_IMPORT_MAX_BYTES", 15 * 1024 * 1024))

# The JSON API: API keys only (no sessions, so no CSRF), JSON in and out, a rate per key
# counted in the cache (Redis when REDIS_URL is set), errors as JSON.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.authentication.KeyAccessPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["api.authentication.KeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": os.environ.get("API_RATE", "600/minute")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.UnicodeJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Capacity SMS API",
    "DESCRIPTION": (
        "One consent record for all of a business's tools: ask whether a number may be texted "
        "on a line, record opt-ins and opt-outs from other systems, follow every change, send "
        "texts through the same gate as the app. Send `Authorization: Bearer <key>` (Settings "
        "> API keys)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Outbound webhooks go to public HTTPS addresses only; development and tests open the rest.
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", default=DEBUG)
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=False)
