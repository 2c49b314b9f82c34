"""Keyword Responders in a real headless Chromium: the form with its counter, the tester."""

import pytest
from playwright.sync_api import expect

from core.segments import sms_segments

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_creates_a_responder_and_tries_it(page, log_in, account, line, admin_user):
    log_in(admin_user.username)
    page.goto("/keywords/")
    banner = page.get_by_role("region", name="Missing keyword responders")
    expect(banner).to_contain_text("No active opt in responder at all")
    banner.get_by_role("link", name="Create an opt in responder").click()

    page.get_by_label("Name", exact=True).fill("Join sales")
    page.get_by_label("Keywords").fill("JOIN, sign me up")
    page.get_by_role("group", name="Lines").get_by_label("Sales · (415) 555-0100").check()
    expect(
        page.get_by_label("This keyword updates the contact's opt in/out status")
    ).to_be_checked()
    expect(page.get_by_label("Opted in")).to_be_checked()
    reply = page.get_by_label("Reply")
    counter = page.locator('[data-sms-counter="id_reply"]')
    reply.fill("a" * 161)
    expect(counter).to_have_text("161 characters, 2 SMS parts (GSM-7)")
    reply.fill("Welcome to {account} ✓")
    expect(counter).to_have_text("26 characters, 1 SMS part (UCS-2)")  # as sent, name filled in
    for text in ("😀" * 67, "a" * 152 + "€" + "a" * 152, "line\n" * 32, "{help_contact} [ok]"):
        reply.fill(text)
        sent = text.replace("{help_contact}", account.help_contact)
        expect(counter).to_have_text(str(sms_segments(sent)))
    reply.fill("Welcome to {account} ✓")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Responder “Join sales” saved.")).to_be_visible()
    row = page.get_by_role("row", name="Join sales")
    expect(row).to_contain_text("JOIN")
    expect(row).to_contain_text("Opt in")
    expect(row.get_by_role("switch", name="Join sales active")).to_have_attribute(
        "aria-checked", "true"
    )
    expect(banner).not_to_contain_text("opt in responder")

    page.get_by_role("textbox", name="Message").fill("Sign-me-up!")
    result = page.locator("#tester-result")
    expect(result).to_contain_text("Keyword responder “Join sales” (sign me up)")
    expect(result).to_contain_text("Opts the contact in to Sales")
    expect(result).to_contain_text("“Welcome to Acme Plumbing ✓”")
    page.get_by_role("textbox", name="Message").fill("STOP")
    expect(result).to_contain_text("Built-in keyword STOP")
    expect(result).to_contain_text("Opts the contact out of Sales")
