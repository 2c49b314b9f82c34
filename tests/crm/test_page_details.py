"""The small things a demanding user notices: numbers that are not mobiles, searches too short
to run, moments to the second, moments not yet come, the review banner, and page titles."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from broadcasts.audience import audience
from broadcasts.services import broadcast_create
from conversations.models import Message
from crm.models import ConsentStatus, Contact
from tests.conversations.test_conversations_page import conversation_with, opt_out
from tests.support.factories import staff_consent


@pytest.mark.parametrize(
    ("typed", "stored", "label"),
    [
        ("1-800-FLOWERS", "+18003569377", "Not mobile: toll-free"),
        ("+44 20 7946 0958", "+442079460958", "Not mobile: landline"),
        ("+33 1 23 45 67 89", "+33123456789", "Not mobile: landline"),
        ("+44 7911 123456", "+447911123456", None),
        ("(202) 555-0177", "+12025550177", None),  # North America: mobile or landline, unknown
    ],
)
def test_numbers_that_are_not_mobiles_are_kept_and_labelled(
    agent_client, account, line, typed, stored, label
):
    response = agent_client.post(reverse("contact-create"), {"name": "Flo", "phone": typed})
    assert response.status_code == 302
    contact = Contact.objects.get(account=account, name="Flo")
    assert contact.phone == stored
    pages = [
        agent_client.get(reverse("contact", args=[contact.pk])).content.decode(),
        agent_client.get(reverse("contacts")).content.decode(),
    ]
    conversation = conversation_with(account, line, "+12025550101", "Other")
    conversation.contact = contact
    conversation.save()
    pages.append(agent_client.get(reverse("conversation", args=[conversation.pk])).content.decode())
    for page in pages:
        assert (label in page) if label else ("Not mobile" not in page)


@pytest.mark.parametrize("url_name", ["contacts", "conversations"])
@pytest.mark.parametrize(
    ("typed", "hint", "finds"), [("12", True, True), ("5", True, False), ("555", False, True)]
)
def test_a_search_of_fewer_than_3_digits_says_so_and_still_searches_names(
    agent_client, account, line, url_name, typed, hint, finds
):
    conversation_with(account, line, "+12025550101", "Ada 12")
    page = agent_client.get(reverse(url_name), {"q": typed}).content.decode()
    assert ("Type at least 3 digits to search by number." in page) is hint
    assert ("Ada 12" in page) is finds


def test_a_broadcast_searching_two_digits_still_reaches_the_names_with_them(account, line, manager):
    Contact.objects.create(account=account, phone="+12025550101", name="Room 12")
    Contact.objects.create(account=account, phone="+12025550102", name="Room 7")
    broadcast = broadcast_create(
        account=account, user=manager, name="Floor", line=line, body="Hi", search="12"
    )
    assert [contact.name for contact in audience(broadcast)] == ["Room 12"]


def test_a_name_with_digits_is_searched_as_a_name(agent_client, account, line):
    conversation_with(account, line, "+12025550101", "Unit 12")
    page = agent_client.get(reverse("contacts"), {"q": "Unit 12"}).content.decode()
    assert "Type at least 3 digits" not in page
    assert "Unit 12" in page


def test_history_shows_seconds_only_where_two_events_share_a_minute(
    agent_client, account, line, second_line, agent, contact
):
    minute = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=2)
    staff_consent(contact, line, ConsentStatus.OPTED_OUT, agent, at=minute + timedelta(seconds=5))
    staff_consent(
        contact, second_line, ConsentStatus.OPTED_OUT, agent, at=minute + timedelta(seconds=41)
    )
    alone = minute + timedelta(minutes=30, seconds=17)
    staff_consent(contact, line, ConsentStatus.OPTED_OUT, agent, at=alone)
    page = agent_client.get(reverse("contact", args=[contact.pk])).content.decode()
    local = timezone.localtime(minute)
    assert f"{local:%H:%M}:05" in page
    assert f"{local:%H:%M}:41" in page
    assert f"{timezone.localtime(alone):%H:%M}</time>" in page


def test_the_review_banner_offers_no_opt_out_to_a_contact_already_opted_out(
    agent_client, account, line, agent
):
    conversation = conversation_with(account, line, "+12025550101", body="please stop")
    conversation.flagged_message = Message.objects.get()
    conversation.save()
    url = reverse("conversation", args=[conversation.pk])
    assert 'value="confirm"' in agent_client.get(url).content.decode()
    opt_out(conversation, agent)
    page = agent_client.get(url).content.decode()
    assert 'value="confirm"' not in page
    assert "already opted out of this line" in page
    assert "Mark as reviewed" in page


def test_every_page_has_its_own_title(agent_client, account, line):
    conversation = conversation_with(account, line, "+12025550101", "Olive")
    titles = {
        agent_client.get(url).content.decode().split("<title>")[1].split("</title>")[0]
        for url in (
            reverse("home"),
            reverse("contacts"),
            reverse("conversations"),
            reverse("conversation", args=[conversation.pk]),
            reverse("broadcasts"),
        )
    }
    assert len(titles) == 5
    assert all(title.endswith(" · Capacity SMS") for title in titles)
    assert "Olive · Conversations · Capacity SMS" in titles
