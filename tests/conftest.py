"""Shared fixtures: two accounts, lines, a user per role, and helpers for messages."""

import os
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from api.models import KeyAccess, WebhookEvent
from api.services import api_key_create, webhook_deliveries_record, webhook_endpoint_create
from broadcasts.services import broadcast_create
from conversations.backends import locmem
from core import queueing
from crm import consent
from crm.import_files import read_upload
from crm.imports import contact_import_create
from crm.models import Account, ConsentSource, Contact, Line
from crm.roles import Role
from crm.services import consent_anchors_record, consent_log_verify
from keywords.models import Action
from tests.support.celery_fixtures import redis_broker, worker  # noqa: F401 (fixtures)
from tests.support.factories import (
    ConversationFactory,
    ResponderFactory,
    inbound_message,
    make_user,
)
from tests.support.fault_worker import Workers
from tests.support.webhook_client import TOKEN, post_inbound


def pytest_addoption(parser):
    parser.addoption(
        "--no-skips",
        action="store_true",
        help="Fail the run when any test was skipped (CI: a skip hides a missing service).",
    )
    parser.addoption(
        "--screenshots",
        metavar="DIR",
        help="Save a full-page screenshot of every page the browser sweep visits into DIR.",
    )


def pytest_runtest_setup(item):
    engine = settings.DATABASES["default"]["ENGINE"]
    if item.get_closest_marker("postgres") and "postgresql" not in engine:
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")
    if item.get_closest_marker("redis") and not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: set REDIS_URL=redis://...")


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if session.config.getoption("--no-skips") and skipped and session.exitstatus == 0:
        reporter.write_line(f"--no-skips: {skipped} test(s) skipped; failing the run.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def empty_cache():
    """Failure counters (rate limits) never carry over from one test to the next."""
    cache.clear()


@pytest.fixture(autouse=True)
def broker_not_paused(monkeypatch):
    """A broker failure one test provoked does not pause publishing in the next."""
    monkeypatch.setattr(queueing, "_paused_until", 0.0)


@pytest.fixture
def account(db) -> Account:
    """The account under test. Its own quiet hours are off, so a test sending at 03:00 UTC
    is not deferred; quiet-hours tests turn them on and set the clock (`clock`)."""
    return Account.objects.create(
        name="Acme Plumbing", help_contact="help@acme.example", quiet_hours_enabled=False
    )


@pytest.fixture
def other_account(db) -> Account:
    return Account.objects.create(name="Globex", quiet_hours_enabled=False)


class Clock:
    """The time every `timezone.now()` reads, moved by the test."""

    def __init__(self, monkeypatch):
        self.now = None
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: self.now or real_now())

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment

    def advance(self, delta: timedelta) -> datetime:
        return self.set(self.now + delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def line(account) -> Line:
    return Line.objects.create(account=account, number="+14155550100", name="Sales")


@pytest.fixture
def second_line(account) -> Line:
    return Line.objects.create(account=account, number="+14155550101", name="Support")


@pytest.fixture
def other_line(other_account) -> Line:
    return Line.objects.create(account=other_account, number="+14155550199", name="Globex HQ")


@pytest.fixture
def contact(account) -> Contact:
    return Contact.objects.create(account=account, phone="+12025550143", name="Ada Lovelace")


@pytest.fixture
def other_contact(other_account) -> Contact:
    return Contact.objects.create(account=other_account, phone="+12025550143", name="Globex Ada")


@pytest.fixture
def agent(account):
    return make_user(account, Role.AGENT)


@pytest.fixture
def admin_user(account):
    return make_user(account, Role.ADMIN)


@pytest.fixture
def manager(account):
    return make_user(account, Role.MANAGER)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def workers(tmp_path):
    """Real Celery workers that can be stopped dead (tests/support/fault_worker.py)."""
    started = Workers(tmp_path)
    yield started
    started.stop_all()


@pytest.fixture
def outbox():
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


@pytest.fixture
def signed_account(account):
    """The account with its own Twilio auth token, so signed webhooks for its lines pass."""
    account.twilio_auth_token = TOKEN
    account.save()
    return account


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """POST a signed inbound message, then run what it queued as a worker would."""

    def post(client, params, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post_inbound(client, params, **kwargs)

    return post


def build_world(account: Account, tag: str, number: str) -> dict:
    """One of every object a page can be about, in `account`, named with `tag`."""
    line = Line.objects.create(account=account, number=number, name=f"{tag} line")
    contact = Contact.objects.create(account=account, phone="+12025550143", name=f"{tag} Ada")
    message = inbound_message(contact, line, f"{tag} hello")
    conversation = ConversationFactory(
        account=account, contact=contact, line=line, last_message_at=message.occurred_at
    )
    admin = make_user(account, Role.ADMIN, username=f"{tag.lower()}-admin")
    consent.opt_out(
        contact=contact,
        line=line,
        source=ConsentSource.AGENT,
        user=admin,
        occurred_at=timezone.now() - timedelta(minutes=1),
    )
    upload = read_upload(f"{tag}.csv", b"name,phone\nBo,+12025550111\n")
    responder = ResponderFactory(
        account=account,
        name=f"{tag} responder",
        keywords=[f"{tag.upper()}JOIN"],
        action=Action.OPT_IN,
        reply="Welcome",
    )
    api_key, _ = api_key_create(account=account, name=f"{tag} booking site", access=KeyAccess.READ)
    webhook = webhook_endpoint_create(
        account=account,
        url=f"https://hooks.{tag.lower()}.example/capacity",
        events=[WebhookEvent.CONSENT_CHANGED],
    )
    webhook_deliveries_record(
        endpoints=[webhook],
        account_id=account.pk,
        event_type=WebhookEvent.CONSENT_CHANGED,
        items=[(contact.pk, {"phone": contact.phone})],
    )
    anchors = consent_anchors_record(account=account, now=timezone.now() + timedelta(days=2))
    return {
        "line": line,
        "contact": contact,
        "message": message,
        "anchor": anchors[0],
        "verification": consent_log_verify(account=account),
        "api_key": api_key,
        "webhook": webhook,
        "delivery": webhook.deliveries.get(),
        "conversation": conversation,
        "import": contact_import_create(account=account, user=admin, uploaded=upload),
        "responder": responder,
        "broadcast": broadcast_create(
            account=account, user=admin, name=f"{tag} broadcast", line=line, body="Hi {name}"
        ),
        "admin": admin,
    }


@pytest.fixture
def own(account) -> dict:
    """One of everything in the account, for walks over every page."""
    return build_world(account, "Acme", "+14155550100")


@pytest.fixture
def foreign(other_account) -> dict:
    """One of everything in another account, every name containing "Globex"."""
    return {**build_world(other_account, "Globex", "+14155550199"), "account": other_account}
