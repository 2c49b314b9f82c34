"""Set-based writes: each row gets its own values, defaults and ids as the ORM would give."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction

from conversations.models import Direction, Message, MessageStatus
from core.bulk_sql import insert_rows, insert_unless_conflict, update_row, update_rows
from crm.models import Contact
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


def test_one_row_is_updated_as_save_with_update_fields_would(account, line):
    contact = ContactFactory(account=account)
    message, other = outbound(line, contact, "first"), outbound(line, contact, "second")
    insert_rows([message, other])
    stamped = Message.objects.get(pk=message.pk).updated_at
    message.status, message.body = MessageStatus.SENT, "not saved"
    assert update_row(message, ["status", "updated_at"]) == 1
    row = Message.objects.get(pk=message.pk)
    assert (row.status, row.body) == (MessageStatus.SENT, "first")
    assert row.updated_at > stamped
    assert Message.objects.get(pk=other.pk).status == MessageStatus.QUEUED


def test_a_row_that_would_break_a_unique_constraint_is_skipped_not_raised(account):
    first = Contact(account=account, phone="+12025550181", name="First")
    assert insert_unless_conflict(first, ["account", "phone"]) is True
    assert first.pk is not None
    with transaction.atomic():
        again = Contact(account=account, phone="+12025550181", name="Second")
        assert insert_unless_conflict(again, ["account", "phone"]) is False
        assert again.pk is None
        # The transaction is still usable: nothing raised inside it.
        assert Contact.objects.filter(account=account).count() == 1
    assert Contact.objects.get(pk=first.pk).name == "First"


@pytest.mark.postgres
def test_a_clash_on_another_constraint_still_raises(account):
    """Only the named constraint is skipped: an id sequence left behind (a restore, say) is
    an error, not a contact silently not added."""
    first = Contact(account=account, phone="+12025550182")
    assert insert_unless_conflict(first, ["account", "phone"]) is True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('crm_contact', 'id'), %s)", [first.pk - 1]
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_unless_conflict(Contact(account=account, phone="+12025550183"), ["account", "phone"])
