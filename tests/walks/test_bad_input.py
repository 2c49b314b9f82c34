"""Bad input to every page that takes input: a clear 4xx or form error, never a 500.

Pages are reached with real objects of the user's account (tests/test_url_walk.py), so the
input gets past the object lookup to the forms and filters behind it.
"""

import pytest
from django.urls import reverse

from tests.walks.test_url_walk import DECISIONS, page_url

pytestmark = pytest.mark.sweep  # long: CI runs it, an everyday run may not

NASTY = {
    "nul": "a\x00b",
    "huge": "x" * 200_000,
    "unicode": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ‮ \u200b",
    "number": "99999999999999999999999999",
    "date": "2024-02-30T25:61",
}


# Buttons that act on their object alone: they read no body, and answer with the object's page.
READ_NO_INPUT = {
    "import-resume",
    "conversation-message-cancel",
    "broadcast-send",
    "broadcast-cancel",
    "api-key-revoke",
    "webhook-enable",
    "webhook-delete",
    "webhook-resend",
}


@pytest.fixture
def world_admin_client(client, own):
    client.force_login(own["admin"])
    return client


def own_url(name: str, own: dict) -> str:
    kind = DECISIONS[name].obj
    return page_url(name, own[kind].pk if kind else 0)


@pytest.mark.parametrize("kind", sorted(NASTY))
@pytest.mark.parametrize("name", DECISIONS)
def test_nasty_values_in_every_field_never_give_a_500(world_admin_client, own, kind, name):
    url = own_url(name, own)
    value = NASTY[kind]
    fields = [
        "q",
        "line",
        "lines",
        "consent",
        "status",
        "as_of",
        "page",
        "sort",
        "message",
        "name",
        "phone",
        "email",
        "keywords",
        "reply",
        "body",
        "note",
        "consent",
        "decision",
        "column_0",
        "per_page",
        "is_active",
        "direction",
        "file",
        "account-name",
        "account-help_contact",
        "lines-TOTAL_FORMS",
        "lines-INITIAL_FORMS",
        "lines-0-id",
        "lines-0-name",
    ]
    data = dict.fromkeys(fields, value)
    assert world_admin_client.get(url, data).status_code < 500
    assert world_admin_client.post(url, data).status_code < 500


@pytest.mark.parametrize("name", DECISIONS)
def test_invalid_utf8_in_the_query_or_the_body_is_not_a_500(world_admin_client, own, name):
    url = own_url(name, own)
    assert world_admin_client.get(f"{url}?q=%FF%FE&line=%C3%28&page=%80").status_code < 500
    response = world_admin_client.post(
        url,
        b"name=%FF%FE&phone=%C3%28&email=&body=%C0%AF&keywords=%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code < 500


@pytest.mark.parametrize(
    "name", [name for name, decision in DECISIONS.items() if decision.post is not None]
)
def test_an_oversized_form_post_is_a_400(world_admin_client, own, name):
    body = b"body=" + b"x" * (3 * 1024 * 1024)
    response = world_admin_client.post(
        own_url(name, own), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == (302 if name in READ_NO_INPUT else 400)


def test_a_post_with_thousands_of_fields_is_a_400(world_admin_client):
    fields = {f"field{n}": "x" for n in range(5000)}
    assert world_admin_client.post(reverse("contact-create"), fields).status_code == 400
