import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from conversations import sending
from conversations.backends import ProviderRejected, ProviderUnavailable
from conversations.backends.base import OutgoingSms, ProviderOutcomeUnknown
from conversations.backends.locmem import LocmemBackend
from conversations.models import Conversation, Message, MessageStatus, Purpose
from conversations.sending import SendBlocked, send_message
from conversations.tasks import deliver_message, sweep_pending_messages
from crm import consent
from crm.models import ConsentPolicy, ConsentSource, ConsentStatus
from tests.support.factories import ConversationFactory, SentMessageFactory, staff_consent


def opt_in(contact, line, when=None):
    return consent.opt_in(
        contact=contact, line=line, source=ConsentSource.IMPORT, note="old.csv", occurred_at=when
    )


def test_message_to_not_defined_contact_is_sent_through_the_backend(
    contact, line, agent, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_message(
            contact=contact, line=line, body="Your quote is ready", sent_by=agent
        )
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.provider_message_id)
    assert outbox == [
        OutgoingSms(
            from_number=line.number,
            to_number=contact.phone,
            body="Your quote is ready",
            reference=str(message.pk),
        )
    ]
    assert (
        Conversation.objects.get(contact=contact, line=line).last_message_at == message.occurred_at
    )


def test_opted_out_contact_is_blocked_stored_and_never_sent(
    contact, line, agent, outbox, django_capture_on_commit_callbacks
):
    staff_consent(contact, line, ConsentStatus.OPTED_OUT, agent)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(SendBlocked) as blocked:
        send_message(contact=contact, line=line, body="Sale today!", sent_by=agent)
    stored = Message.objects.get()
    assert blocked.value.message == stored
    assert stored.status == MessageStatus.BLOCKED
    assert stored.blocked_reason.startswith("Not sent: the contact opted out of Sales")
    assert blocked.value.reason == stored.blocked_reason
    assert outbox == []


def test_opt_out_on_one_line_does_not_block_another(
    contact, line, second_line, agent, outbox, django_capture_on_commit_callbacks
):
    staff_consent(contact, line, ConsentStatus.OPTED_OUT, agent)
    with django_capture_on_commit_callbacks(execute=True):
        send_message(contact=contact, line=second_line, body="Support reply")
    assert [sms.from_number for sms in outbox] == [second_line.number]


def test_require_opt_in_line_blocks_not_defined_and_allows_opted_in(
    contact, line, account, outbox, django_capture_on_commit_callbacks
):
    line.consent_policy = ConsentPolicy.REQUIRE_OPT_IN
    line.save()
    with pytest.raises(SendBlocked, match="requires opt-in"):
        send_message(contact=contact, line=line, body="Hello")
    opt_in(contact, line)
    with django_capture_on_commit_callbacks(execute=True):
        send_message(contact=contact, line=line, body="Hello again")
    assert [sms.body for sms in outbox] == ["Hello again"]


def test_worker_rechecks_and_blocks_a_contact_who_opted_out_after_queueing(
    contact, line, agent, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        message = send_message(contact=contact, line=line, body="Queued before the STOP")
    assert message.status == MessageStatus.QUEUED
    staff_consent(contact, line, ConsentStatus.OPTED_OUT, agent)
    for callback in queued:
        callback()
    message.refresh_from_db()
    assert message.status == MessageStatus.BLOCKED
    assert "opted out" in message.blocked_reason
    assert outbox == []


def test_delivering_twice_sends_once(contact, line, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_message(contact=contact, line=line, body="Once")
    sending.deliver(message.pk)
    assert len(outbox) == 1


def test_help_reply_passes_an_opt_out(
    contact, line, agent, outbox, django_capture_on_commit_callbacks
):
    staff_consent(contact, line, ConsentStatus.OPTED_OUT, agent)
    with django_capture_on_commit_callbacks(execute=True):
        send_message(contact=contact, line=line, body="Help text", purpose=Purpose.HELP_REPLY)
    assert [sms.body for sms in outbox] == ["Help text"]


def test_opt_out_confirmation_passes_once_and_only_just_after_the_opt_out(
    contact, line, second_line, agent, outbox, django_capture_on_commit_callbacks
):
    staff_consent(contact, line, ConsentStatus.OPTED_OUT, agent)
    confirm = {"body": "You are unsubscribed", "purpose": Purpose.OPT_OUT_CONFIRMATION}
    with django_capture_on_commit_callbacks(execute=True):
        send_message(contact=contact, line=line, **confirm)
    assert len(outbox) == 1
    with pytest.raises(SendBlocked, match="already sent"):
        send_message(contact=contact, line=line, **confirm)
    staff_consent(
        contact,
        second_line,
        ConsentStatus.OPTED_OUT,
        agent,
        at=timezone.now() - timedelta(minutes=6),
    )
    with pytest.raises(SendBlocked, match="opted out"):
        send_message(contact=contact, line=second_line, **confirm)
    assert len(outbox) == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [("   ", "Type a message"), ("x" * 1601, "at most 1,600 characters")],
)
def test_bad_bodies_are_refused_before_anything_is_stored(contact, line, body, error):
    with pytest.raises(ValidationError, match=error):
        send_message(contact=contact, line=line, body=body)
    assert not Message.objects.exists()


def test_contact_of_another_account_is_refused(other_contact, line):
    with pytest.raises(ValidationError, match="different accounts"):
        send_message(contact=other_contact, line=line, body="hi")


def assert_refused_and_opted_out(message, contact) -> None:
    """The message failed with 21610 and opted the contact out, the message its evidence."""
    message.refresh_from_db()
    assert (message.status, message.error_code) == (MessageStatus.FAILED, "21610")
    event = contact.consent_events.get()
    assert (event.status, event.source, event.message) == (
        ConsentStatus.OPTED_OUT,
        ConsentSource.PROVIDER_ERROR,
        message,
    )


class RejectingBackend:
    def send(self, sms):
        raise ProviderRejected("21610", "Attempt to send to unsubscribed recipient")


def test_provider_unsubscribed_error_records_an_opt_out(
    contact, line, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = f"{__name__}.RejectingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        message = send_message(contact=contact, line=line, body="hi")
    assert_refused_and_opted_out(message, contact)


def test_a_refusal_whose_opt_out_cannot_be_written_is_retried_not_half_kept(
    contact, line, settings, monkeypatch
):
    settings.SMS_BACKEND = f"{__name__}.RejectingBackend"
    message = SentMessageFactory(
        contact=contact, line=line, status=MessageStatus.QUEUED, provider_message_id=""
    )
    real_opt_out, failures = consent.opt_out, [OperationalError("could not extend file")]

    def opt_out_failing_once(**kwargs):
        if failures:
            raise failures.pop()
        return real_opt_out(**kwargs)

    monkeypatch.setattr(consent, "opt_out", opt_out_failing_once)
    with pytest.raises(sending.RefusalNotRecorded):
        sending.deliver(message.pk)
    message.refresh_from_db()
    # Not FAILED without its opt-out: back in the queue, as if the provider was never asked.
    assert (message.status, message.error_code) == (MessageStatus.QUEUED, "")
    assert not contact.consent_events.exists()

    deliver_message.delay(message.pk)  # the task's retry; the provider refuses again
    assert_refused_and_opted_out(message, contact)


def test_a_refusal_that_cannot_be_recorded_for_a_lasting_reason_is_not_retried_forever(
    contact, line, settings, monkeypatch, caplog
):
    """A bug is not a passing failure: the message ends unconfirmed instead of going back to
    the queue (and holding up its group) on every retry."""
    settings.SMS_BACKEND = f"{__name__}.RejectingBackend"
    first, later = (
        SentMessageFactory(
            contact=contact, line=line, status=MessageStatus.QUEUED, provider_message_id=""
        )
        for _ in range(2)
    )

    def broken_opt_out(**kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(consent, "opt_out", broken_opt_out)
    with pytest.raises(ValueError, match="a bug"):
        sending.deliver_many([first.pk, later.pk])
    assert f"Refusal of message {first.pk}" in caplog.text
    first.refresh_from_db()
    later.refresh_from_db()
    assert first.status == MessageStatus.SENDING  # the sweep fails it as unconfirmed
    assert later.status == MessageStatus.QUEUED  # the rest of the group goes again
    Message.objects.filter(pk=first.pk).update(updated_at=timezone.now() - timedelta(minutes=11))
    assert sweep_pending_messages()["unconfirmed"] == 1


def test_a_refusal_not_recorded_is_retried_by_the_task():
    assert issubclass(sending.RefusalNotRecorded, deliver_message.autoretry_for)


def test_stalled_queued_messages_are_queued_again(contact, line, outbox):
    message = SentMessageFactory(
        contact=contact, line=line, status=MessageStatus.QUEUED, provider_message_id=""
    )
    Message.objects.filter(pk=message.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert sweep_pending_messages() == {"inbound": 0, "outbound": 1, "unconfirmed": 0}
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(outbox) == 1


class FlakyProvider:
    """Fails once with `error`, then sends like the in-memory backend."""

    failures: list[Exception] = []

    def send(self, sms):
        if FlakyProvider.failures:
            raise FlakyProvider.failures.pop()
        return LocmemBackend().send(sms)


@pytest.fixture
def flaky_provider(settings):
    settings.SMS_BACKEND = f"{__name__}.FlakyProvider"
    yield FlakyProvider.failures
    FlakyProvider.failures.clear()


def test_a_provider_outage_puts_the_message_back_in_the_queue_to_retry(
    contact, line, outbox, flaky_provider
):
    message = SentMessageFactory(
        contact=contact, line=line, status=MessageStatus.QUEUED, provider_message_id=""
    )
    flaky_provider.append(ProviderUnavailable("503"))
    with pytest.raises(ProviderUnavailable):
        sending.deliver(message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    sending.deliver(message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(outbox) == 1


def test_a_send_of_unknown_outcome_is_never_sent_again_and_ends_failed_unconfirmed(
    client, agent, contact, line, outbox, flaky_provider
):
    message = SentMessageFactory(
        contact=contact, line=line, status=MessageStatus.QUEUED, provider_message_id=""
    )
    flaky_provider.append(ProviderOutcomeUnknown("read timed out"))
    with pytest.raises(ProviderOutcomeUnknown):
        sending.deliver(message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENDING
    sending.deliver(message.pk)  # the task run again, or a duplicate: the message is taken
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert sweep_pending_messages() == {"inbound": 0, "outbound": 0, "unconfirmed": 0}
    assert outbox == []

    Message.objects.filter(pk=message.pk).update(updated_at=timezone.now() - timedelta(minutes=11))
    assert sweep_pending_messages()["unconfirmed"] == 1
    message.refresh_from_db()
    assert (message.status, message.error_code) == (MessageStatus.FAILED, "unconfirmed")
    assert outbox == []
    client.force_login(agent)
    conversation = ConversationFactory(account=line.account, contact=contact, line=line)
    page = client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert "may not have reached the contact" in page
