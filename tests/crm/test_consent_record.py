"""The consent record per contact: the printable page and its JSON, for admins and managers."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from api.models import KeyAccess
from api.services import api_key_create
from crm import consent
from crm.consent import ImportedStatus
from crm.ledger import canonical_json, sha256_text
from crm.models import Account, ConsentSource, ConsentStatus, Contact, ContactImport
from crm.roles import Role
from tests.support.factories import make_user, staff_consent
from tests.support.webhook_client import inbound_params

ADA = "+12025550143"
STOPPED_AT = datetime(2026, 11, 3, 17, 4, 5, tzinfo=UTC)


@pytest.fixture
def ada(signed_account, line, second_line, client, deliver, clock, admin_user):
    """Ada texted STOP (and got the confirmation), was opted in on the other line from an
    imported file, then through the API, and opted out by staff on the phone."""
    Account.objects.filter(pk=signed_account.pk).update(time_zone="America/Chicago")
    clock.set(STOPPED_AT)
    deliver(client, inbound_params(line, sender=ADA, body="Stop"))
    contact = Contact.objects.get(phone=ADA)
    upload = ContactImport.objects.create(
        account=signed_account,
        uploaded_by=admin_user,
        file_name="old-crm-export.csv",
        data=b"phone,status\n",
        content_sha256=hashlib.sha256(b"phone,status\n").hexdigest(),
        undated_at=STOPPED_AT,
    )
    clock.advance(timedelta(hours=1))
    consent.record_imported_consents(
        [
            ImportedStatus(
                contact_id=contact.pk,
                line_id=second_line.pk,
                status=ConsentStatus.OPTED_IN,
                occurred_at=STOPPED_AT - timedelta(days=300),
                note="row 2",
            )
        ],
        upload,
    )
    key, _ = api_key_create(
        account=signed_account, name="Booking site", access=KeyAccess.READ_WRITE
    )
    clock.advance(timedelta(hours=1))
    consent.record_consent(
        contact=contact,
        line=second_line,
        status=ConsentStatus.OPTED_IN,
        source=ConsentSource.API,
        api_key=key,
        consent_text="Yes, text me appointment reminders.",
        page_url="https://booking.example.com/confirm",
        ip_address="203.0.113.7",
        user_agent="Mozilla/5.0 (iPhone)",
    )
    clock.advance(timedelta(hours=1))
    staff_consent(contact, second_line, ConsentStatus.OPTED_OUT, admin_user)
    return contact


def record_url(contact, **query) -> str:
    url = reverse("contact-record", args=[contact.pk])
    return url + ("?format=json" if query.get("json") else "")


def test_the_record_states_every_event_with_its_evidence(ada, manager_client, line):
    page = manager_client.get(record_url(ada)).content.decode()
    assert "Consent record" in page
    assert '<q class="wrap">Stop</q>' in page  # the words the contact sent
    assert "You have been unsubscribed from" in page  # the confirmation sent back
    assert "old-crm-export.csv" in page
    assert hashlib.sha256(b"phone,status\n").hexdigest() in page
    assert "Yes, text me appointment reminders." in page
    assert "https://booking.example.com/confirm" in page
    assert "203.0.113.7" in page
    assert "key “Booking site”" in page
    assert "asked by phone" in page  # the staff member's note
    # Times in the account's zone with UTC beside them: 17:04:05 UTC is 11:04:05 in Chicago.
    assert "Nov 3, 2026 11:04:05 CST" in page
    assert "(2026-11-03 17:04:05 UTC)" in page
    assert page.count("✓ verified") == 4
    for event in ada.consent_events.all():
        assert event.hash in page


def test_the_json_says_the_same_and_shows_tampering(ada, manager_client, second_line):
    record = json.loads(manager_client.get(record_url(ada, json=True)).content)
    assert record["format"] == "capacity-consent-record/1"
    assert record["time_zone"] == "America/Chicago"
    by_line = {line["name"]: line for line in record["lines"]}
    support = by_line[second_line.name]
    assert support["status"] == ConsentStatus.OPTED_OUT
    assert [event["source"] for event in support["events"]] == ["import", "api", "agent"]
    imported, api, agent = support["events"]
    assert imported["import"]["file_name"] == "old-crm-export.csv"
    assert api["api"]["ip_address"] == "203.0.113.7"
    assert agent["recorded_by"]["username"] == f"admin-{ada.account_id}"
    sales = by_line["Sales"]["events"][0]
    assert sales["message"]["body"] == "Stop"
    assert [reply["purpose"] for reply in sales["replies"]] == ["opt_out_confirmation"]
    assert record["verification"]["chain_intact"] is True
    assert record["verification"]["latest_hash"] == agent["hash"]
    # The record recomputes its own hashes: times to the microsecond, the hashed content.
    for line in record["lines"]:
        for event in line["events"]:
            assert sha256_text(canonical_json(event["hashed_content"])) == event["hash"]
            assert event["occurred_at"] == event["hashed_content"]["occurred_at"]

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE crm_consentevent DISABLE TRIGGER USER")
        cursor.execute("UPDATE crm_consentevent SET note = 'forged' WHERE id = %s", [agent["id"]])
    record = json.loads(manager_client.get(record_url(ada, json=True)).content)
    forged = {line["name"]: line for line in record["lines"]}[second_line.name]["events"][2]
    assert forged["hash_verified"] is False
    assert record["verification"]["chain_intact"] is False
    assert "does not match its content" in manager_client.get(record_url(ada)).content.decode()


def test_only_admins_and_managers_see_it_and_only_in_their_account(
    ada, admin_user, agent, other_contact
):
    admin_client, agent_client = Client(), Client()
    admin_client.force_login(admin_user)
    agent_client.force_login(agent)
    assert admin_client.get(record_url(ada)).status_code == 200
    assert admin_client.get(record_url(other_contact)).status_code == 404
    assert agent_client.get(record_url(ada)).status_code == 403
    assert agent_client.get(record_url(ada, json=True)).status_code == 403
    contact_page = agent_client.get(reverse("contact", args=[ada.pk])).content.decode()
    assert record_url(ada) not in contact_page


def test_the_contact_page_links_to_it(ada, manager_client):
    page = manager_client.get(reverse("contact", args=[ada.pk])).content.decode()
    assert f'href="{record_url(ada)}"' in page


def test_the_record_costs_the_same_queries_however_long_the_history(
    contact, line, second_line, manager_client
):
    def queries() -> int:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(record_url(contact)).status_code == 200
        return len(captured)

    statuses = [ConsentStatus.OPTED_OUT, ConsentStatus.OPTED_IN]
    staff = make_user(contact.account, Role.ADMIN, username="records-admin")
    for index in range(2):
        staff_consent(contact, line, statuses[index % 2], staff)
    few = queries()
    for index in range(30):
        staff_consent(contact, (line, second_line)[index % 2], statuses[index % 2], staff)
    assert queries() == few
