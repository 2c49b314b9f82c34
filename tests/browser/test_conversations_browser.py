"""An agent's day on the Conversations page, in a real headless Chromium."""

import pytest
from playwright.sync_api import expect

from crm import consent
from crm.models import ConsentSource, Contact
from tests.support.factories import ConversationFactory, inbound_message

pytestmark = pytest.mark.django_db(transaction=True)


def conversation(account, line, phone, name):
    contact = Contact.objects.create(account=account, phone=phone, name=name)
    inbound_message(contact, line, f"Hi, this is {name}")
    return ConversationFactory(account=account, contact=contact, line=line)


def test_opted_out_contact_shows_the_red_x_and_a_disabled_composer(
    page, log_in, account, line, agent
):
    olive = conversation(account, line, "+12025550101", "Olive Out")
    consent.opt_out(
        contact=olive.contact, line=line, source=ConsentSource.AGENT, user=agent, note="phone"
    )
    log_in(agent.username)
    page.goto("/conversations/")
    page.get_by_role("link", name="Olive Out").click()
    panel = page.get_by_role("complementary", name="Contact")
    expect(panel.locator(".badge-out")).to_have_text("✕ Opted out")
    expect(page.get_by_role("textbox", name="Message")).to_be_disabled()
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    expect(page.get_by_role("status")).to_contain_text("The contact opted out of Sales")


def test_an_agent_sends_to_an_opted_in_contact_and_sees_it_in_the_thread(
    page, log_in, account, line, agent, outbox
):
    ivy = conversation(account, line, "+12025550102", "Ivy In")
    consent.opt_in(contact=ivy.contact, line=line, source=ConsentSource.IMPORT, note="crm.csv")
    log_in(agent.username)
    page.goto(f"/conversations/{ivy.pk}/")
    expect(page.get_by_role("complementary", name="Contact").locator(".badge-in")).to_be_visible()
    page.get_by_role("textbox", name="Message").fill("Your quote is ready: $120")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("list", name="Messages")).to_contain_text("Your quote is ready: $120")
    expect(page.get_by_text("Message queued.")).to_be_visible()
    assert [sms.body for sms in outbox] == ["Your quote is ready: $120"]


def test_recording_an_opt_out_changes_the_badge(page, log_in, account, line, agent):
    nora = conversation(account, line, "+12025550103", "Nora None")
    log_in(agent.username)
    page.goto(f"/conversations/{nora.pk}/")
    panel = page.get_by_role("complementary", name="Contact")
    expect(panel.locator(".badge-none")).to_have_text("– Not Defined")
    page.get_by_label("Opt-out note (e.g. asked by phone)").fill("Called the front desk")
    page.get_by_role("button", name="Record an opt-out").click()
    expect(panel.locator(".badge-out")).to_have_text("✕ Opted out")
    expect(panel).to_contain_text(f"Recorded by staff by {agent.username}")


def test_a_long_thread_opens_on_its_newest_message(page, log_in, account, line, agent):
    long = conversation(account, line, "+12025550104", "Lena Long")
    for n in range(40):
        inbound_message(long.contact, line, f"Message number {n}")
    log_in(agent.username)
    page.goto(f"/conversations/{long.pk}/")
    messages = page.get_by_role("list", name="Messages")
    expect(messages.get_by_text("Message number 39")).to_be_in_viewport()
    expect(messages.get_by_text("Message number 0", exact=True)).not_to_be_in_viewport()


def test_sending_updates_the_page_without_a_full_reload(page, log_in, account, line, agent):
    ivy = conversation(account, line, "+12025550105", "Ivy Inline")
    log_in(agent.username)
    page.goto(f"/conversations/{ivy.pk}/")
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("textbox", name="Message").fill("Sent without a reload")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("list", name="Messages")).to_contain_text("Sent without a reload")
    assert page.evaluate("window.stillTheSamePage") is True
