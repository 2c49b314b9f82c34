from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from broadcasts.models import Broadcast, BroadcastStatus
from conversations.models import Conversation, Direction, Message, MessageStatus
from conversations.sending import send_message
from crm.gate import Purpose
from crm.models import (
    Account,
    Consent,
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    Contact,
    Line,
)
from demo import beat
from keywords.models import KeywordResponder

pytestmark = pytest.mark.sweep  # long: CI runs it, an everyday run may not

MODELS = (
    Account,
    Line,
    Contact,
    Consent,
    ConsentEvent,
    Conversation,
    Message,
    KeywordResponder,
    Broadcast,
)


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_demo_runs_twice_without_duplicates_and_covers_every_state(db, client, capsys):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first
    output = capsys.readouterr().out
    assert "password demo-password" in output
    assert "staff" in output

    assert first["Line"] == 3
    assert first["Contact"] >= 200
    statuses = set(Consent.objects.values_list("status", flat=True))
    assert statuses == {ConsentStatus.OPTED_IN, ConsentStatus.OPTED_OUT}
    pairs = first["Contact"] * first["Line"]
    assert first["Consent"] < pairs  # some contacts are Not Defined on some lines
    changes_per_pair = ConsentEvent.objects.values("contact", "line").annotate(n=Count("id"))
    assert changes_per_pair.filter(n__gte=3).exists()
    sources = set(ConsentEvent.objects.values_list("source", flat=True))
    assert {ConsentSource.KEYWORD, ConsentSource.AGENT, ConsentSource.IMPORT} <= sources

    now = timezone.now()
    assert set(Broadcast.objects.values_list("status", flat=True)) == {
        BroadcastStatus.SENT,
        BroadcastStatus.SCHEDULED,
    }
    sent = Broadcast.objects.get(status=BroadcastStatus.SENT)
    assert sent.recipient_count == sent.processed_count > 0
    # What quiet hours held back went when it was due, as beat would have sent it.
    assert not Message.objects.filter(status=MessageStatus.SCHEDULED, scheduled_for__lte=now)
    assert not ConsentEvent.objects.filter(occurred_at__gt=now).exists()
    assert not Message.objects.filter(occurred_at__gt=now).exists()

    opted_out = Consent.objects.filter(status=ConsentStatus.OPTED_OUT)
    assert opted_out.count() > 50
    for pair in opted_out:
        after = Message.objects.filter(
            contact=pair.contact_id,
            line=pair.line_id,
            direction=Direction.OUTBOUND,
            created_at__gt=pair.since,
        )
        texted = after.exclude(status=MessageStatus.BLOCKED)
        assert set(texted.values_list("purpose", flat=True)) <= {Purpose.OPT_OUT_CONFIRMATION}
        assert texted.count() <= 1
    blocked = Message.objects.filter(status=MessageStatus.BLOCKED, purpose=Purpose.MESSAGE)
    assert blocked.exists()  # the front desk answered someone who had opted out: refused
    assert all("opted out" in message.blocked_reason for message in blocked)
    assert not Message.objects.filter(
        direction=Direction.INBOUND, status=MessageStatus.RECEIVED
    ).exists()
    keyword_events = ConsentEvent.objects.filter(source=ConsentSource.KEYWORD)
    assert all(event.message.occurred_at == event.occurred_at for event in keyword_events)

    call_command("verify_consent_log")  # raises if any hash, link or anchor does not match
    assert "Bayside Dental: " in capsys.readouterr().out
    # Played in time order, the demo never texts anyone opted out at the moment of the text.
    assert client.login(username="manager", password="demo-password")
    today = timezone.localtime(now, ZoneInfo(Account.objects.get().time_zone)).date()
    since = today - timedelta(days=200)
    audit = client.get(reverse("compliance"), {"start": since, "end": today})
    assert audit.context["reached_count"] == 0
    assert audit.context["late_or_missing"] == 0
    assert audit.context["verdicts"]["on_time"] > 50

    assert client.login(username="staff", password="demo-password")
    for model in ("line", "contact", "consent", "consentevent"):
        assert client.get(reverse(f"admin:crm_{model}_changelist")).status_code == 200
    assert b"Front Desk" in client.get(reverse("admin:crm_line_changelist")).content
    assert client.login(username="agent", password="demo-password")
    assert b"Reminders" in client.get(reverse("home")).content


def test_the_demo_beat_runs_every_periodic_task_and_sends_what_is_due(
    contact, line, outbox, clock, monkeypatch
):
    # The beat thread closes its stale connections; here the test's transaction holds the one.
    monkeypatch.setattr(beat, "close_old_connections", lambda: None)
    start = clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    message = send_message(
        contact=contact, line=line, body="Later", send_at=start + timedelta(hours=1)
    )
    clock.advance(timedelta(hours=1))
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        beat._call(entry["task"])
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert [sms.body for sms in outbox] == ["Later"]
