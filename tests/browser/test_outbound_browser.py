"""Texting first in a real headless Chromium: New message, and a broadcast from preview to
progress."""

import pytest
from playwright.sync_api import expect

from broadcasts.models import Broadcast, BroadcastStatus
from crm import consent
from crm.models import ConsentSource, Contact

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agent_texts_a_contact_first_from_the_contacts_table(
    page, log_in, account, line, agent, outbox
):
    Contact.objects.create(account=account, phone="+12025550102", name="Ivy In")
    log_in(agent.username)
    page.goto("/crm/contacts/")
    page.get_by_role("link", name="New message to Ivy In").click()
    expect(page.get_by_label("To")).to_have_value("(202) 555-0102")
    expect(page.locator(".recipient")).to_contain_text("Not Defined")
    box = page.get_by_role("textbox", name="Message")
    box.fill("Your order is ready for pickup")
    expect(page.locator(".sms-counter")).to_contain_text("30 characters, 1 SMS part")
    box.press("Control+Enter")
    expect(page.get_by_text("Message queued.")).to_be_visible()
    expect(page.get_by_role("list", name="Messages")).to_contain_text(
        "Your order is ready for pickup"
    )
    assert [sms.to_number for sms in outbox] == ["+12025550102"]


def test_choosing_the_line_shows_the_status_there_and_a_blocked_line_disables_sending(
    page, log_in, account, line, second_line, agent, outbox
):
    olive = Contact.objects.create(account=account, phone="+12025550101", name="Olive Out")
    consent.opt_out(contact=olive, line=second_line, source=ConsentSource.AGENT, user=agent)
    log_in(agent.username)
    page.goto("/conversations/")
    page.get_by_role("link", name="New message").click()
    page.get_by_label("To").fill("Olive")
    page.get_by_role("button", name="Check").click()
    expect(page.locator(".recipient")).to_contain_text("Olive Out")
    page.get_by_label("From line").select_option(label="Support · (415) 555-0101")
    expect(page.get_by_role("status")).to_contain_text("The contact opted out of Support")
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    page.get_by_label("From line").select_option(label="Sales · (415) 555-0100")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    assert outbox == []


def test_a_manager_previews_a_broadcast_sends_it_and_sees_its_progress(
    page, log_in, account, line, manager, agent, outbox
):
    for index in range(6):
        Contact.objects.create(account=account, phone=f"+120255503{index:02d}", name=f"P {index}")
    out = Contact.objects.get(phone="+12025550300")
    consent.opt_out(contact=out, line=line, source=ConsentSource.AGENT, user=agent)
    log_in(manager.username)
    page.goto("/broadcasts/")
    page.get_by_role("link", name="New broadcast").click()
    page.get_by_label("Name", exact=True).fill("Winter hours")
    page.get_by_role("textbox", name="Message").fill("Hi {first_name}, we open at 9 from Monday.")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Of 6 contacts in the audience")).to_be_visible()
    expect(page.get_by_role("row", name="Excluded: opted out 1 CSV")).to_be_visible()
    page.get_by_role("button", name="Send to 5 contacts now").click()
    expect(page.get_by_text("Broadcast sending.")).to_be_visible()
    expect(page.get_by_role("heading", name="Sent", exact=True)).to_be_visible()
    expect(page.locator("#broadcast-bar")).to_have_attribute("value", "5")
    expect(page.locator(".broadcast-totals")).to_contain_text("Sent5")
    assert Broadcast.objects.get().status == BroadcastStatus.SENT
    assert sorted(sms.body for sms in outbox)[0] == "Hi P, we open at 9 from Monday."
    assert len(outbox) == 5
