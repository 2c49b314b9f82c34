"""The tamper-evident consent log: hash chains, daily anchors, `verify_consent_log`, and what
it catches when someone with database access rewrites the history."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm import consent
from crm.ledger import event_hash
from crm.models import (
    Account,
    ConsentAnchor,
    ConsentEvent,
    ConsentLogVerification,
    ConsentSource,
    ConsentStatus,
    Contact,
)
from crm.roles import Role
from crm.tasks import anchor_consent_logs, verify_consent_logs
from crm.verification import hashed_values
from tests.support.factories import make_user, staff_consent
from tests.support.webhook_client import inbound_params

DAY_ONE = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def at(days: int, hours: int = 0) -> datetime:
    return DAY_ONE + timedelta(days=days, hours=hours)


@pytest.fixture
def history(signed_account, line, second_line, client, deliver, clock, admin_user):
    """Four days of consent on two lines: keywords by webhook, staff, another system's API
    evidence; anchored up to yesterday."""
    Account.objects.filter(pk=signed_account.pk).update(created_at=at(-1))
    ada, bob = "+12025550143", "+12025550178"
    clock.set(at(0))
    deliver(client, inbound_params(line, sender=ada, body="STOP"))
    clock.set(at(0, 2))
    deliver(client, inbound_params(second_line, sender=ada, body="STOP"))
    clock.set(at(1))
    deliver(client, inbound_params(line, sender=ada, body="START"))
    deliver(client, inbound_params(line, sender=bob, body="Stop texting me"))
    clock.set(at(2))
    bob_contact = Contact.objects.get(phone=bob)
    staff_consent(bob_contact, second_line, ConsentStatus.OPTED_OUT, admin_user)
    consent.record_consent(
        contact=Contact.objects.get(phone=ada),
        line=second_line,
        status=ConsentStatus.OPTED_IN,
        source=ConsentSource.API,
        consent_text="Yes, text me about my appointments. Reply STOP to stop.",
        page_url="https://example.com/book?step=3",
        ip_address="2001:DB8::1",
        user_agent="Mozilla/5.0",
    )
    clock.set(at(4))
    anchor_consent_logs.delay()
    return signed_account


def verify() -> str:
    """Run the command; its output, or the CommandError's message when the log does not match."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_consent_log", stdout=out)
    except CommandError as error:
        return f"FAILED {error}\n{out.getvalue()}"
    return out.getvalue()


def events_of(phone: str) -> list[ConsentEvent]:
    return list(ConsentEvent.objects.filter(contact__phone=phone).order_by("id"))


def tamper(sql: str, params: list, *more: tuple[str, list]) -> None:
    """Raw SQL past the ORM, with the trigger that refuses changes to events (and anchors)
    switched off for this test's transaction, as someone with database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE waits for no deferred foreign-key check: run them first.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE crm_consentevent DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE crm_consentanchor DISABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for statement, values in ((sql, params), *more):
            cursor.execute(statement, values)


def test_every_event_is_chained_to_the_contacts_previous_one(history):
    ada = events_of("+12025550143")
    assert len(ada) == 4
    assert ada[0].previous_hash == ""
    for before, after in itertools.pairwise(ada):
        assert after.previous_hash == before.hash
    for row in hashed_values(ConsentEvent.objects.all()):
        assert event_hash(row) == row["hash"]


def test_an_untouched_log_verifies_and_the_admin_shows_it(history, client):
    output = verify()
    assert "FAILED" not in output
    assert f"{history.name}: 6 events and 5 anchored days checked: intact." in output
    staff = make_user(history, Role.ADMIN, username="log-staff", is_staff=True)
    staff.user_permissions.set(Permission.objects.all())
    client.force_login(staff)
    page = client.get(reverse("admin:crm_account_change", args=[history.pk])).content.decode()
    assert "intact (6 events)" in page


def test_each_finished_day_gets_one_anchor_chained_to_the_day_before(history, clock, caplog):
    anchors = list(ConsentAnchor.objects.filter(account=history).order_by("day"))
    assert [anchor.day for anchor in anchors] == [at(day).date() for day in range(-1, 4)]
    assert [anchor.event_count for anchor in anchors] == [0, 2, 2, 2, 0]
    assert anchors[0].previous_hash == ""
    assert all(b.previous_hash == a.hash for a, b in itertools.pairwise(anchors))
    assert anchor_consent_logs.delay().get() == 0  # idempotent: nothing new to seal
    clock.set(at(4, 9) + timedelta(minutes=59))  # day 4 ended under an hour ago: too soon
    assert anchor_consent_logs.delay().get() == 0
    clock.set(at(4, 10))
    with caplog.at_level("INFO", logger="capacity_sms.consent_log"):
        assert anchor_consent_logs.delay().get() == 1
    sealed = ConsentAnchor.objects.get(account=history, day=at(4).date())
    logged = [r.getMessage() for r in caplog.records if r.name == "capacity_sms.consent_log"]
    assert logged == [
        f"Consent log anchor: account {history.pk}, {sealed.day}, 0 events, {sealed.hash}"
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("note", "asked by e-mail"),
        ("status", ConsentStatus.OPTED_IN.value),
        ("occurred_at", at(-10)),
        ("keyword", "START"),
        ("source", ConsentSource.API.value),
    ],
)
def test_one_changed_field_names_the_event(history, column, value):
    event = events_of("+12025550178")[0]
    tamper(f"UPDATE crm_consentevent SET {column} = %s WHERE id = %s", [value, event.pk])  # noqa: S608
    output = verify()
    assert output.startswith(f"FAILED The consent log does not match. First: {history.name}: ")
    assert f"Event {event.pk} does not match its hash" in output


def test_a_changed_message_body_or_api_evidence_is_detected(history):
    stop = events_of("+12025550143")[0]
    tamper("UPDATE conversations_message SET body = %s WHERE id = %s", ["Hello", stop.message_id])
    assert f"Event {stop.pk} does not match its hash" in verify()
    api_event = events_of("+12025550143")[-1]
    tamper("UPDATE crm_consentevent SET ip_address = %s WHERE id = %s", ["192.0.2.9", api_event.pk])
    assert f"Event {api_event.pk} does not match its hash" in verify()


def test_a_deleted_event_is_detected_by_the_next_one(history):
    first, second, *_ = events_of("+12025550143")
    tamper("DELETE FROM crm_consentevent WHERE id = %s", [first.pk])
    output = verify()
    assert f"Event {second.pk} does not follow the contact's previous event" in output
    assert f"{at(0).date()}: 1 events are recorded for the day, its anchor sealed 2" in output


def test_a_deleted_latest_event_is_detected_by_its_days_anchor(history):
    latest = events_of("+12025550143")[-1]
    tamper("DELETE FROM crm_consentevent WHERE id = %s", [latest.pk])
    output = verify()
    assert "FAILED" in output
    assert f"{at(2).date()}: 1 events are recorded for the day, its anchor sealed 2" in output


def test_two_reordered_events_are_detected(history):
    first, second, *_ = events_of("+12025550143")
    tamper(
        "UPDATE crm_consentevent SET occurred_at = CASE id WHEN %s THEN %s ELSE %s END"
        " WHERE id IN (%s, %s)",
        [first.pk, second.occurred_at, first.occurred_at, first.pk, second.pk],
    )
    output = verify()
    assert f"Event {first.pk} does not match its hash" in output
    assert f"Event {second.pk} does not match its hash" in output


def test_two_events_swapped_whole_are_detected(history):
    """Every column moved, hashes included: the chain's links no longer follow."""
    first, second, _third, _ = events_of("+12025550143")
    move = "UPDATE crm_consentevent SET id = %s WHERE id = %s"
    tamper(move, [-1, first.pk], (move, [first.pk, second.pk]), (move, [second.pk, -1]))
    output = verify()
    assert f"Event {first.pk} does not follow the contact's previous event" in output


def test_a_rebuilt_chain_is_caught_by_the_anchors(history):
    """Someone who knows the scheme changes an event and recomputes the contact's whole chain:
    every link holds, and the day's anchor still shows it."""
    events = events_of("+12025550178")
    previous = ""
    for index, event in enumerate(events):
        row = hashed_values(ConsentEvent.objects.filter(pk=event.pk)).get()
        row.update(previous_hash=previous, note="forged" if index == 0 else row["note"])
        previous = event_hash(row)
        tamper(
            "UPDATE crm_consentevent SET note = %s, previous_hash = %s, hash = %s WHERE id = %s",
            [row["note"], row["previous_hash"], previous, event.pk],
        )
    output = verify()
    assert "does not follow" not in output
    assert "does not match its hash" not in output
    assert f"{at(1).date()}: the day's events do not match its anchor" in output


def test_a_removed_or_changed_anchor_is_detected(history):
    anchors = list(ConsentAnchor.objects.filter(account=history).order_by("day"))
    tamper("DELETE FROM crm_consentanchor WHERE id = %s", [anchors[2].pk])
    output = verify()
    assert f"{anchors[3].day}: the anchors of the days since {anchors[1].day} are missing" in output
    tamper("UPDATE crm_consentanchor SET event_count = 1 WHERE id = %s", [anchors[1].pk])
    assert f"{anchors[1].day}: 2 events are recorded for the day, its anchor sealed 1" in verify()


def test_an_event_written_outside_the_engine_is_named(history, line):
    contact = Contact.objects.get(phone="+12025550143")
    ConsentEvent.objects.bulk_create(
        [
            ConsentEvent(
                contact=contact,
                line=line,
                status=ConsentStatus.OPTED_IN,
                outcome="changed",
                source=ConsentSource.API,
                occurred_at=timezone.now(),
            )
        ]
    )
    forged = ConsentEvent.objects.filter(contact=contact).latest("id")
    assert f"Event {forged.pk} has no hash" in verify()


@pytest.mark.postgres
def test_the_database_refuses_to_change_anchors_and_verifications(history):
    from django.db import DatabaseError, transaction

    anchor = ConsentAnchor.objects.filter(account=history).first()
    verify()
    with (
        pytest.raises(DatabaseError, match="anchors are evidence"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE crm_consentanchor SET hash = '' WHERE id = %s", [anchor.pk])
    verification = ConsentLogVerification.objects.filter(account=history).first()
    with (
        pytest.raises(DatabaseError, match="verifications are evidence"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM crm_consentlogverification WHERE id = %s", [verification.pk])


def test_the_orm_refuses_to_change_anchors(history):
    from crm.models import ImmutableEventError

    with pytest.raises(ImmutableEventError):
        ConsentAnchor.objects.filter(account=history).update(hash="")
    with pytest.raises(ImmutableEventError):
        ConsentAnchor.objects.filter(account=history).delete()


def test_nightly_verification_is_recorded_per_account(history, other_account):
    assert verify_consent_logs.delay().get() == 0
    assert ConsentLogVerification.objects.filter(intact=True).count() == 2
    latest = ConsentLogVerification.objects.filter(account=history).latest()
    assert (latest.events_checked, latest.days_checked, latest.unanchored_days) == (6, 5, 0)


def test_unanchored_finished_days_are_reported_not_failed(account, contact, line, clock):
    Account.objects.filter(pk=account.pk).update(created_at=at(0))
    clock.set(at(0))
    staff_consent(contact, line, ConsentStatus.OPTED_OUT, make_user(account, Role.AGENT))
    clock.set(at(3))
    output = verify()
    assert "3 finished days not anchored yet (is beat running?): intact." in output


def test_an_unknown_account_is_refused_by_name(history):
    with pytest.raises(CommandError, match=f"No account is named 'Nope'. Accounts: {history.name}"):
        call_command("verify_consent_log", account="Nope")


def test_the_migration_fills_the_hashes_of_events_recorded_before(account, contact, line, clock):
    """Events from before the log was chained get their hashes, in recording order."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    fill = importlib.import_module("crm.migrations.0017_fill_consent_log_hashes").fill_hashes
    event = staff_consent(contact, line, ConsentStatus.OPTED_OUT, make_user(account, Role.AGENT))
    tamper(
        "UPDATE crm_consentevent SET hash = '', previous_hash = '', contact_phone = '',"
        " line_number = '' WHERE id = %s",
        [event.pk],
    )
    ConsentEvent.objects.bulk_create(
        [
            ConsentEvent(
                contact=contact,
                line=line,
                status=ConsentStatus.OPTED_OUT,
                outcome="unchanged",
                source=ConsentSource.AGENT,
                user=event.user,
                note="asked again",
                occurred_at=timezone.now(),
            )
        ]
    )
    assert "has no hash" in verify()
    fill(apps, SimpleNamespace(connection=connection, execute=connection.cursor().execute))
    assert "intact" in verify()
    first, second = ConsentEvent.objects.order_by("id")
    assert (first.contact_phone, first.line_number) == (contact.phone, line.number)
    assert second.previous_hash == first.hash


def test_history_recorded_before_the_account_row_is_anchored_from_its_first_day(
    account, contact, line, clock
):
    """An account whose row is younger than its history (the demo, a migrated account)."""
    clock.set(at(0))
    staff_consent(contact, line, ConsentStatus.OPTED_OUT, make_user(account, Role.AGENT))
    clock.set(at(3))
    assert "3 finished days not anchored yet" in verify()
    anchors = anchor_consent_logs.delay().get()
    assert anchors >= 3
    assert ConsentAnchor.objects.filter(account=account).earliest("day").day == at(0).date()
    assert verify().endswith("intact.\n")


def test_the_first_problem_named_is_the_earliest_however_many(history, clock, line):
    """More problems than are kept: the earliest still comes first."""
    later = Contact.objects.create(account=history, phone="+12025550199")
    clock.set(at(3, 1))
    agent = make_user(history, Role.AGENT)
    for _ in range(45):
        staff_consent(later, line, ConsentStatus.OPTED_OUT, agent)
    tamper("UPDATE crm_consentevent SET note = 'x' WHERE contact_id = %s", [later.pk])
    earliest = events_of("+12025550178")[0]
    tamper("UPDATE crm_consentevent SET note = 'x' WHERE id = %s", [earliest.pk])
    output = verify()
    assert f"First: {history.name}: Event {earliest.pk} does not match its hash" in output
    assert "problems (the first 20 shown)" in output


def test_days_removed_from_the_end_are_caught_by_the_last_verification(history):
    """Events and their days' anchors removed together leave days 'not anchored yet', which
    beat would seal again; the previous verification remembers the newest anchor it saw."""
    assert "intact" in verify()
    latest = events_of("+12025550143")[-1]
    tamper(
        "DELETE FROM crm_consentevent WHERE id = %s",
        [latest.pk],
        ("DELETE FROM crm_consentanchor WHERE day >= %s", [at(2).date()]),
    )
    output = verify()
    assert f"{at(3).date()}: the anchor the verification of" in output
    assert "saw is gone: anchors were removed" in output


def test_a_rewritten_current_status_is_detected(history, line):
    """The send gate reads the current status: one rewritten to let texts through shows."""
    ada = Contact.objects.get(phone="+12025550178")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE crm_consent SET status = 'opted_in' WHERE contact_id = %s AND line_id = %s",
            [ada.pk, line.pk],
        )
    output = verify()
    assert (
        f"Contact {ada.pk} on line {line.pk}: the current status says opted_in, its history "
        "opted_out" in output
    )
