"""Bad input to every page that takes input: a clear 4xx or form error, never a 500."""

import pytest
from django.urls import reverse

from tests.test_access import all_urls

NASTY = {
    "nul": "a\x00b",
    "huge": "x" * 200_000,
    "unicode": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ‮ \u200b",
    "number": "99999999999999999999999999",
    "date": "2024-02-30T25:61",
}


@pytest.fixture
def admin_client(client, admin_user, line, contact):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("kind", sorted(NASTY))
@pytest.mark.parametrize(
    ("name", "url"),
    [(name, url) for name, url in all_urls() if not name.startswith("admin")],
    ids=lambda value: str(value),
)
def test_nasty_values_in_every_field_never_give_a_500(admin_client, kind, name, url):
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
        "action",
        "column_0",
        "per_page",
        "is_active",
        "direction",
        "file",
    ]
    data = dict.fromkeys(fields, value)
    assert admin_client.get(url, data).status_code < 500
    assert admin_client.post(url, data).status_code < 500


def test_invalid_utf8_in_a_form_post_is_not_a_500(admin_client):
    response = admin_client.post(
        reverse("contact-create"),
        b"name=%FF%FE&phone=%C3%28&email=",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code < 500


def test_a_post_with_thousands_of_fields_is_a_400(admin_client):
    fields = {f"field{n}": "x" for n in range(5000)}
    assert admin_client.post(reverse("contact-create"), fields).status_code == 400
