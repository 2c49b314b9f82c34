"""Broadcasts through their pages: draft, preview, send in chunks, per-recipient status."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from broadcasts import services
from broadcasts.models import Broadcast, BroadcastRecipient, BroadcastStatus
from broadcasts.selectors import broadcast_totals
from broadcasts.tasks import send_broadcast, start_due_broadcasts
from conversations import sending
from conversations.models import Conversation, Direction, Message, MessageStatus
from conversations.tasks import send_due_messages
from crm import consent
from crm.import_files import read_upload
from crm.imports import contact_import_create, contact_import_queue
from crm.models import ConsentPolicy, ConsentSource
from crm.roles import Role
from tests.support.downloads import csv_rows
from tests.support.factories import ContactFactory, InboundMessageFactory, make_user
from tests.support.webhook_client import post_status, status_params

# 15:00 UTC on a Tuesday: 10:00 in Washington DC, 07:00 in San Francisco.
MORNING = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def audience(account, line, second_line, agent):
    """Ten contacts: six opted in on Sales, two opted out, two Not Defined (Nora with no name)."""
    contacts = {}
    for index in range(10):
        name = "" if index == 9 else f"Person {index}"
        contacts[index] = ContactFactory(account=account, name=name, phone=f"+1202555{index:04d}")
    for index in range(6):
        consent.opt_in(contact=contacts[index], line=line, source=ConsentSource.IMPORT)
    for index in (6, 7):
        consent.opt_out(contact=contacts[index], line=line, source=ConsentSource.AGENT, user=agent)
    return contacts


def create(client, line, **fields):
    data = {
        "name": "December promo",
        "line": line.pk,
        "body": "Hi {first_name}, 20% off at {account}!",
    }
    data.update(fields)
    return client.post(reverse("broadcast-create"), data)


def run_on_commit(callbacks, action):
    with callbacks(execute=True):
        return action()


def test_agents_read_broadcasts_but_only_admins_and_managers_write_them(
    client, agent, manager, admin_user, line
):
    client.force_login(agent)
    assert client.get(reverse("broadcasts")).status_code == 200
    assert client.get(reverse("broadcast-create")).status_code == 403
    assert create(client, line).status_code == 403
    for user in (manager, admin_user):
        client.force_login(user)
        assert create(client, line, name=f"by {user.username}").status_code == 302
    assert Broadcast.objects.count() == 2


def test_the_preview_counts_who_gets_it_and_who_the_gate_excludes(
    manager_client, audience, line, clock
):
    clock.set(MORNING)
    response = create(manager_client, line)
    broadcast = Broadcast.objects.get()
    assert response["Location"] == reverse("broadcast", args=[broadcast.pk])
    assert broadcast.status == BroadcastStatus.DRAFT
    page = manager_client.get(response["Location"]).content.decode()
    assert "Of 10 contacts in the audience, <strong>8 will get it</strong>" in page
    assert "Send to 8 contacts now" in page
    assert "1 contact has no name" in page
    assert not Message.objects.exists()


def test_not_defined_contacts_are_excluded_on_a_require_opt_in_line(
    manager_client, audience, line, clock
):
    clock.set(MORNING)
    line.consent_policy = ConsentPolicy.REQUIRE_OPT_IN
    line.save()
    create(manager_client, line)
    preview = services.broadcast_preview(Broadcast.objects.get())
    assert (preview.total, preview.will_get) == (10, 6)
    assert preview.counts["opted-out"] == 2
    assert preview.counts["not-opted-in"] == 2


def test_each_list_downloads(manager_client, audience, line, clock):
    clock.set(MORNING)
    create(manager_client, line)
    broadcast = Broadcast.objects.get()
    opted_out = manager_client.get(reverse("broadcast-list", args=[broadcast.pk, "opted-out"]))
    assert csv_rows(opted_out) == [
        ["Name", "Mobile number", "E-mail"],
        ["Person 6", "+12025550006", ""],
        ["Person 7", "+12025550007", ""],
    ]
    will_get = csv_rows(
        manager_client.get(reverse("broadcast-list", args=[broadcast.pk, "will-get"]))
    )
    assert len(will_get) == 9
    assert (
        manager_client.get(reverse("broadcast-list", args=[broadcast.pk, "nope"])).status_code
        == 404
    )


def test_quiet_hours_defer_part_of_the_audience_and_their_list_downloads(
    manager_client, account, audience, line, clock
):
    account.quiet_hours_enabled = True
    account.save()
    ContactFactory(account=account, name="West", phone="+14155550123")  # 07:00 in California
    clock.set(MORNING)
    create(manager_client, line)
    broadcast = Broadcast.objects.get()
    assert services.broadcast_preview(broadcast).counts["deferred"] == 1
    rows = csv_rows(manager_client.get(reverse("broadcast-list", args=[broadcast.pk, "deferred"])))
    assert rows[1:] == [["West", "+14155550123", ""]]


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        ({"body": "Hi {firstname}"}, "body", "Unknown placeholder {firstname}"),
        ({"body": "   "}, "body", "This field is required"),
        ({"name": ""}, "name", "This field is required"),
        ({"send_at": "2020-01-01T10:00"}, "send_at", "This time has passed"),
        ({"consent_status": "opted_in"}, "status_line", "Choose the line"),
        ({"body": "{name} " * 200}, "body", "at most 1,600"),
    ],
)
def test_a_broadcast_that_cannot_go_is_refused_with_the_reason(
    manager_client, audience, line, fields, field, error
):
    response = create(manager_client, line, **fields)
    assert response.status_code == 200
    assert error in " ".join(response.context["form"].errors[field])
    assert not Broadcast.objects.exists()


def test_another_accounts_line_or_broadcast_is_out_of_reach(
    manager_client, other_line, other_account, line
):
    response = create(manager_client, other_line)
    assert "Select a valid choice" in " ".join(response.context["form"].errors["line"])

    foreign = services.broadcast_create(
        account=other_account,
        user=make_user(other_account, Role.ADMIN, "globex-admin"),
        name="Theirs",
        line=other_line,
        body="x",
    )
    for name in ("broadcast", "broadcast-send", "broadcast-cancel"):
        method = manager_client.get if name == "broadcast" else manager_client.post
        assert method(reverse(name, args=[foreign.pk])).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == BroadcastStatus.DRAFT


def test_sending_texts_every_recipient_once_with_placeholders_filled(
    manager_client, account, audience, line, outbox, clock, django_capture_on_commit_callbacks
):
    clock.set(MORNING)
    create(manager_client, line)
    broadcast = Broadcast.objects.get()
    url = reverse("broadcast-send", args=[broadcast.pk])
    run_on_commit(django_capture_on_commit_callbacks, lambda: manager_client.post(url))
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.recipient_count, broadcast.excluded_count) == (
        BroadcastStatus.SENT,
        8,
        2,
    )
    bodies = sorted(sms.body for sms in outbox)
    assert bodies[0] == "Hi , 20% off at Acme Plumbing!"  # the contact without a name
    assert bodies.count("Hi Person, 20% off at Acme Plumbing!") == 7  # first names only
    assert len(outbox) == len({sms.to_number for sms in outbox}) == 8
    assert Conversation.objects.filter(line=line).count() == 8
    page = manager_client.get(reverse("broadcast", args=[broadcast.pk])).content.decode()
    assert "8 of 8 recipients (100%)" in page
    assert "2 excluded by the send gate" in page


def test_totals_follow_the_status_callbacks(
    client,
    manager_client,
    signed_account,
    audience,
    line,
    clock,
    django_capture_on_commit_callbacks,
):
    clock.set(MORNING)
    create(manager_client, line)
    broadcast = Broadcast.objects.get()
    run_on_commit(
        django_capture_on_commit_callbacks,
        lambda: manager_client.post(reverse("broadcast-send", args=[broadcast.pk])),
    )
    first, second = Message.objects.filter(direction=Direction.OUTBOUND).order_by("pk")[:2]
    post_status(client, status_params(line, first.provider_message_id, "delivered"))
    post_status(
        client, status_params(line, second.provider_message_id, "failed", ErrorCode="30003")
    )
    totals = broadcast_totals(broadcast)
    assert (totals["sent"], totals["delivered"], totals["failed"]) == (6, 1, 1)
    page = manager_client.get(reverse("broadcast", args=[broadcast.pk]), {"status": "failed"})
    assert "Error 30003" in page.content.decode()


def test_a_stop_arriving_mid_broadcast_stops_that_contacts_text(
    manager_client, audience, line, outbox, clock, django_capture_on_commit_callbacks
):
    """The chunk has queued everyone's text; a STOP lands before the hand-over: the gate
    asked at hand-over time blocks it."""
    clock.set(MORNING)
    create(manager_client, line)
    broadcast = Broadcast.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        manager_client.post(reverse("broadcast-send", args=[broadcast.pk]))
        send_broadcast(broadcast.pk)
    person = audience[0]
    stop = InboundMessageFactory(contact=person, line=line, body="STOP")
    consent.opt_out(contact=person, line=line, source=ConsentSource.KEYWORD, message=stop)
    for callback in queued:
        callback()
    text = Message.objects.get(direction=Direction.OUTBOUND, contact=person)
    assert text.status == MessageStatus.BLOCKED
    assert "opted out" in text.blocked_reason
    assert person.phone not in {sms.to_number for sms in outbox}
    assert len(outbox) == 7


def test_sending_goes_in_chunks_with_the_same_statements_per_chunk(
    manager_client, account, line, monkeypatch, clock
):
    clock.set(MORNING)
    monkeypatch.setattr(services, "CHUNK_SIZE", 5)
    for index in range(20):
        ContactFactory(account=account, phone=f"+1202555{index:04d}")
    create(manager_client, line)
    broadcast = Broadcast.objects.get()
    services.broadcast_confirm(broadcast=broadcast, user=broadcast.created_by)
    counts = []
    for _ in range(4):
        with CaptureQueriesContext(connection) as queries:
            assert services._send_chunk(broadcast.pk)
        counts.append(len(queries))
        broadcast.refresh_from_db()
    assert len(set(counts)) == 1, counts
    assert broadcast.processed_count == 20
    assert not services._send_chunk(broadcast.pk)
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SENT


def test_cancelling_mid_broadcast_stops_what_has_not_gone(
    manager_client, account, line, outbox, monkeypatch, clock
):
    clock.set(MORNING)
    monkeypatch.setattr(services, "CHUNK_SIZE", 5)
    for index in range(12):
        ContactFactory(account=account, phone=f"+1202555{index:04d}")
    create(manager_client, line)
    broadcast = Broadcast.objects.get()
    services.broadcast_confirm(broadcast=broadcast, user=broadcast.created_by)
    services._send_chunk(broadcast.pk)  # five texts queued, none handed over yet
    assert manager_client.post(reverse("broadcast-cancel", args=[broadcast.pk])).status_code == 302
    assert not services._send_chunk(broadcast.pk)
    send_due_messages()
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.CANCELLED
    assert Message.objects.filter(status=MessageStatus.CANCELLED).count() == 5
    assert BroadcastRecipient.objects.filter(message__isnull=True).count() == 7
    assert outbox == []
    page = manager_client.get(reverse("broadcast", args=[broadcast.pk])).content.decode()
    assert "Cancelled" in page


def test_a_scheduled_broadcast_starts_at_its_time(
    manager_client, audience, line, outbox, clock, django_capture_on_commit_callbacks
):
    clock.set(MORNING)
    create(manager_client, line, send_at="2026-12-01T17:00")
    broadcast = Broadcast.objects.get()
    page = manager_client.get(reverse("broadcast", args=[broadcast.pk])).content.decode()
    assert "Schedule for Dec 1, 17:00" in page
    manager_client.post(reverse("broadcast-send", args=[broadcast.pk]))
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SCHEDULED
    assert run_on_commit(django_capture_on_commit_callbacks, start_due_broadcasts)["started"] == 0
    clock.set(datetime(2026, 12, 1, 17, 0, tzinfo=UTC))
    assert run_on_commit(django_capture_on_commit_callbacks, start_due_broadcasts)["started"] == 1
    assert len(outbox) == 8


def test_a_chunk_that_fails_half_way_leaves_nothing_and_is_done_whole_again(
    manager_client, audience, line, outbox, monkeypatch, clock, django_capture_on_commit_callbacks
):
    clock.set(MORNING)
    create(manager_client, line)
    broadcast = Broadcast.objects.get()
    services.broadcast_confirm(broadcast=broadcast, user=broadcast.created_by)
    real_touch = services.conversations_touch_many

    def fail(**kwargs):
        raise RuntimeError("worker lost its database")

    monkeypatch.setattr(services, "conversations_touch_many", fail)
    with pytest.raises(RuntimeError):
        services._send_chunk(broadcast.pk)
    assert not Message.objects.exists()
    monkeypatch.setattr(services, "conversations_touch_many", real_touch)
    clock.advance(timedelta(minutes=5))
    run_on_commit(django_capture_on_commit_callbacks, start_due_broadcasts)  # resumes it
    assert Message.objects.count() == 8
    assert len(outbox) == 8


def test_the_contacts_of_an_import_are_an_audience(
    admin_client, account, line, contact_import_done, clock
):
    clock.set(MORNING)
    ContactFactory(account=account, phone="+12025559999", name="Not imported")
    response = create(admin_client, line, contact_import=contact_import_done.pk)
    assert response.status_code == 302
    preview = services.broadcast_preview(Broadcast.objects.get())
    assert preview.total == contact_import_done.contacts.count() > 0
    assert not contact_import_done.contacts.filter(phone="+12025559999").exists()


@pytest.fixture
def contact_import_done(account, admin_user, line, django_capture_on_commit_callbacks):
    upload = read_upload("people.csv", b"name,phone\nAnn,+12025550301\nBob,+12025550302\n")
    created = contact_import_create(account=account, user=admin_user, uploaded=upload)
    with django_capture_on_commit_callbacks(execute=True):
        contact_import_queue(contact_import=created, mapping={"0": "name", "1": "phone"})
    created.refresh_from_db()
    assert created.contacts.count() == 2
    return created


def test_broadcasts_statuses_show_on_the_list(manager_client, audience, line):
    create(manager_client, line)
    page = manager_client.get(reverse("broadcasts")).content.decode()
    assert "December promo" in page
    assert "Draft (previewed, not sent)" in page


def test_cancelling_stops_texts_a_worker_has_claimed_but_not_handed_over(
    manager_client, audience, line, outbox, clock, monkeypatch
):
    """The cancel lands between a delivery worker's claim and its hand-over."""
    clock.set(MORNING)
    create(manager_client, line)
    broadcast = Broadcast.objects.get()
    services.broadcast_confirm(broadcast=broadcast, user=broadcast.created_by)
    services._send_chunk(broadcast.pk)
    claim = sending._claim

    def claim_then_cancel(message_ids):
        claimed = claim(message_ids)
        manager_client.post(reverse("broadcast-cancel", args=[broadcast.pk]))
        return claimed

    monkeypatch.setattr(sending, "_claim", claim_then_cancel)
    sending.deliver_many(
        list(Message.objects.filter(status=MessageStatus.QUEUED).values_list("pk", flat=True))
    )
    assert outbox == []
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.CANCELLED}


def test_texts_held_by_quiet_hours_can_be_cancelled_after_the_broadcast_went_out(
    manager_client, account, audience, line, outbox, clock, django_capture_on_commit_callbacks
):
    account.quiet_hours_enabled = True
    account.save()
    clock.set(datetime(2026, 12, 2, 3, 30, tzinfo=UTC))  # 22:30 in Washington DC
    create(manager_client, line)
    broadcast = Broadcast.objects.get()
    run_on_commit(
        django_capture_on_commit_callbacks,
        lambda: manager_client.post(reverse("broadcast-send", args=[broadcast.pk])),
    )
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SENT
    page = manager_client.get(reverse("broadcast", args=[broadcast.pk])).content.decode()
    assert "Cancel broadcast" in page
    assert manager_client.post(reverse("broadcast-cancel", args=[broadcast.pk])).status_code == 302
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.CANCELLED}
    clock.set(datetime(2026, 12, 2, 14, 0, tzinfo=UTC))
    run_on_commit(django_capture_on_commit_callbacks, send_due_messages)
    assert outbox == []


def test_a_broadcast_more_than_a_year_ahead_is_refused(manager_client, audience, line, clock):
    clock.set(MORNING)
    response = create(manager_client, line, send_at="9999-12-31T23:59")
    assert "at most a year ahead" in " ".join(response.context["form"].errors["send_at"])
