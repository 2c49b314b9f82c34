"""Opt-out scope `account` (the FCC's revoke-all reading): one opt-out stops every line."""

import pytest
from django.urls import reverse

from conversations.models import Direction, Message, MessageStatus
from conversations.services import conversation_record_consent
from crm.models import ConsentEvent, ConsentSource, ConsentStatus, Contact, Line, OptOutScope
from tests.support.factories import ConversationFactory, SentMessageFactory
from tests.support.webhook_client import inbound_params, post_status, status_params

pytestmark = pytest.mark.usefixtures("signed_account")
SENDER = "+12025550143"


@pytest.fixture
def third_line(account) -> Line:
    return Line.objects.create(account=account, number="+12025550777", name="Billing")


@pytest.fixture
def revoke_all(signed_account):
    signed_account.opt_out_scope = OptOutScope.ACCOUNT
    signed_account.save()
    return signed_account


def statuses(phone=SENDER) -> dict[str, str]:
    contact = Contact.objects.get(phone=phone)
    return dict(contact.consents.values_list("line__name", "status"))


def events_by_line(phone=SENDER) -> dict[str, ConsentEvent]:
    opt_outs = ConsentEvent.objects.filter(contact__phone=phone, status=ConsentStatus.OPTED_OUT)
    return {event.line.name: event for event in opt_outs.select_related("line")}


def text(client, deliver, line, body, **extra):
    assert deliver(client, inbound_params(line, sender=SENDER, body=body, **extra)).status_code
    return Message.objects.filter(direction=Direction.INBOUND).latest("pk")


@pytest.mark.parametrize(
    ("body", "extra", "source"),
    [
        ("STOP", {}, ConsentSource.KEYWORD),
        ("please stop texting me", {}, ConsentSource.PHRASE),
        ("whatever", {"OptOutType": "STOP"}, ConsentSource.CARRIER_SIGNAL),
    ],
)
def test_an_opt_out_from_the_contact_covers_every_line_with_one_message_as_evidence(
    client, deliver, revoke_all, line, second_line, third_line, outbox, body, extra, source
):
    text(client, deliver, line, "START")
    text(client, deliver, second_line, "START")
    inbound = text(client, deliver, line, body, **extra)
    assert statuses() == dict.fromkeys(["Sales", "Support", "Billing"], ConsentStatus.OPTED_OUT)
    events = events_by_line()
    assert set(events) == {"Sales", "Support", "Billing"}
    assert {event.source for event in events.values()} == {source}
    assert {event.message_id for event in events.values()} == {inbound.pk}
    assert len({event.occurred_at for event in events.values()}) == 1


def test_the_confirmation_says_it_covers_every_number_and_goes_once(
    client, deliver, revoke_all, line, second_line, outbox
):
    text(client, deliver, line, "STOP")
    confirmations = [sms.body for sms in outbox]
    assert confirmations == [
        "You have been unsubscribed from all Acme Plumbing numbers and will receive no more "
        "messages from them. Reply START to resubscribe to this one."
    ]
    assert Message.objects.filter(direction=Direction.OUTBOUND).get().line == line


def test_an_opt_in_keyword_still_opts_in_only_the_line_texted(
    client, deliver, revoke_all, line, second_line
):
    text(client, deliver, line, "STOP")
    text(client, deliver, second_line, "START")
    assert statuses() == {"Sales": ConsentStatus.OPTED_OUT, "Support": ConsentStatus.OPTED_IN}


def test_with_scope_line_an_opt_out_stays_on_its_line(client, deliver, line, second_line):
    text(client, deliver, line, "START")
    text(client, deliver, second_line, "START")
    text(client, deliver, line, "STOP")
    assert statuses() == {"Sales": ConsentStatus.OPTED_OUT, "Support": ConsentStatus.OPTED_IN}


def test_a_21610_status_callback_covers_every_line(client, revoke_all, line, second_line, contact):
    sent = SentMessageFactory(contact=contact, line=line)
    params = status_params(line, sent.provider_message_id, "undelivered", ErrorCode="21610")
    assert post_status(client, params).status_code == 204
    events = ConsentEvent.objects.filter(contact=contact)
    assert {(event.line_id, event.source, event.message_id) for event in events} == {
        (line.pk, ConsentSource.PROVIDER_ERROR, sent.pk),
        (second_line.pk, ConsentSource.PROVIDER_ERROR, sent.pk),
    }


def test_an_agent_recording_an_opt_out_covers_every_line(
    agent_client, agent, revoke_all, line, second_line, contact
):
    conversation = ConversationFactory(contact=contact, line=line)
    response = agent_client.post(
        reverse("conversation-consent", args=[conversation.pk]),
        {"consent": ConsentStatus.OPTED_OUT, "asked_by": "phone_call", "note": "Rang at 9."},
    )
    assert response.status_code == 302
    assert set(contact.consents.values_list("line_id", "status")) == {
        (line.pk, ConsentStatus.OPTED_OUT),
        (second_line.pk, ConsentStatus.OPTED_OUT),
    }
    assert set(ConsentEvent.objects.values_list("source", "user", "note")) == {
        (ConsentSource.AGENT, agent.pk, "Asked by phone call: Rang at 9.")
    }


def test_an_agent_opt_in_stays_on_its_line(admin_user, revoke_all, line, second_line, contact):
    conversation = ConversationFactory(contact=contact, line=line)
    conversation_record_consent(
        conversation=conversation,
        user=admin_user,
        status=ConsentStatus.OPTED_IN,
        note="Signed form",
    )
    assert list(contact.consents.values_list("line_id", flat=True)) == [line.pk]


def test_every_line_is_stopped_in_one_transaction(
    client, deliver, revoke_all, line, second_line, monkeypatch
):
    """A failure recording the second line leaves no opt-out at all: the message is retried
    whole rather than half applied."""
    from crm import consent

    recorded = consent._record

    def fail_on_second_line(**kwargs):
        if kwargs["line"].pk == second_line.pk:
            raise RuntimeError("database went away")
        return recorded(**kwargs)

    monkeypatch.setattr(consent, "_record", fail_on_second_line)
    deliver(client, inbound_params(line, sender=SENDER, body="STOP"))
    assert not ConsentEvent.objects.exists()
    assert Message.objects.get(direction=Direction.INBOUND).status == MessageStatus.RECEIVED


def test_admins_see_the_revoke_all_banner_until_they_change_the_scope(
    client, admin_user, agent, account
):
    banner = "one opt-out may have to stop every number"
    client.force_login(agent)
    assert banner not in client.get(reverse("home")).content.decode()
    client.force_login(admin_user)
    assert banner in client.get(reverse("home")).content.decode()
    account.opt_out_scope = OptOutScope.ACCOUNT
    account.save()
    assert banner not in client.get(reverse("home")).content.decode()


def test_a_line_added_later_is_covered_by_the_opt_outs_already_recorded(
    client, deliver, revoke_all, line, outbox
):
    from conversations.sending import SendBlocked, send_message
    from crm.services import line_create

    stop = text(client, deliver, line, "STOP")
    added = line_create(
        account=revoke_all,
        number="+12025550888",
        name="Reminders",
        consent_policy="block_opted_out",
    )
    contact = Contact.objects.get(phone=SENDER)
    event = ConsentEvent.objects.get(contact=contact, line=added)
    assert (event.status, event.source, event.message_id) == (
        ConsentStatus.OPTED_OUT,
        ConsentSource.KEYWORD,
        stop.pk,
    )
    assert event.occurred_at == stop.occurred_at
    with pytest.raises(SendBlocked):
        send_message(contact=contact, line=added, body="New line, who dis?")


def test_switching_to_every_line_extends_the_opt_outs_already_recorded(
    admin_client, signed_account, client, deliver, line, second_line
):
    from tests.crm.test_account_settings import settings_data

    text(client, deliver, line, "STOP")
    assert statuses() == {"Sales": ConsentStatus.OPTED_OUT}
    response = admin_client.post(
        reverse("account-settings"),
        settings_data(signed_account, [line, second_line], **{"account-opt_out_scope": "account"}),
    )
    assert response.status_code == 302
    assert statuses() == {"Sales": ConsentStatus.OPTED_OUT, "Support": ConsentStatus.OPTED_OUT}


def test_a_status_gained_on_the_line_while_waiting_for_the_locks_is_kept(
    account, line, second_line, contact, admin_user, monkeypatch
):
    """Widening the scope reads who to opt out before it locks them; a contact who opts in
    on the line meanwhile keeps that status (and the widening does not fail on it)."""
    from crm import consent

    consent.opt_out(contact=contact, line=line, source=ConsentSource.API)
    account.opt_out_scope = OptOutScope.ACCOUNT
    account.save(update_fields=["opt_out_scope"])
    lock_contacts = consent.lock_contacts

    def a_start_arrives_first(contact_ids):
        consent.opt_in(
            contact=contact,
            line=second_line,
            source=ConsentSource.AGENT,
            user=admin_user,
            note="Signed the form at the desk",
        )
        return lock_contacts(contact_ids)

    monkeypatch.setattr(consent, "lock_contacts", a_start_arrives_first)
    assert consent.opt_outs_cover_line(second_line) == 0
    assert contact.consents.get(line=second_line).status == ConsentStatus.OPTED_IN
