"""What processing does with each kind of inbound message, through the signed webhook."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from capacity_sms.celery import app
from conversations.inbound import MAX_REQUEUES, process_inbound, receive_inbound
from conversations.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    Purpose,
)
from conversations.sending import SendBlocked, send_message
from conversations.tasks import process_inbound_message, sweep_pending_messages
from core import queueing
from crm.models import (
    Consent,
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    Contact,
    RevocationPolicy,
)
from keywords.models import Action
from tests.support.celery_broker import use_broker
from tests.support.factories import ConversationFactory, ResponderFactory, inbound_message
from tests.support.stuck_servers import refusing_url
from tests.support.webhook_client import inbound_params

pytestmark = pytest.mark.usefixtures("signed_account")
SENDER = "+12025550143"


def status_on(line):
    consent = Consent.objects.filter(contact__phone=SENDER, line=line).first()
    return consent.status if consent else None


def replies():
    return list(Message.objects.filter(direction=Direction.OUTBOUND).order_by("pk"))


def text(client, deliver, line, body, **extra):
    assert deliver(client, inbound_params(line, body=body, **extra)).status_code == 200
    return Message.objects.filter(direction=Direction.INBOUND).latest("pk")


def test_start_opts_in_and_confirms(client, deliver, line, outbox):
    message = text(client, deliver, line, "Start")
    assert status_on(line) == ConsentStatus.OPTED_IN
    assert message.decision == "Built-in keyword START: opted in"
    assert outbox[0].body.startswith("You are subscribed to Acme Plumbing messages.")


def test_repeated_stop_records_the_event_but_confirms_once(client, deliver, line, outbox):
    text(client, deliver, line, "STOP")
    second = text(client, deliver, line, "stop.")
    assert ConsentEvent.objects.count() == 2
    assert second.decision == "Built-in keyword STOP: opted out (no change)"
    assert len(outbox) == 1


def test_help_is_answered_even_when_opted_out(client, deliver, line, outbox):
    text(client, deliver, line, "STOP")
    text(client, deliver, line, "help")
    assert [sms.body for sms in outbox][-1] == (
        "Acme Plumbing: for help contact help@acme.example. Msg&data rates may apply. "
        "Reply STOP to unsubscribe."
    )
    assert replies()[-1].purpose == Purpose.HELP_REPLY
    assert status_on(line) == ConsentStatus.OPTED_OUT


def test_an_ordinary_message_never_lifts_an_opt_out(client, deliver, line, outbox):
    text(client, deliver, line, "STOP")
    message = text(client, deliver, line, "Yes please send the quote")
    assert status_on(line) == ConsentStatus.OPTED_OUT
    assert message.decision == "No keyword or revocation phrase"
    assert len(outbox) == 1


def test_line_bound_responder_wins_over_all_lines_one(client, deliver, account, line, second_line):
    everywhere = ResponderFactory(
        account=account,
        name="Join all",
        keywords=["JOIN"],
        action=Action.OPT_IN,
        reply="Joined everywhere",
    )
    on_sales = ResponderFactory(
        account=account,
        name="Join sales",
        keywords=["join"],
        action=Action.OPT_IN,
        reply="Joined Sales",
    )
    on_sales.lines.set([line])
    text(client, deliver, line, "Join!")
    text(client, deliver, second_line, "JOIN")
    events = {e.line_id: e.responder for e in ConsentEvent.objects.all()}
    assert events == {line.pk: on_sales, second_line.pk: everywhere}
    assert [m.body for m in replies()] == ["Joined Sales", "Joined everywhere"]


def test_a_responder_on_a_builtin_word_supplies_the_reply_and_inactive_ones_are_ignored(
    client, deliver, account, line
):
    ResponderFactory(
        account=account,
        name="Hours",
        keywords=["INFO"],
        action=Action.REPLY,
        reply="Open 8-6",
    )
    ResponderFactory(
        account=account,
        name="Old",
        keywords=["HOURS"],
        action=Action.REPLY,
        reply="stale",
        is_active=False,
    )
    text(client, deliver, line, "info")
    text(client, deliver, line, "hours")
    assert [m.body for m in replies()] == ["Open 8-6"]
    assert not ConsentEvent.objects.exists()


def test_responder_opt_out_with_empty_reply_uses_the_account_confirmation(
    client, deliver, account, line
):
    ResponderFactory(account=account, name="Enough", keywords=["ENOUGH"], action=Action.OPT_OUT)
    text(client, deliver, line, "enough")
    assert status_on(line) == ConsentStatus.OPTED_OUT
    [reply] = replies()
    assert reply.purpose == Purpose.OPT_OUT_CONFIRMATION
    assert reply.body.startswith("You have been unsubscribed from Acme Plumbing")


def test_revocation_phrase_opts_out_by_default(client, deliver, line):
    message = text(client, deliver, line, "Please stop texting me")
    assert status_on(line) == ConsentStatus.OPTED_OUT
    assert ConsentEvent.objects.get().source == ConsentSource.PHRASE
    assert message.decision.startswith("Revocation phrase (asks to stop being texted)")


def test_revocation_phrase_can_flag_for_review_instead(client, deliver, account, line):
    account.revocation_policy = RevocationPolicy.FLAG
    account.save()
    message = text(client, deliver, line, "remove me from your list")
    assert status_on(line) is None
    conversation = Conversation.objects.get(contact__phone=SENDER, line=line)
    assert conversation.flagged_message == message
    assert replies() == []


def test_carrier_signal_opts_out_without_a_reply_of_ours(client, deliver, line):
    text(client, deliver, line, "anything at all", OptOutType="stop")
    event = ConsentEvent.objects.get()
    assert (event.source, event.keyword, event.status) == (
        ConsentSource.CARRIER_SIGNAL,
        "STOP",
        ConsentStatus.OPTED_OUT,
    )
    assert replies() == []


def test_inbound_reopens_a_closed_conversation(client, deliver, line, account):
    contact = Contact.objects.create(account=account, phone=SENDER)
    ConversationFactory(
        account=account, contact=contact, line=line, status=ConversationStatus.CLOSED
    )
    text(client, deliver, line, "Hello again")
    assert Conversation.objects.get().status == ConversationStatus.OPEN


def test_an_agent_send_after_stop_is_blocked(client, deliver, line, agent):
    text(client, deliver, line, "STOP")
    contact = Contact.objects.get(phone=SENDER)
    with pytest.raises(SendBlocked):
        send_message(contact=contact, line=line, body="Sale!", sent_by=agent)


def test_processing_twice_changes_nothing_the_second_time(client, deliver, line, outbox):
    message = text(client, deliver, line, "STOP")
    assert process_inbound(message.pk) is None
    assert ConsentEvent.objects.count() == 1
    assert len(outbox) == 1


def test_the_sweep_processes_messages_left_unqueued(line, outbox):
    message, created = receive_inbound(
        line=line, provider_message_id="SMswept", from_number=SENDER, body="STOP"
    )
    assert created
    assert message.status == MessageStatus.RECEIVED  # the queueing never ran: broker down
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    assert sweep_pending_messages() == {"inbound": 1, "outbound": 0, "unconfirmed": 0}
    message.refresh_from_db()
    assert message.status == MessageStatus.PROCESSED
    assert status_on(line) == ConsentStatus.OPTED_OUT
    assert sweep_pending_messages() == {"inbound": 0, "outbound": 0, "unconfirmed": 0}


def test_a_message_that_keeps_failing_is_given_up_after_ten_sweeps_and_logged(
    line, monkeypatch, caplog
):
    message, _ = receive_inbound(
        line=line, provider_message_id="SMpoison", from_number=SENDER, body="STOP"
    )
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=2))

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("conversations.inbound.decide_for_line", broken)
    attempts = 0
    for _ in range(MAX_REQUEUES + 3):
        try:
            attempts += sweep_pending_messages()["inbound"]
        except RuntimeError:  # eager tasks raise here; a worker would log and go on
            attempts += 1
    assert attempts == MAX_REQUEUES
    message.refresh_from_db()
    assert (message.status, message.times_requeued) == (MessageStatus.RECEIVED, MAX_REQUEUES)
    assert f"Inbound messages [{message.pk}] queued for the last time" in caplog.text

    monkeypatch.undo()  # fixed: a person queues it once more
    process_inbound_message.delay(message.pk)
    assert status_on(line) == ConsentStatus.OPTED_OUT


def test_processing_query_count_does_not_grow_with_history(client, deliver, line):
    def queries_for(body):
        with CaptureQueriesContext(connection) as queries:
            text(client, deliver, line, body)
        return len(queries)

    text(client, deliver, line, "START")
    first = queries_for("STOP")
    for _ in range(20):
        text(client, deliver, line, "more history")
        text(client, deliver, line, "START")
    assert queries_for("STOP") == first


@pytest.mark.parametrize(
    ("body", "extra", "decision"),
    [
        ("help", {}, "Built-in keyword HELP: replied"),
        ("anything", {"OptOutType": "HELP"}, "Carrier signal HELP: no reply of ours"),
        ("hello there", {}, "No keyword or revocation phrase"),
    ],
)
def test_the_decision_is_recorded_for_people(client, deliver, line, body, extra, decision):
    assert text(client, deliver, line, body, **extra).decision == decision


def test_a_responder_can_never_take_stop_away(client, deliver, account, line):
    ResponderFactory(
        account=account,
        name="Misconfigured",
        keywords=["STOP"],
        action=Action.REPLY,
        reply="Thanks for your message!",
    )
    message = text(client, deliver, line, "Stop")
    assert status_on(line) == ConsentStatus.OPTED_OUT
    assert message.decision.startswith("Built-in keyword STOP (reply of responder “Misconfigured”)")
    [reply] = replies()
    assert (reply.body, reply.purpose) == ("Thanks for your message!", Purpose.OPT_OUT_CONFIRMATION)


def test_a_responder_with_malformed_keywords_never_breaks_processing(
    client, deliver, account, line
):
    ResponderFactory(
        account=account, name="Broken", keywords={"not": "a list"}, action=Action.OPT_IN
    )
    ResponderFactory(account=account, name="Mixed", keywords=[5, "JOIN"], action=Action.OPT_IN)
    text(client, deliver, line, "STOP")
    assert status_on(line) == ConsentStatus.OPTED_OUT
    text(client, deliver, line, "join")
    assert status_on(line) == ConsentStatus.OPTED_IN


def test_a_reply_that_cannot_be_sent_never_undoes_the_opt_out(client, deliver, account, line):
    account.opt_out_reply = "x" * 1601  # longer than any text can be
    account.save()
    message = text(client, deliver, line, "STOP")
    assert status_on(line) == ConsentStatus.OPTED_OUT
    assert message.status == MessageStatus.PROCESSED
    assert replies() == []


def test_a_confirmation_too_late_to_send_is_kept_as_blocked(line, outbox):
    message, _ = receive_inbound(
        line=line,
        provider_message_id="SMlate",
        from_number=SENDER,
        body="STOP",
        occurred_at=timezone.now() - timedelta(minutes=10),  # processed after a long outage
    )
    process_inbound(message.pk)
    assert status_on(line) == ConsentStatus.OPTED_OUT
    [reply] = replies()
    assert (reply.status, reply.in_reply_to) == (MessageStatus.BLOCKED, message)
    assert "opted out" in reply.blocked_reason
    assert outbox == []


def test_a_sweep_the_broker_refuses_uses_up_no_attempts(line, contact, monkeypatch):
    message = inbound_message(contact, line, "STOP")
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.RECEIVED, created_at=timezone.now() - timedelta(minutes=5)
    )
    original = app.conf.broker_url
    use_broker(refusing_url(), eager=False)
    try:
        assert sweep_pending_messages()["inbound"] == 0
    finally:
        use_broker(original, eager=True)
    message.refresh_from_db()
    assert (message.status, message.times_requeued) == (MessageStatus.RECEIVED, 0)
    monkeypatch.setattr(queueing, "_paused_until", 0.0)  # the next sweep, ten seconds on
    assert sweep_pending_messages()["inbound"] == 1  # the broker is back: queued and counted
    message.refresh_from_db()
    assert message.times_requeued == 1
