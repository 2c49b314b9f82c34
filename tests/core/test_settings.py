"""Settings come from the environment; checked in a fresh interpreter for each case."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'name': str(settings.DATABASES['default']['NAME']), "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL, "
    "'hosts': settings.ALLOWED_HOSTS, 'region': settings.DEFAULT_PHONE_REGION, "
    "'backend': settings.SMS_BACKEND, 'options': settings.DATABASES['default']['OPTIONS'], "
    "'https': [settings.SECURE_SSL_REDIRECT, "
    "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS]}))"
)


def load(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "capacity_sms.settings", **env}
    return subprocess.run(  # noqa: S603  (our own interpreter and code)
        [sys.executable, "-c", PRINT], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_defaults_need_nothing_but_debug():
    result = load({"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["name"] == str(ROOT / "db.sqlite3")
    assert loaded["eager"] is True
    assert loaded["region"] == "US"
    assert loaded["backend"] == "conversations.backends.console.ConsoleBackend"


def test_without_debug_a_secret_key_is_required():
    result = load({})
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


@pytest.mark.parametrize("debug", ["0", "false", ""])
def test_debug_off_values_still_require_a_key(debug):
    assert "Set SECRET_KEY" in load({"DEBUG": debug}).stderr


def test_production_style_environment():
    result = load(
        {
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://app@db.internal:5432/capacity",
            "REDIS_URL": "redis://cache.internal:6379/0",
            "ALLOWED_HOSTS": "sms.example.com, www.sms.example.com",
            "DEFAULT_PHONE_REGION": "GB",
            "SMS_BACKEND": "conversations.backends.twilio.TwilioBackend",
        }
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["name"] == "capacity"
    assert (loaded["eager"], loaded["broker"]) == (False, "redis://cache.internal:6379/0")
    assert loaded["hosts"] == ["sms.example.com", "www.sms.example.com"]
    assert loaded["region"] == "GB"
    assert loaded["backend"].endswith("TwilioBackend")


@pytest.mark.parametrize(
    ("env", "https"),
    [
        ({"SECRET_KEY": "k" * 60}, [True, True, True, 31_536_000]),
        ({"SECRET_KEY": "k" * 60, "HTTPS": "0"}, [False, False, False, 0]),
        ({"DEBUG": "1"}, [False, False, False, 0]),
        ({"DEBUG": "1", "HTTPS": "1", "HSTS_SECONDS": "60"}, [True, True, True, 60]),
    ],
)
def test_https_is_on_by_default_in_production(env, https):
    result = load(env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["https"] == https


def test_postgresql_binds_on_the_server_and_keeps_statements_prepared():
    url = "postgres://app@db.internal:5432/capacity"
    options = json.loads(load({"DEBUG": "1", "DATABASE_URL": url}).stdout)["options"]
    assert options == {"server_side_binding": True, "prepare_threshold": 5}


def test_prepared_statements_can_be_turned_off_for_a_pooler_and_url_options_are_kept():
    url = "postgres://app@db.internal:5432/capacity?sslmode=require"
    result = load({"DEBUG": "1", "DATABASE_URL": url, "DATABASE_PREPARE_THRESHOLD": "off"})
    options = json.loads(result.stdout)["options"]
    assert options == {"server_side_binding": True, "prepare_threshold": None, "sslmode": "require"}


def test_a_prepare_threshold_in_the_url_is_read_as_a_number():
    url = "postgres://app@db.internal:5432/capacity?prepare_threshold=0"
    options = json.loads(load({"DEBUG": "1", "DATABASE_URL": url}).stdout)["options"]
    assert options == {"server_side_binding": True, "prepare_threshold": 0}
