"""Settings > API keys and Webhooks in a real headless Chromium, at a phone's width too."""

import pytest
from playwright.sync_api import expect

from api.models import ApiKey, WebhookEndpoint
from tests.api.conftest import KeyClient

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_creates_a_key_copies_it_once_and_revokes_it(page, log_in, line, admin_user):
    log_in(admin_user.username)
    page.goto("/settings/")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Booking site")
    page.get_by_label("Read and write").check()
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("status")).to_contain_text("Copy it now")
    secret = page.get_by_label("The new key").input_value()
    assert KeyClient(secret).get("/api/v1/lines/").status_code == 200
    page.reload()
    expect(page.get_by_label("The new key")).to_have_count(0)
    page.get_by_role("button", name="Revoke Booking site").click()
    expect(page.get_by_role("cell", name="Revoked")).to_be_visible()
    assert ApiKey.objects.get().revoked_at is not None
    assert KeyClient(secret).get("/api/v1/lines/").status_code == 401


def test_an_admin_adds_an_endpoint_and_sees_its_secret_on_a_phone(page, log_in, line, admin_user):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(admin_user.username)
    page.goto("/settings/webhooks/")
    page.get_by_label("URL").fill("https://hooks.example.com/capacity")
    page.get_by_label("consent.changed: a contact's status changed").check()
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("heading", name="https://hooks.example.com/capacity")).to_be_visible()
    page.get_by_text("Show the secret").click()
    secret = page.get_by_role("textbox", name="Signing secret").input_value()
    assert secret == WebhookEndpoint.objects.get().secret
    # The top navigation's width at 390 px is issue 18's; this page's own cards fit.
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('main .card')].map(e => e.scrollWidth))"
    )
    assert widest <= 390
