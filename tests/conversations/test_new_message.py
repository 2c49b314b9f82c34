"""New message: texting first, from a contact, a number or a name, through the gate."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from conversations.models import Conversation, Direction, Message, MessageStatus
from crm import consent
from crm.models import ConsentPolicy, ConsentSource, Contact
from tests.support.factories import ContactFactory, SentMessageFactory

URL = reverse("conversation-new")


def send(client, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(URL, data)


def test_texting_a_new_number_creates_the_contact_and_opens_the_conversation(
    agent_client, agent, line, outbox, django_capture_on_commit_callbacks
):
    response = send(
        agent_client,
        django_capture_on_commit_callbacks,
        to="(202) 555-0188",
        line=line.pk,
        body="Your table is ready",
    )
    contact = Contact.objects.get(phone="+12025550188")
    conversation = Conversation.objects.get(contact=contact, line=line)
    assert response.status_code == 302
    assert response["Location"] == reverse("conversation", args=[conversation.pk])
    message = Message.objects.get(direction=Direction.OUTBOUND)
    assert (message.sent_by, message.status) == (agent, MessageStatus.SENT)
    assert [sms.to_number for sms in outbox] == ["+12025550188"]


def test_a_contact_is_found_by_name_and_several_matches_are_offered(agent_client, account, line):
    ada = ContactFactory(account=account, name="Ada Lovelace", phone="+12025550111")
    ContactFactory(account=account, name="Adam Smith", phone="+12025550112")
    page = agent_client.post(URL, {"to": "Ada", "line": line.pk, "check": "1"}).content.decode()
    assert "Several contacts match" in page
    assert f"?contact={ada.pk}&amp;line={line.pk}" in page
    page = agent_client.post(URL, {"to": "Lovelace", "line": line.pk, "check": "1"}).content
    assert f'href="/crm/contacts/{ada.pk}/"' in page.decode()


def test_the_query_prefills_the_contact_and_line_and_shows_the_status_before_sending(
    agent_client, account, line, second_line, agent
):
    olive = ContactFactory(account=account, name="Olive", phone="+12025550101")
    consent.opt_out(contact=olive, line=second_line, source=ConsentSource.AGENT, user=agent)
    page = agent_client.get(URL, {"contact": olive.pk, "line": second_line.pk}).content.decode()
    assert 'value="(202) 555-0101"' in page
    assert f'<option value="{second_line.pk}" selected>' in page
    assert "Opted out" in page
    assert "Texts can't go to this contact on this line." in page
    assert "The contact opted out of Support" in page
    assert "disabled" in page
    assert not Message.objects.exists()
    page = agent_client.get(URL, {"contact": olive.pk, "line": line.pk}).content.decode()
    assert "Texts can't go" not in page


def test_a_require_opt_in_line_explains_itself_for_a_new_number(agent_client, line):
    line.consent_policy = ConsentPolicy.REQUIRE_OPT_IN
    line.save()
    page = agent_client.post(
        URL, {"to": "+1 202 555 0199", "line": line.pk, "check": "1"}
    ).content.decode()
    assert "New number (202) 555-0199" in page
    assert "requires opt-in and the contact has not opted in" in page


def test_a_blocked_attempt_says_why_and_is_kept(
    agent_client, account, line, agent, outbox, django_capture_on_commit_callbacks
):
    olive = ContactFactory(account=account, name="Olive", phone="+12025550101")
    consent.opt_out(contact=olive, line=line, source=ConsentSource.AGENT, user=agent)
    response = send(
        agent_client,
        django_capture_on_commit_callbacks,
        to="202-555-0101",
        line=line.pk,
        body="Sale!",
    )
    assert response.status_code == 200
    assert "Not sent: the contact opted out of Sales" in response.content.decode()
    assert Message.objects.get().status == MessageStatus.BLOCKED
    assert outbox == []


@pytest.mark.parametrize(
    ("to", "error"),
    [
        ("", "Choose who to text."),
        ("202-555", "is not a valid phone number"),
        ("Nobody Here", "No contact matches “Nobody Here”"),
    ],
)
def test_bad_recipients_get_a_clear_error_and_nothing_is_stored(agent_client, line, to, error):
    response = agent_client.post(URL, {"to": to, "line": line.pk, "body": "hi"})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Message.objects.exists()
    assert not Contact.objects.exists()


def test_another_accounts_line_or_contact_cannot_be_used(
    agent_client, line, other_line, other_contact
):
    response = agent_client.post(URL, {"to": "+12025550143", "line": other_line.pk, "body": "x"})
    assert "Select a valid choice" in response.content.decode()
    page = agent_client.get(URL, {"contact": other_contact.pk}).content.decode()
    assert "Globex Ada" not in page
    assert not Message.objects.exists()


def test_a_time_in_the_past_is_refused(agent_client, line, clock):
    clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    response = agent_client.post(
        URL,
        {"to": "+12025550188", "line": line.pk, "body": "x", "send_at": "2026-12-01T14:00"},
    )
    assert "This time has passed" in response.content.decode()
    assert not Message.objects.exists()


def test_scheduling_from_the_page_and_cancelling_from_the_thread(
    agent_client, line, clock, outbox, django_capture_on_commit_callbacks
):
    clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    response = send(
        agent_client,
        django_capture_on_commit_callbacks,
        to="+12025550188",
        line=line.pk,
        body="Reminder: tomorrow 10:00",
        send_at="2026-12-01T18:30",
    )
    message = Message.objects.get()
    assert (message.status, message.scheduled_for) == (
        MessageStatus.SCHEDULED,
        datetime(2026, 12, 1, 18, 30, tzinfo=UTC),
    )
    thread = agent_client.get(response["Location"]).content.decode()
    assert "Message scheduled for Dec 1, 18:30." in thread
    assert "Scheduled for" in thread
    cancel = reverse("conversation-message-cancel", args=[message.pk])
    assert cancel in thread
    assert agent_client.post(cancel).status_code == 302
    message.refresh_from_db()
    assert message.status == MessageStatus.CANCELLED
    clock.advance(timedelta(hours=5))
    assert outbox == []


def test_another_accounts_message_cannot_be_cancelled(agent_client, other_line, other_contact):
    foreign = SentMessageFactory(
        contact=other_contact,
        line=other_line,
        status=MessageStatus.SCHEDULED,
        scheduled_for=datetime(2030, 1, 1, tzinfo=UTC),
    )
    response = agent_client.post(reverse("conversation-message-cancel", args=[foreign.pk]))
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == MessageStatus.SCHEDULED


def test_the_composer_says_when_quiet_hours_would_hold_the_message(
    agent_client, account, line, clock
):
    account.quiet_hours_enabled = True
    account.save()
    clock.set(datetime(2026, 12, 2, 3, 30, tzinfo=UTC))  # 22:30 in Washington DC
    contact = ContactFactory(account=account, phone="+12025550120")
    page = agent_client.get(URL, {"contact": contact.pk, "line": line.pk}).content.decode()
    assert "It is quiet hours where this contact lives" in page
    assert "Send at 13:00" in page


def test_the_entry_points_link_to_new_message(agent_client, account, contact, line):
    link = f"{URL}?contact={contact.pk}"
    assert link in agent_client.get(reverse("contact", args=[contact.pk])).content.decode()
    assert link in agent_client.get(reverse("contacts")).content.decode()
    assert URL in agent_client.get(reverse("conversations")).content.decode()
