"""Failed logins and bad webhook signatures are limited per client address; nothing else."""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import pytest
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import Client
from django.urls import reverse

from core.ratelimit import LOGIN_FAILURES, WEBHOOK_SIGNATURE_FAILURES
from crm.models import Account
from crm.roles import Role
from tests.support.factories import make_user
from tests.support.webhook_client import inbound_params, post_inbound


def log_in(client, username, password, address="203.0.113.7", **headers):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def test_failed_logins_from_one_address_are_limited_with_429(client, agent):
    for _ in range(LOGIN_FAILURES.limit):
        assert log_in(client, agent.username, "wrong").status_code == 200
    refused = log_in(client, agent.username, "pw")
    assert refused.status_code == 429
    assert "Too many failed logins from your address." in refused.content.decode()
    assert "_auth_user_id" not in client.session
    other_address = log_in(Client(), agent.username, "pw", address="198.51.100.9")
    assert other_address.status_code == 302


def test_a_correct_login_under_the_limit_is_not_limited(client, agent):
    for _ in range(LOGIN_FAILURES.limit - 1):
        log_in(client, agent.username, "wrong")
    assert log_in(client, agent.username, "pw").status_code == 302


def test_bad_signatures_are_limited_but_signed_webhooks_never(client, signed_account, line):
    address = {"REMOTE_ADDR": "192.0.2.50"}
    for _ in range(WEBHOOK_SIGNATURE_FAILURES.limit):
        forged = post_inbound(client, inbound_params(line), token="forged", **address)
        assert forged.status_code == 403
    limited = post_inbound(client, inbound_params(line), token="forged", **address)
    assert limited.status_code == 429
    assert limited["Retry-After"] == str(WEBHOOK_SIGNATURE_FAILURES.window_seconds)
    for _ in range(3):
        assert post_inbound(client, inbound_params(line), **address).status_code == 200


def forged_logins(client, agent, **headers):
    for _ in range(LOGIN_FAILURES.limit):
        log_in(client, agent.username, "wrong", **headers)
    return log_in(client, agent.username, "pw", **headers).status_code


def test_behind_a_trusted_proxy_clients_are_told_apart_by_forwarded_address(
    client, agent, settings
):
    settings.TRUSTED_PROXIES = 1
    proxy = "10.0.0.2"
    assert forged_logins(client, agent, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7") == 429
    other_client = log_in(
        Client(), agent.username, "pw", address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.9"
    )
    assert other_client.status_code == 302  # same proxy address, another client


def test_a_client_cannot_escape_the_limit_by_forging_forwarded_addresses(client, agent, settings):
    settings.TRUSTED_PROXIES = 1
    for n in range(LOGIN_FAILURES.limit):
        spoofed = {"HTTP_X_FORWARDED_FOR": f"192.0.2.{n}, 203.0.113.7"}
        log_in(client, agent.username, "wrong", address="10.0.0.2", **spoofed)
    spoofed = {"HTTP_X_FORWARDED_FOR": "192.0.2.99, 203.0.113.7"}
    assert log_in(client, agent.username, "pw", address="10.0.0.2", **spoofed).status_code == 429


def test_without_trusted_proxies_the_forwarded_header_is_ignored(client, agent):
    for n in range(LOGIN_FAILURES.limit):
        log_in(client, agent.username, "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert (
        log_in(client, agent.username, "pw", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429
    )


def admin_log_in(client, username, password, address="203.0.113.7"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def test_the_admin_login_is_limited_too(client, agent):
    agent.is_staff = True
    agent.save()
    for _ in range(LOGIN_FAILURES.limit):
        assert admin_log_in(client, agent.username, "wrong").status_code == 200
    refused = admin_log_in(client, agent.username, "pw")
    assert refused.status_code == 429
    assert "Too many failed logins from your address." in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_both_login_pages_share_one_counter(client, agent):
    agent.is_staff = True
    agent.save()
    for attempt in range(LOGIN_FAILURES.limit):
        login = admin_log_in if attempt % 2 else log_in
        login(client, agent.username, "wrong")
    assert log_in(client, agent.username, "pw").status_code == 429
    assert admin_log_in(client, agent.username, "pw").status_code == 429


class CountingSlowBackend(ModelBackend):
    """Django's backend, counting every password it checks and taking its time over each, as
    a real password hash does: wide open to a check-then-count race."""

    checked: ClassVar[list[str]] = []

    def authenticate(self, request, username=None, password=None, **kwargs):
        self.checked.append(username)
        time.sleep(0.05)
        return super().authenticate(request, username=username, password=password, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_a_parallel_burst_of_wrong_passwords_gets_no_more_checks_than_the_limit(settings):
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.CountingSlowBackend"]
    CountingSlowBackend.checked.clear()
    user = make_user(Account.objects.create(name="Acme"), Role.ADMIN, is_staff=True)
    burst = 40

    def wrong_password(attempt: int) -> int:
        try:
            login = admin_log_in if attempt % 2 else log_in
            return login(Client(), user.username, "wrong").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=burst) as pool:
        statuses = list(pool.map(wrong_password, range(burst)))

    assert len(CountingSlowBackend.checked) == LOGIN_FAILURES.limit
    assert statuses.count(429) == burst - LOGIN_FAILURES.limit
    assert log_in(Client(), user.username, "pw").status_code == 429
    assert len(CountingSlowBackend.checked) == LOGIN_FAILURES.limit
