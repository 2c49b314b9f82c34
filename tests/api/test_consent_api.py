"""GET /api/v1/consent/ and POST /api/v1/consent-events/: one consent record for every tool."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm import consent
from crm.models import (
    Consent,
    ConsentEvent,
    ConsentOutcome,
    ConsentSource,
    ConsentStatus,
    OptOutScope,
)

EVENTS = "/api/v1/consent-events/"


def lookup(api, phone):
    return api.get("/api/v1/consent/", {"phone": phone})


def test_a_number_in_any_format_gets_its_status_on_every_line(
    api, contact, line, second_line, admin_user
):
    consent.opt_out(contact=contact, line=line, source=ConsentSource.AGENT, user=admin_user)
    response = lookup(api, "(202) 555-0143")
    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == contact.phone == "+12025550143"
    assert body["contact_id"] == contact.pk
    by_line = {item["line"]: item for item in body["lines"]}
    assert by_line[line.number]["status"] == "opted_out"
    assert by_line[line.number]["source"] == "agent"
    assert by_line[line.number]["since"]
    assert by_line[second_line.number] == {
        "line": second_line.number,
        "line_id": second_line.pk,
        "name": second_line.name,
        "status": "not_defined",
        "since": None,
        "source": None,
    }


def test_an_unknown_number_is_not_defined_everywhere(api, line, second_line):
    body = lookup(api, "+1 415 555 0123").json()
    assert body["contact_id"] is None
    assert body["phone"] == "+14155550123"
    assert [item["status"] for item in body["lines"]] == ["not_defined", "not_defined"]


@pytest.mark.parametrize("phone", ["", "12", "not a number", "+999 1234", "\x00", "5" * 300])
def test_a_bad_number_is_a_400_naming_the_field(api, line, phone):
    response = lookup(api, phone)
    assert response.status_code == 400
    assert "phone" in response.json()


def opt(api, status, phone="+12025550143", line=None, headers=None, **extra):
    body = {"phone": phone, "line": line, "status": status, **extra}
    return api.post(EVENTS, body, headers=headers)


def test_an_opt_in_from_another_system_is_recorded_with_its_evidence(api, line, write_key):
    response = opt(
        api,
        "opted_in",
        phone="415-555-0166",
        line="(415) 555-0100",
        consent_text="Yes, text me reminders. Reply STOP to stop.",
        page_url="https://acme.example/book",
        ip="203.0.113.9",
        user_agent="Mozilla/5.0",
        note="Booking form",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "opted_in"
    assert body["source"] == "api"
    assert body["outcome"] == "changed"
    assert body["previous_status"] == "not_defined"
    event = ConsentEvent.objects.get()
    assert event.contact.phone == "+14155550166"
    assert event.api_key == write_key[0]
    assert (event.consent_text, event.page_url, event.ip_address, event.user_agent) == (
        "Yes, text me reminders. Reply STOP to stop.",
        "https://acme.example/book",
        "203.0.113.9",
        "Mozilla/5.0",
    )
    assert Consent.objects.get().status == ConsentStatus.OPTED_IN
    assert lookup(api, "+14155550166").json()["lines"][0]["status"] == "opted_in"
    assert body["ip"] == "203.0.113.9", "the address as given, without a netmask"
    assert body["consent_text"] == event.consent_text


def test_a_line_may_be_named_by_its_id(api, line):
    assert opt(api, "opted_out", line=str(line.pk)).status_code == 201
    assert Consent.objects.get(line=line).status == ConsentStatus.OPTED_OUT


def test_an_api_opt_in_never_lifts_an_opt_out_409_recorded_as_refused(
    api, contact, line, admin_user
):
    consent.opt_out(contact=contact, line=line, source=ConsentSource.AGENT, user=admin_user)
    response = opt(api, "opted_in", line=line.number)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "opted_out"
    assert "never lifts an opt-out" in body["detail"]
    assert body["event"]["outcome"] == "refused"
    refused = ConsentEvent.objects.get(source=ConsentSource.API)
    assert refused.outcome == ConsentOutcome.REFUSED
    assert Consent.objects.get(contact=contact, line=line).status == ConsentStatus.OPTED_OUT


def test_an_api_opt_out_covers_every_line_when_the_account_revokes_everywhere(
    api, account, contact, line, second_line
):
    account.opt_out_scope = OptOutScope.ACCOUNT
    account.save()
    assert opt(api, "opted_out", line=line.number).status_code == 201
    assert {c.line_id: c.status for c in Consent.objects.filter(contact=contact)} == {
        line.pk: "opted_out",
        second_line.pk: "opted_out",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"line": "+14155550999"}, "line"),
        ({"line": "999999"}, "line"),
        ({"line": "²"}, "line"),
        ({"line": "①②③"}, "line"),
        ({"line": 99999999999999999999}, "line"),
        ({"line": ""}, "line"),
        ({"status": "maybe"}, "status"),
        ({"phone": "nope"}, "phone"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"ip": "300.1.1.1"}, "ip"),
        ({"page_url": "javascript:alert(1)"}, "page_url"),
        ({"note": "x" * 3000}, "note"),
        ({"note": "nul\x00byte"}, "note"),
    ],
)
def test_bad_fields_are_400_and_record_nothing(api, line, change, field):
    body = {"phone": "+12025550143", "line": line.number, "status": "opted_out", **change}
    response = api.post(EVENTS, body)
    assert response.status_code == 400
    assert field in response.json()
    assert not ConsentEvent.objects.exists()


def test_another_accounts_line_is_unknown(api, other_line):
    response = opt(api, "opted_out", line=other_line.number)
    assert response.status_code == 400
    assert "line" in response.json()
    response = opt(api, "opted_out", line=str(other_line.pk))
    assert response.status_code == 400
    assert not ConsentEvent.objects.exists()


def test_a_time_in_the_future_is_refused_and_a_past_one_kept(api, line):
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    response = opt(api, "opted_out", line=line.number, occurred_at=future)
    assert response.status_code == 400
    assert "occurred_at" in response.json()
    past = timezone.now() - timedelta(days=3)
    assert opt(api, "opted_out", line=line.number, occurred_at=past.isoformat()).status_code == 201
    assert abs(ConsentEvent.objects.get().occurred_at - past) < timedelta(seconds=1)


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(
    api, contact, line, admin_user
):
    consent.opt_out(contact=contact, line=line, source=ConsentSource.AGENT, user=admin_user)
    body = {"phone": contact.phone, "line": line.number, "status": "opted_in"}
    first = api.post(EVENTS, body, HTTP_IDEMPOTENCY_KEY="form-submission-17")
    again = api.post(EVENTS, body, HTTP_IDEMPOTENCY_KEY="form-submission-17")
    assert first.status_code == again.status_code == 409
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ConsentEvent.objects.filter(source=ConsentSource.API).count() == 1
    other = api.post(
        EVENTS, {**body, "status": "opted_out"}, HTTP_IDEMPOTENCY_KEY="form-submission-17"
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert ConsentEvent.objects.filter(source=ConsentSource.API).count() == 1


def test_an_idempotency_key_is_remembered_for_a_week(api, line, clock):
    from api.tasks import prune_old_api_records

    clock.set(timezone.now())
    body = {"phone": "+12025550143", "line": line.number, "status": "opted_out"}
    api.post(EVENTS, body, headers={"Idempotency-Key": "weekly"})
    clock.advance(timedelta(days=6))
    prune_old_api_records()
    assert api.post(EVENTS, body, headers={"Idempotency-Key": "weekly"})["Idempotent-Replayed"]
    clock.advance(timedelta(days=2))
    prune_old_api_records()
    again = api.post(EVENTS, body, headers={"Idempotency-Key": "weekly"})
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert ConsentEvent.objects.count() == 2


def test_idempotency_keys_belong_to_their_api_key(api, other_api, line, other_line):
    assert (
        opt(api, "opted_out", line=line.number, headers={"Idempotency-Key": "k1"}).status_code
        == 201
    )
    response = opt(
        other_api, "opted_out", line=other_line.number, headers={"Idempotency-Key": "k1"}
    )
    assert response.status_code == 201
    assert ConsentEvent.objects.count() == 2


def test_an_overlong_idempotency_key_is_refused(api, line):
    response = opt(api, "opted_out", line=line.number, headers={"Idempotency-Key": "k" * 300})
    assert response.status_code == 400
    assert not ConsentEvent.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_idempotency_key_at_once_record_one_event(account, line, monkeypatch):
    """The second waits on the key's row while the first works, then answers as it did."""
    import threading
    import time

    from django.db import connection

    from api import views
    from api.models import KeyAccess
    from api.services import api_key_create
    from tests.api.conftest import KeyClient

    secret = api_key_create(account=account, name="Forms", access=KeyAccess.READ_WRITE)[1]
    slowly = views.api_consent_record

    def slow_record(**kwargs):
        time.sleep(0.5)
        return slowly(**kwargs)

    monkeypatch.setattr(views, "api_consent_record", slow_record)
    body = {"phone": "+12025550143", "line": line.number, "status": "opted_out"}
    answers = []

    def post():
        try:
            response = KeyClient(secret).post(EVENTS, body, headers={"Idempotency-Key": "once"})
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert [code for code, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert ConsentEvent.objects.count() == 1
