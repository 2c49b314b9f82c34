"""API keys: made on the Settings page or by command, shown once, stored hashed, revocable,
each seeing only its own account."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from api.keys import key_hash
from api.models import ApiKey, KeyAccess
from tests.api.conftest import KeyClient

LINES = "/api/v1/lines/"


def test_an_admin_creates_a_key_that_is_shown_once_and_stored_hashed(admin_client, line):
    response = admin_client.post(
        reverse("api-keys"), {"name": "Booking site", "access": KeyAccess.READ_WRITE}, follow=True
    )
    secret = response.context["new_key"]["secret"]
    assert secret.startswith("csk_")
    assert secret in response.content.decode()
    key = ApiKey.objects.get()
    assert key.key_hash == key_hash(secret)
    assert secret not in str(ApiKey.objects.values().get())
    assert key.prefix in response.content.decode()
    again = admin_client.get(reverse("api-keys")).content.decode()
    assert secret not in again
    assert key.prefix in again
    answer = KeyClient(secret).get(LINES)
    assert answer.status_code == 200
    assert answer.json() == [
        {
            "id": line.pk,
            "name": line.name,
            "number": line.number,
            "consent_policy": "block_opted_out",
        }
    ]


def test_a_key_needs_a_name(admin_client):
    response = admin_client.post(reverse("api-keys"), {"name": "  ", "access": KeyAccess.READ})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not ApiKey.objects.exists()


def test_agents_cannot_reach_the_keys_page(agent_client):
    assert agent_client.get(reverse("api-keys")).status_code == 403
    assert (
        agent_client.post(reverse("api-keys"), {"name": "x", "access": "read"}).status_code == 403
    )
    assert not ApiKey.objects.exists()


def test_a_revoked_key_is_refused_at_once(admin_client, write_key, api):
    assert api.get(LINES).status_code == 200
    admin_client.post(reverse("api-key-revoke", args=[write_key[0].pk]))
    response = api.get(LINES)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert "revoked" in admin_client.get(reverse("api-keys")).content.decode().lower()


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer nope", "Bearer csk_x y", "Basic dXNlcjpwdw==", "Bearer \u00e9t\u00e9"],
)
def test_requests_without_a_valid_key_are_401_json(client, line, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get(LINES, **extra)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_client_sending_bad_keys_is_held_off_but_a_good_key_still_goes(
    client, api, line, settings
):
    from core.ratelimit import API_KEY_FAILURES

    answers = [
        client.get(LINES, HTTP_AUTHORIZATION=f"Bearer csk_guess{n}").status_code
        for n in range(API_KEY_FAILURES.limit + 2)
    ]
    assert answers[: API_KEY_FAILURES.limit] == [401] * API_KEY_FAILURES.limit
    assert answers[-2:] == [429, 429]
    limited = client.get(LINES, HTTP_AUTHORIZATION="Bearer csk_again")
    assert limited.json()["code"] == "throttled"
    assert "Retry-After" in limited
    assert api.get(LINES).status_code == 200


def test_a_session_is_not_a_key(admin_client, line):
    assert admin_client.get(LINES).status_code == 401


def test_a_read_only_key_reads_and_is_refused_writes(read_api, line, contact):
    assert read_api.get(LINES).status_code == 200
    for path, body in [
        (
            "/api/v1/consent-events/",
            {"phone": contact.phone, "line": line.number, "status": "opted_out"},
        ),
        ("/api/v1/messages/", {"line": line.number, "to": contact.phone, "body": "Hi"}),
        ("/api/v1/contacts/", {"phone": "+12025550111"}),
    ]:
        response = read_api.post(path, body)
        assert response.status_code == 403, path
        assert response.json()["code"] == "permission_denied"
    assert read_api.patch(f"/api/v1/contacts/{contact.pk}/", {"name": "X"}).status_code == 403
    contact.refresh_from_db()
    assert contact.name != "X"
    assert not contact.consent_events.exists()


def test_last_used_time_is_kept(api, write_key):
    assert write_key[0].last_used_at is None
    api.get(LINES)
    write_key[0].refresh_from_db()
    assert write_key[0].last_used_at is not None


def test_another_accounts_ids_are_404(api, other_api, other_contact, other_line):
    from conversations.sending import send_message

    message = send_message(contact=other_contact, line=other_line, body="Globex hello")
    assert other_api.get(f"/api/v1/messages/{message.pk}/").status_code == 200
    for path in [f"/api/v1/contacts/{other_contact.pk}/", f"/api/v1/messages/{message.pk}/"]:
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    assert api.patch(f"/api/v1/contacts/{other_contact.pk}/", {"name": "Stolen"}).status_code == 404
    other_contact.refresh_from_db()
    assert other_contact.name != "Stolen"
    lines = api.get(LINES).json()
    assert other_line.number not in [item["number"] for item in lines]
    consent = api.get("/api/v1/consent/", {"phone": other_contact.phone}).json()
    assert consent["contact_id"] is None


def test_the_command_prints_a_working_key_as_its_last_line(account, line):
    out = io.StringIO()
    call_command("create_api_key", account=account.name, name="Deploy", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    assert KeyClient(secret).get(LINES).status_code == 200
    assert ApiKey.objects.get(name="Deploy").access == KeyAccess.READ_WRITE


def test_the_command_makes_read_only_keys(account, line):
    out = io.StringIO()
    call_command("create_api_key", "--read-only", account=account.name, name="Reports", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    client = KeyClient(secret)
    assert client.get(LINES).status_code == 200
    assert client.post("/api/v1/contacts/", {"phone": "+12025550111"}).status_code == 403


def test_the_command_names_the_accounts_when_the_account_is_unknown(account):
    with pytest.raises(CommandError, match="Acme Plumbing"):
        call_command("create_api_key", account="Nope", name="x")
    with pytest.raises(CommandError, match="At most 100 characters"):
        call_command("create_api_key", account=account.name, name="x" * 200)
    assert not ApiKey.objects.exists()
