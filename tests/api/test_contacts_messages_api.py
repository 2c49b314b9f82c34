"""Contacts and messages through the API: the pages' rules, the one send gate."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from conversations.models import Message, MessageStatus
from crm import consent
from crm.models import ConsentPolicy, ConsentSource, Contact
from tests.support.webhook_client import post_signed, status_params

CONTACTS = "/api/v1/contacts/"
MESSAGES = "/api/v1/messages/"


def test_contacts_are_listed_by_cursor_and_found_by_number(api, account, contact, other_contact):
    for n in range(3):
        Contact.objects.create(account=account, phone=f"+1415555{n:04d}", name=f"C{n}")
    first = api.get(CONTACTS, {"limit": 2}).json()
    assert len(first["results"]) == 2
    assert first["next"]
    second = api.get(first["next"]).json()
    ids = [c["id"] for c in first["results"] + second["results"]]
    assert ids == sorted(Contact.objects.for_account(account).values_list("pk", flat=True))
    assert other_contact.pk not in ids
    found = api.get(CONTACTS, {"phone": "(202) 555-0143"}).json()["results"]
    assert [c["id"] for c in found] == [contact.pk]
    assert api.get(CONTACTS, {"phone": "garbage"}).status_code == 400


def test_a_contact_is_created_in_e164_and_duplicates_are_refused(api, account):
    response = api.post(
        CONTACTS, {"phone": "415 555 0177", "name": "Ann", "email": "ann@example.com"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "+14155550177"
    again = api.post(CONTACTS, {"phone": "+14155550177"})
    assert again.status_code == 400
    assert "phone" in again.json()
    for bad in [{"phone": "x"}, {"phone": "+14155550178", "email": "not-mail"}, {}]:
        assert api.post(CONTACTS, bad).status_code == 400, bad
    assert Contact.objects.for_account(account).count() == 1


def test_a_contact_is_edited_but_its_number_is_locked_once_it_has_history(
    api, contact, line, admin_user
):
    response = api.patch(f"{CONTACTS}{contact.pk}/", {"name": "Ada L."})
    assert response.status_code == 200
    assert response.json()["name"] == "Ada L."
    assert api.patch(f"{CONTACTS}{contact.pk}/", {"phone": "+14155550190"}).status_code == 200
    consent.opt_out(contact=contact, line=line, source=ConsentSource.AGENT, user=admin_user)
    locked = api.patch(f"{CONTACTS}{contact.pk}/", {"phone": "+14155550191"})
    assert locked.status_code == 400
    assert "cannot change" in locked.json()["phone"][0]
    contact.refresh_from_db()
    assert contact.phone == "+14155550190"
    assert contact.name == "Ada L."
    assert api.put(f"{CONTACTS}{contact.pk}/", {"phone": "+1"}, format="json").status_code == 405
    assert api.delete(f"{CONTACTS}{contact.pk}/").status_code == 405


def test_a_message_is_queued_and_handed_over_through_the_gate(api, line, outbox, committed):
    with committed():
        response = api.post(
            MESSAGES, {"line": line.number, "to": "(202) 555-0160", "body": "Your booking is at 3"}
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    message = Message.objects.get(pk=body["id"])
    assert body["phone"] == "+12025550160"
    assert body["direction"] == "outbound"
    assert body["line"] == line.number
    assert message.contact.phone == "+12025550160"
    assert message.sent_by is None
    assert body["status"] == "queued"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT  # handed over once committed
    assert [sms.body for sms in outbox] == ["Your booking is at 3"]
    assert api.get(f"{MESSAGES}{message.pk}/").json()["status"] == "sent"


def test_a_message_follows_its_status_callbacks(
    api, client, signed_account, line, outbox, committed
):
    with committed():
        created = api.post(
            MESSAGES, {"line": line.number, "to": "+12025550160", "body": "Hi"}
        ).json()
    message = Message.objects.get(pk=created["id"])
    post_signed(
        client, "twilio-status", status_params(line, message.provider_message_id, "delivered")
    )
    assert api.get(f"{MESSAGES}{message.pk}/").json()["status"] == "delivered"


def test_a_message_for_later_is_scheduled(api, line, outbox):
    later = timezone.now() + timedelta(hours=2)
    body = api.post(
        MESSAGES,
        {"line": line.pk, "to": "+12025550160", "body": "Hi", "send_at": later.isoformat()},
    ).json()
    assert body["status"] == "scheduled"
    assert abs(timezone.datetime.fromisoformat(body["scheduled_for"]) - later) < timedelta(
        seconds=1
    )
    assert outbox == []


def test_quiet_hours_defer_a_message_and_say_until_when(api, account, line, clock, outbox):
    account.quiet_hours_enabled = True
    account.save()
    clock.set(timezone.datetime(2026, 7, 1, 5, 0, tzinfo=UTC))  # 01:00 in New York
    body = api.post(MESSAGES, {"line": line.number, "to": "+12125550160", "body": "Hi"}).json()
    assert body["status"] == "scheduled"
    assert body["deferred_by_quiet_hours"] is True
    assert body["scheduled_for"].startswith("2026-07-01T12:00")  # 08:00 EDT
    assert outbox == []


def test_a_text_to_an_opted_out_contact_is_422_and_stored_blocked(
    api, contact, line, admin_user, outbox
):
    consent.opt_out(contact=contact, line=line, source=ConsentSource.AGENT, user=admin_user)
    response = api.post(MESSAGES, {"line": line.number, "to": contact.phone, "body": "Sale!"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "opted_out"
    assert "opted out" in body["detail"]
    assert body["message"]["status"] == "blocked"
    assert Message.objects.get(pk=body["message"]["id"]).status == MessageStatus.BLOCKED
    assert outbox == []


def test_a_text_to_a_not_defined_contact_on_a_require_opt_in_line_is_422(
    api, contact, line, outbox
):
    line.consent_policy = ConsentPolicy.REQUIRE_OPT_IN
    line.save()
    response = api.post(MESSAGES, {"line": line.number, "to": contact.phone, "body": "Sale!"})
    assert response.status_code == 422
    assert response.json()["code"] == "not_opted_in"
    assert outbox == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "x" * 1601}, "body"),
        ({"to": "12"}, "to"),
        ({"line": "+19995550100"}, "line"),
        ({"send_at": "2001-01-01T00:00:00Z"}, "send_at"),
        ({"send_at": "2999-01-01T00:00:00Z"}, "send_at"),
        ({"line": ["a"]}, "line"),
        ({"line": True}, "line"),
    ],
)
def test_bad_messages_are_400_and_send_nothing(api, line, outbox, change, field):
    body = {"line": line.number, "to": "+12025550160", "body": "Hi", **change}
    response = api.post(MESSAGES, body)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Message.objects.exists()
    assert outbox == []


def test_a_retried_message_is_sent_once(api, line, outbox, committed):
    body = {"line": line.number, "to": "+12025550160", "body": "Once"}
    with committed():
        first = api.post(MESSAGES, body, headers={"Idempotency-Key": "order-9"})
    with committed():
        again = api.post(MESSAGES, body, headers={"Idempotency-Key": "order-9"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert len(outbox) == 1
    assert Message.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_requests_adding_one_number_at_once_get_201_and_400(account, monkeypatch):
    import threading
    import time

    from django.db import connection

    from api.models import KeyAccess
    from api.services import api_key_create
    from crm import services
    from tests.api.conftest import KeyClient

    secret = api_key_create(account=account, name="Sync", access=KeyAccess.READ_WRITE)[1]
    check = services.contact_validate

    def slow_check(**kwargs):
        phone = check(**kwargs)
        time.sleep(0.5)
        return phone

    monkeypatch.setattr(services, "contact_validate", slow_check)
    codes = []

    def post():
        try:
            codes.append(KeyClient(secret).post(CONTACTS, {"phone": "+14155550177"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(codes) == [201, 400]
    assert Contact.objects.filter(phone="+14155550177").count() == 1
