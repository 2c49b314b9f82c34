"""Set-based writes: each row gets its own values, defaults and ids as the ORM would give."""

from datetime import UTC, datetime

from conversations.models import Direction, Message, MessageStatus
from core.bulk_sql import insert_rows, update_rows
from tests.support.factories import ContactFactory


def outbound(line, contact, body="hi") -> Message:
    return Message(
        line=line,
        contact=contact,
        remote_number=contact.phone,
        direction=Direction.OUTBOUND,
        body=body,
        status=MessageStatus.QUEUED,
        occurred_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


def test_inserted_rows_get_their_ids_and_defaults(account, line):
    contacts = [ContactFactory(account=account) for _ in range(3)]
    messages = [outbound(line, contact, f"text {n}") for n, contact in enumerate(contacts)]
    insert_rows(messages)
    stored = {message.pk: message for message in Message.objects.all()}
    assert set(stored) == {message.pk for message in messages}
    for message in messages:
        row = stored[message.pk]
        assert (row.body, row.contact_id, row.times_requeued) == (
            message.body,
            message.contact_id,
            0,
        )
        assert row.created_at is not None
        assert row.purpose == "message"


def test_each_row_is_updated_to_its_own_values(account, line):
    contacts = [ContactFactory(account=account) for _ in range(3)]
    messages = [outbound(line, contact) for contact in contacts]
    insert_rows(messages)
    later = datetime(2026, 12, 2, 8, tzinfo=UTC)
    changed = update_rows(
        Message,
        ["status", "scheduled_for", "deferred_by_quiet_hours", "blocked_reason"],
        [
            (messages[0].pk, MessageStatus.SCHEDULED, later, True, ""),
            (messages[1].pk, MessageStatus.BLOCKED, None, False, "Not sent: opted out."),
        ],
    )
    assert changed == 2
    first, second, third = (Message.objects.get(pk=message.pk) for message in messages)
    assert (first.status, first.scheduled_for, first.deferred_by_quiet_hours) == (
        MessageStatus.SCHEDULED,
        later,
        True,
    )
    assert (second.status, second.blocked_reason) == (MessageStatus.BLOCKED, "Not sent: opted out.")
    assert third.status == MessageStatus.QUEUED
    assert update_rows(Message, ["status"], []) == 0
