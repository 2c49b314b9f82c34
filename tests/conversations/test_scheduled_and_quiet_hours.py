"""Scheduled messages and quiet hours on the send path: deferred, never dropped; exemptions."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.models import Direction, Message, MessageStatus
from conversations.sending import (
    deliver_many,
    message_cancel,
    send_message,
)
from conversations.tasks import send_due_messages
from crm import consent
from crm.gate import Purpose
from crm.models import ConsentSource, Contact
from tests.support.factories import ContactFactory, InboundMessageFactory

# 22:30 in Washington DC (EST, UTC-5), where the contact's number (+1 202) is.
NIGHT_IN_DC = datetime(2026, 12, 2, 3, 30, tzinfo=UTC)
# 08:00 the next morning in Washington DC.
MORNING_IN_DC = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


@pytest.fixture
def quiet_account(account):
    account.quiet_hours_enabled = True
    account.save()
    return account


@pytest.fixture
def night(clock, quiet_account):
    return clock.set(NIGHT_IN_DC)


def run_due(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return send_due_messages()


def test_a_message_at_night_is_deferred_to_the_morning_not_dropped(
    night, clock, contact, line, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_message(contact=contact, line=line, body="Your order is ready")
    assert (message.status, message.scheduled_for) == (MessageStatus.SCHEDULED, MORNING_IN_DC)
    assert message.deferred_by_quiet_hours
    assert run_due(django_capture_on_commit_callbacks) == 0
    assert outbox == []
    clock.set(MORNING_IN_DC)
    assert run_due(django_capture_on_commit_callbacks) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert [sms.body for sms in outbox] == ["Your order is ready"]


@pytest.mark.parametrize(
    ("purpose", "is_reply"),
    [
        (Purpose.HELP_REPLY, True),
        (Purpose.OPT_OUT_CONFIRMATION, True),
        (Purpose.MESSAGE, True),  # a keyword responder's or opt-in reply
    ],
)
def test_replies_to_the_contact_go_whatever_the_hour(night, contact, line, purpose, is_reply):
    inbound = InboundMessageFactory(contact=contact, line=line, body="HELP")
    if purpose == Purpose.OPT_OUT_CONFIRMATION:
        consent.opt_out(contact=contact, line=line, source=ConsentSource.KEYWORD, message=inbound)
    reply = send_message(
        contact=contact, line=line, body="reply", purpose=purpose, in_reply_to=inbound
    )
    assert (reply.status, reply.quiet_hours_exempt) == (MessageStatus.QUEUED, True)


def test_an_agent_answering_within_24_hours_of_the_contacts_text_is_not_held(
    night, clock, contact, line, agent
):
    InboundMessageFactory(contact=contact, line=line, occurred_at=NIGHT_IN_DC - timedelta(hours=23))
    answer = send_message(contact=contact, line=line, body="On our way", sent_by=agent)
    assert answer.status == MessageStatus.QUEUED


def test_an_agent_writing_first_at_night_is_deferred(night, contact, line, agent):
    InboundMessageFactory(contact=contact, line=line, occurred_at=NIGHT_IN_DC - timedelta(hours=25))
    message = send_message(contact=contact, line=line, body="Hello", sent_by=agent)
    assert (message.status, message.scheduled_for) == (MessageStatus.SCHEDULED, MORNING_IN_DC)


def test_a_message_scheduled_for_the_night_moves_to_the_morning(
    clock, quiet_account, contact, line
):
    clock.set(datetime(2026, 12, 1, 18, 0, tzinfo=UTC))
    message = send_message(contact=contact, line=line, body="x", send_at=NIGHT_IN_DC)
    assert (message.scheduled_for, message.deferred_by_quiet_hours) == (MORNING_IN_DC, True)


def test_a_scheduled_message_waits_and_goes_at_its_time(
    clock, contact, line, outbox, django_capture_on_commit_callbacks
):
    start = clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    message = send_message(
        contact=contact, line=line, body="Reminder", send_at=start + timedelta(hours=2)
    )
    assert (message.status, message.deferred_by_quiet_hours) == (MessageStatus.SCHEDULED, False)
    clock.advance(timedelta(hours=1, minutes=59))
    assert run_due(django_capture_on_commit_callbacks) == 0
    clock.advance(timedelta(minutes=1))
    assert run_due(django_capture_on_commit_callbacks) == 1
    assert [sms.body for sms in outbox] == ["Reminder"]


def test_a_scheduled_message_passes_the_gate_when_it_goes(
    clock, contact, line, outbox, django_capture_on_commit_callbacks
):
    start = clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    message = send_message(
        contact=contact, line=line, body="Reminder", send_at=start + timedelta(hours=1)
    )
    inbound = InboundMessageFactory(contact=contact, line=line, body="STOP")
    consent.opt_out(contact=contact, line=line, source=ConsentSource.KEYWORD, message=inbound)
    clock.advance(timedelta(hours=1))
    run_due(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == MessageStatus.BLOCKED
    assert "opted out" in message.blocked_reason
    assert outbox == []


def test_a_queue_that_runs_late_into_the_night_defers_again(
    clock, quiet_account, contact, line, outbox
):
    clock.set(NIGHT_IN_DC - timedelta(hours=2))  # 20:30 in DC
    message = send_message(contact=contact, line=line, body="late")
    assert message.status == MessageStatus.QUEUED
    clock.set(NIGHT_IN_DC)
    deliver_many([message.pk])
    message.refresh_from_db()
    assert (message.status, message.scheduled_for) == (MessageStatus.SCHEDULED, MORNING_IN_DC)
    assert outbox == []


def test_cancelling_a_scheduled_message(clock, contact, line, agent, outbox):
    start = clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    message = send_message(contact=contact, line=line, body="x", send_at=start + timedelta(hours=1))
    cancelled = message_cancel(message=message, user=agent)
    assert (cancelled.status, cancelled.cancelled_by) == (MessageStatus.CANCELLED, agent)
    clock.advance(timedelta(hours=2))
    assert send_due_messages() == 0
    with pytest.raises(ValidationError, match="Only a scheduled message"):
        message_cancel(message=message, user=agent)


def test_delivering_many_takes_the_same_statements_for_25_or_50_messages(account, line, outbox):
    def queued(count: int) -> list[int]:
        contacts = [ContactFactory(account=account) for _ in range(count)]
        return [
            Message.objects.create(
                line=line,
                contact=contact,
                remote_number=contact.phone,
                direction=Direction.OUTBOUND,
                body="hi",
                status=MessageStatus.QUEUED,
                occurred_at=line.created_at,
            ).pk
            for contact in contacts
        ]

    def statements(ids: list[int]) -> int:
        with CaptureQueriesContext(connection) as queries:
            deliver_many(ids)
        return len(queries)

    statements(queued(1))  # loads the configuration kept in memory (core.config_cache)
    small, large = statements(queued(25)), statements(queued(50))
    assert large == 2 * small
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 76
    assert len(outbox) == 76
    assert Contact.objects.count() == 76


def test_an_agents_message_scheduled_for_a_later_night_is_held_like_any_other(
    clock, quiet_account, contact, line, agent, outbox, django_capture_on_commit_callbacks
):
    """The 24-hour exemption counts from when the message goes, not from when it is typed."""
    clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))  # 10:00 in DC
    InboundMessageFactory(contact=contact, line=line, occurred_at=clock.now)
    night = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)  # 03:00 in DC, two days later
    message = send_message(contact=contact, line=line, body="late", sent_by=agent, send_at=night)
    assert (message.scheduled_for, message.deferred_by_quiet_hours) == (
        datetime(2026, 12, 3, 13, 0, tzinfo=UTC),
        True,
    )
    clock.set(night)
    assert run_due(django_capture_on_commit_callbacks) == 0
    assert outbox == []


def test_a_time_more_than_a_year_ahead_is_refused(clock, quiet_account, contact, line):
    clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    with pytest.raises(ValidationError, match="at most a year ahead"):
        send_message(
            contact=contact, line=line, body="x", send_at=datetime(9999, 12, 31, tzinfo=UTC)
        )
    assert not Message.objects.exists()


def test_a_group_sees_an_opt_out_recorded_by_its_own_21610(
    account, line, second_line, contact, outbox, settings
):
    """A provider refusal that opts the contact out (on every line, with scope account) stops
    the group's next text to the same contact."""
    account.opt_out_scope = "account"
    account.save()
    settings.SMS_BACKEND = f"{__name__}.UnsubscribedOnce"
    UnsubscribedOnce.refused = False
    texts = [
        Message.objects.create(
            line=chosen,
            contact=contact,
            remote_number=contact.phone,
            direction=Direction.OUTBOUND,
            body="hi",
            status=MessageStatus.QUEUED,
            occurred_at=line.created_at,
        )
        for chosen in (line, second_line)
    ]
    deliver_many([text.pk for text in texts])
    first, second = (Message.objects.get(pk=text.pk) for text in texts)
    assert (first.status, first.error_code) == (MessageStatus.FAILED, "21610")
    assert second.status == MessageStatus.BLOCKED


class UnsubscribedOnce:
    refused = False

    def send(self, sms):
        from conversations.backends import ProviderRejected

        if not UnsubscribedOnce.refused:
            UnsubscribedOnce.refused = True
            raise ProviderRejected("21610", "Attempt to send to unsubscribed recipient")
        return "SM" + "0" * 32
