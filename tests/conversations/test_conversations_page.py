"""The Conversations page through the Django test client."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conversations.models import Conversation, ConversationStatus, Direction, Message, MessageStatus
from crm.models import Consent, ConsentEvent, ConsentOutcome, ConsentSource, ConsentStatus, Contact
from tests.support.factories import ConversationFactory, inbound_message, staff_consent


def conversation_with(account, line, phone, name="", body="Hello", minutes_ago=0, **extra):
    contact = Contact.objects.create(account=account, phone=phone, name=name)
    at = timezone.now() - timedelta(minutes=minutes_ago)
    inbound_message(contact, line, body, at=at)
    return ConversationFactory(
        account=account, contact=contact, line=line, last_message_at=at, **extra
    )


def opt_out(conversation, user):
    staff_consent(conversation.contact, conversation.line, ConsentStatus.OPTED_OUT, user)


def test_sidebar_lists_open_first_then_most_recent_with_markers(agent_client, account, line, agent):
    older_open = conversation_with(account, line, "+12025550101", "Olive Open", minutes_ago=30)
    closed = conversation_with(
        account, line, "+12025550102", "Cleo Closed", status=ConversationStatus.CLOSED
    )
    newer_open = conversation_with(account, line, "+12025550103", "Nina New", body="Newest text")
    opt_out(older_open, agent)
    page = agent_client.get(reverse("conversations")).content.decode()
    assert page.index("Nina New") < page.index("Olive Open") < page.index("Cleo Closed")
    assert "Newest text" in page
    assert page.count('title="Opted out of this line"') == 1
    assert f'href="/conversations/{newer_open.pk}/"' in page
    assert f'href="/conversations/{closed.pk}/"' in page


def test_sidebar_filters_by_status_line_and_search(agent_client, account, line, second_line):
    conversation_with(account, line, "+12025550101", "Olive Open")
    conversation_with(account, second_line, "+12025550102", "Sam Support")
    conversation_with(account, line, "+12025550103", "Cleo", status=ConversationStatus.CLOSED)
    url = reverse("conversations")
    closed = agent_client.get(url, {"status": "closed"}).content.decode()
    assert "Cleo" in closed
    assert "Olive" not in closed
    support = agent_client.get(url, {"line": second_line.pk}).content.decode()
    assert "Sam Support" in support
    assert "Olive" not in support
    by_number = agent_client.get(url, {"q": "(202) 555-0101"}).content.decode()
    assert "Olive Open" in by_number
    assert "Sam" not in by_number
    assert "Olive Open" in agent_client.get(url, {"q": "olive"}).content.decode()


def test_a_forged_line_of_another_account_is_a_filter_error_not_data(
    agent_client, account, line, other_line
):
    conversation_with(account, line, "+12025550101", "Olive Open")
    page = agent_client.get(reverse("conversations"), {"line": other_line.pk})
    assert page.status_code == 200
    assert "Select a valid choice" in page.content.decode()
    assert "Olive Open" not in page.content.decode()
    assert "Globex" not in page.content.decode()


def test_page_query_count_does_not_grow_with_conversations_or_messages(agent_client, account, line):
    counts = []
    for size in (2, 30):
        for n in range(size):
            conversation = conversation_with(account, line, f"+120255{size:02d}{n:03d}")
            for _ in range(3):
                inbound_message(conversation.contact, line, "more")
        target = Conversation.objects.first()
        sizes = []
        for url in (reverse("conversations"), reverse("conversation", args=[target.pk])):
            with CaptureQueriesContext(connection) as queries:
                assert agent_client.get(url).status_code == 200
            sizes.append(len(queries))
        counts.append(sizes)
    assert counts[0] == counts[1]


def test_detail_shows_the_red_x_and_disables_the_composer_for_an_opted_out_contact(
    agent_client, account, line, agent
):
    conversation = conversation_with(account, line, "+12025550101", "Olive")
    opt_out(conversation, agent)
    page = agent_client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert (
        '<span class="badge badge-out"><span aria-hidden="true">✕</span> Opted out</span>' in page
    )
    assert f"Recorded by {agent.username} (agent)" in page
    assert "Texts can't go to this contact on this line." in page
    assert "The contact opted out of Sales" in page
    assert "disabled" in page


def test_sending_to_an_opted_in_contact_shows_it_in_the_thread(
    agent_client, account, line, outbox, django_capture_on_commit_callbacks
):
    conversation = conversation_with(account, line, "+12025550101", "Olive")
    url = reverse("conversation", args=[conversation.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(url, {"body": "Your quote is ready"})
    assert response.status_code == 302
    page = agent_client.get(url).content.decode()
    assert "Your quote is ready" in page
    assert "Message queued." in page
    assert [sms.body for sms in outbox] == ["Your quote is ready"]


def test_a_send_blocked_by_a_race_shows_the_reason_and_keeps_the_text(
    agent_client, account, line, agent, outbox
):
    conversation = conversation_with(account, line, "+12025550101", "Olive")
    opt_out(conversation, agent)  # after the agent's page was loaded
    url = reverse("conversation", args=[conversation.pk])
    response = agent_client.post(url, {"body": "Big sale today"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not sent: the contact opted out of Sales" in page
    assert ">Big sale today</textarea>" in page
    assert Message.objects.get(direction=Direction.OUTBOUND).status == MessageStatus.BLOCKED
    assert outbox == []


def test_bodies_are_shown_escaped(agent_client, account, line):
    conversation = conversation_with(
        account, line, "+12025550101", body="<script>alert(1)</script>"
    )
    page = agent_client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_close_and_reopen(agent_client, account, line):
    conversation = conversation_with(account, line, "+12025550101")
    status_url = reverse("conversation-status", args=[conversation.pk])
    agent_client.post(status_url, {"status": "closed"})
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.CLOSED
    agent_client.post(status_url, {"status": "open"})
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN


def test_another_accounts_conversation_is_404(client, other_account, other_line, agent):
    foreign = conversation_with(other_account, other_line, "+12025550101")
    client.force_login(agent)
    assert client.get(reverse("conversation", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("conversation", args=[foreign.pk]), {"body": "x"}).status_code == 404
    status_url = reverse("conversation-status", args=[foreign.pk])
    assert client.post(status_url, {"status": "closed"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == ConversationStatus.OPEN
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_managers_and_admins_work_here_too(client, manager, admin_user, account, line):
    conversation_with(account, line, "+12025550101", "Olive")
    for user in (manager, admin_user):
        client.force_login(user)
        assert client.get(reverse("conversations")).status_code == 200


def consent_url(conversation):
    return reverse("conversation-consent", args=[conversation.pk])


def test_an_agent_records_an_opt_out_saying_how_the_contact_asked(
    agent_client, account, line, agent
):
    agent.first_name, agent.last_name = "Ann", "Lee"
    agent.save()
    conversation = conversation_with(account, line, "+12025550101", "Olive")
    page = agent_client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert 'commandfor="opt-out-dialog" command="show-modal">Record an opt-out…' in page
    assert "Opt Olive out of Sales?" in page
    response = agent_client.post(
        consent_url(conversation),
        {"consent": "opted_out", "asked_by": "phone_call", "note": "Called the front desk"},
        follow=True,
    )
    page = response.content.decode()
    assert "Recorded." in page
    assert '<span class="badge badge-out">' in page
    assert "Recorded by Ann Lee (agent)" in page
    event = ConsentEvent.objects.get()
    assert (event.source, event.user, event.note) == (
        ConsentSource.AGENT,
        agent,
        "Asked by phone call: Called the front desk",
    )
    history = agent_client.get(reverse("contact", args=[conversation.contact.pk]))
    assert "Recorded by Ann Lee (agent)" in history.content.decode()


@pytest.mark.parametrize(
    ("asked_by", "note", "error"),
    [
        ("", "Called", "Say how the contact asked to stop."),
        ("fax-machine", "Called", "Choose what to record."),
        ("other", "  ", "Add a note of how the contact asked to stop."),
    ],
)
def test_an_opt_out_without_how_the_contact_asked_is_refused(
    agent_client, account, line, asked_by, note, error
):
    conversation = conversation_with(account, line, "+12025550101", "Olive")
    response = agent_client.post(
        consent_url(conversation),
        {"consent": "opted_out", "asked_by": asked_by, "note": note},
        follow=True,
    )
    assert error in response.content.decode()
    assert not ConsentEvent.objects.exists()


def test_an_opt_out_in_another_way_keeps_the_note(agent_client, account, line):
    conversation = conversation_with(account, line, "+12025550101", "Olive")
    agent_client.post(
        consent_url(conversation),
        {"consent": "opted_out", "asked_by": "other", "note": "Told our technician on site"},
    )
    assert ConsentEvent.objects.get().note == "Asked another way: Told our technician on site"


def test_agents_cannot_record_an_opt_in_admins_can_with_evidence(
    client, account, line, agent, admin_user
):
    conversation = conversation_with(account, line, "+12025550101", "Olive")
    opt_out(conversation, agent)
    client.force_login(agent)
    page = client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert "Record an opt-in" not in page
    denied = client.post(
        consent_url(conversation), {"consent": "opted_in", "note": "x"}, follow=True
    )
    assert "Only an admin can opt a contact in by hand." in denied.content.decode()

    client.force_login(admin_user)
    no_note = client.post(
        consent_url(conversation), {"consent": "opted_in", "note": ""}, follow=True
    )
    assert "needs a note of the evidence" in no_note.content.decode()
    client.post(
        consent_url(conversation), {"consent": "opted_in", "note": "Signed form 2026-11-02"}
    )
    assert ConsentEvent.objects.latest("recorded_at").outcome == ConsentOutcome.CHANGED
    assert (
        "badge-in" in client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    )


@pytest.mark.parametrize(
    ("decision", "status"), [("confirm", ConsentStatus.OPTED_OUT), ("dismiss", None)]
)
def test_a_flagged_conversation_shows_the_banner_and_the_agent_decides(
    agent_client, account, line, agent, decision, status
):
    conversation = conversation_with(account, line, "+12025550101", body="please remove me")
    conversation.flagged_message = Message.objects.get()
    conversation.save()
    page = agent_client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert "This message may ask to stop messages" in page
    assert "“please remove me”" in page
    agent_client.post(
        reverse("conversation-review", args=[conversation.pk]), {"decision": decision}
    )
    conversation.refresh_from_db()
    assert conversation.flagged_message is None
    current = Consent.objects.filter(contact=conversation.contact, line=line).first()
    assert (current.status if current else None) == status
    if status:
        event = ConsentEvent.objects.get()
        assert (event.user, event.message.body) == (agent, "please remove me")


def test_consent_actions_on_another_accounts_conversation_are_404(
    agent_client, other_account, other_line
):
    foreign = conversation_with(other_account, other_line, "+12025550101")
    assert agent_client.post(consent_url(foreign), {"consent": "opted_out"}).status_code == 404
    assert not ConsentEvent.objects.exists()
