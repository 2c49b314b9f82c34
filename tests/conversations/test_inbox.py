"""The inbox's sidebar: unread marks per user, blocked attempts, and the contact panel."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from broadcasts.services import broadcast_confirm, broadcast_create
from conversations.models import Conversation, Message, MessageStatus
from conversations.services import conversation_receive
from crm.models import Contact
from tests.conversations.test_conversations_page import conversation_with, opt_out
from tests.support.webhook_client import inbound_params


def sidebar_item(page: str, name: str) -> str:
    """The sidebar entry of the conversation with `name`, from its link to the end of its item."""
    start = page.index(name, page.index('class="conversation-list"'))
    start = page.rindex("<a ", 0, start)
    return page[start : page.index("</li>", start)]


def test_a_new_text_is_unread_until_each_user_opens_the_conversation(
    client, signed_account, line, agent, manager, deliver
):
    contact = Contact.objects.create(account=signed_account, phone="+12025550143", name="Ula")
    deliver(client, inbound_params(line, body="Is Tuesday free?"))
    conversation = Conversation.objects.get(contact=contact)
    url = reverse("conversations")

    client.force_login(agent)
    assert "Unread:" in sidebar_item(client.get(url).content.decode(), "Ula")
    client.get(reverse("conversation", args=[conversation.pk]))
    assert "Unread:" not in sidebar_item(client.get(url).content.decode(), "Ula")

    client.force_login(manager)  # the agent's look is not the manager's
    assert "Unread:" in sidebar_item(client.get(url).content.decode(), "Ula")

    client.force_login(agent)
    deliver(client, inbound_params(line, body="Or Wednesday?"))
    assert 'class="unread"' in sidebar_item(client.get(url).content.decode(), "Ula")


def test_the_agents_own_reply_does_not_make_a_conversation_unread(
    agent_client, account, line, outbox, django_capture_on_commit_callbacks
):
    conversation = conversation_with(account, line, "+12025550101", "Olive")
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now())
    detail = reverse("conversation", args=[conversation.pk])
    agent_client.get(detail)
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(detail, {"body": "See you then"})
    assert "Unread:" not in sidebar_item(
        agent_client.get(reverse("conversations")).content.decode(), "Olive"
    )


def test_a_blocked_attempt_is_marked_and_does_not_move_the_conversation_up(
    agent_client, account, line, agent
):
    blocked = conversation_with(account, line, "+12025550101", "Olive", minutes_ago=30)
    conversation_with(account, line, "+12025550102", "Nina", minutes_ago=5)
    opt_out(blocked, agent)
    response = agent_client.post(
        reverse("conversation", args=[blocked.pk]), {"body": "Big sale today"}
    )
    assert response.status_code == 200
    assert Message.objects.get(body="Big sale today").status == MessageStatus.BLOCKED
    page = agent_client.get(reverse("conversations")).content.decode()
    assert page.index("Nina") < page.index("Olive")
    assert '<span class="blocked-tag">Not sent:</span> Big sale today' in sidebar_item(
        page, "Olive"
    )


def test_a_broadcast_moves_up_only_the_conversations_it_reached(
    account, line, agent, manager, django_capture_on_commit_callbacks
):
    reached = conversation_with(account, line, "+12025550101", "Rita", minutes_ago=60)
    refused = conversation_with(account, line, "+12025550102", "Otto", minutes_ago=60)
    opt_out(refused, agent)
    before = Conversation.objects.get(pk=refused.pk).last_message_at
    broadcast = broadcast_create(
        account=account, user=manager, name="Hours", line=line, body="We open at 9"
    )
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_confirm(broadcast=broadcast, user=manager)
    assert Conversation.objects.get(pk=refused.pk).last_message_at == before
    assert Conversation.objects.get(pk=reached.pk).last_message_at > before + timedelta(minutes=59)


def test_the_contact_panel_links_to_the_contact_and_formats_line_numbers(
    agent_client, account, line
):
    conversation = conversation_with(account, line, "+12025550101", "Olive")
    page = agent_client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert f'<a href="{reverse("contact", args=[conversation.contact.pk])}">Olive</a>' in page
    assert "(415) 555-0100" in page
    assert "+14155550100" not in page
    assert "</span> All conversations</a>" in page


def test_a_text_processed_after_the_agent_looked_is_unread_though_sent_before(
    agent_client, account, line
):
    conversation = conversation_with(account, line, "+12025550101", "Olive", minutes_ago=10)
    sent_at = timezone.now() - timedelta(minutes=1)  # stored by the webhook, not yet processed
    agent_client.get(reverse("conversation", args=[conversation.pk]))
    conversation_receive(contact=conversation.contact, line=line, at=sent_at)
    assert "Unread:" in sidebar_item(
        agent_client.get(reverse("conversations")).content.decode(), "Olive"
    )
