"""An agent's day on the Conversations page, in a real headless Chromium."""

import pytest
from playwright.sync_api import expect

from crm import consent
from crm.models import ConsentSource, Contact
from tests.support.factories import ConversationFactory, inbound_message

pytestmark = pytest.mark.django_db(transaction=True)


def conversation(account, line, phone, name):
    contact = Contact.objects.create(account=account, phone=phone, name=name)
    message = inbound_message(contact, line, f"Hi, this is {name}")
    return ConversationFactory(
        account=account, contact=contact, line=line, last_inbound_at=message.occurred_at
    )


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


def test_an_opt_out_asks_for_confirmation_and_how_with_the_keyboard_alone(
    page, log_in, account, line, agent
):
    agent.first_name, agent.last_name = "Ann", "Lee"
    agent.save()
    nora = conversation(account, line, "+12025550103", "Nora None")
    log_in(agent.username)
    page.goto(f"/conversations/{nora.pk}/")
    panel = page.get_by_role("complementary", name="Contact")
    expect(panel.locator(".badge-none")).to_have_text("– Not Defined")
    opener = page.get_by_role("button", name="Record an opt-out…")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Opt Nora None out of Sales?")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")  # changed their mind: nothing recorded
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    expect(panel.locator(".badge-none")).to_be_visible()

    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Opt out").press("Enter")  # no way chosen: refused
    expect(dialog).to_be_visible()
    dialog.get_by_label("Phone call").press("Space")
    dialog.get_by_label("Note").fill("Called the front desk")
    dialog.get_by_label("Note").press("Tab")
    expect(dialog.get_by_role("button", name="Opt out")).to_be_focused()
    page.keyboard.press("Enter")
    expect(panel.locator(".badge-out")).to_have_text("✕ Opted out")
    expect(panel).to_contain_text("Recorded by Ann Lee (agent)")


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


def in_viewport(page, selector: str) -> bool:
    return page.evaluate(
        """(selector) => { const box = document.querySelector(selector).getBoundingClientRect();
        return box.top >= 0 && box.bottom <= window.innerHeight; }""",
        selector,
    )


def test_on_a_laptop_the_list_and_thread_scroll_on_their_own_and_the_composer_stays(
    page, log_in, account, line, agent
):
    for n in range(30):
        conversation(account, line, f"+120255502{n:02d}", f"Person {n}")
    long = conversation(account, line, "+12025550104", "Lena Long")
    for n in range(60):
        inbound_message(long.contact, line, f"Message number {n}")
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(agent.username)
    page.goto(f"/conversations/{long.pk}/")
    assert page.evaluate("document.documentElement.scrollHeight") <= 768
    assert in_viewport(page, "form.composer button[type=submit]")
    assert page.evaluate(
        "(() => { const list = document.querySelector('.conversation-list');"
        " return list.scrollHeight > list.clientHeight; })()"
    )
    newest = page.get_by_role("list", name="Messages").get_by_text("Message number 59")
    expect(newest).to_be_in_viewport()
    page.mouse.move(700, 400)
    page.mouse.wheel(0, -3000)  # reading back through the thread keeps the composer in view
    expect(newest).not_to_be_in_viewport()
    assert in_viewport(page, "form.composer textarea")


def test_on_a_phone_the_inbox_shows_the_list_or_the_thread_with_a_way_back(
    page, log_in, account, line, agent
):
    ivy = conversation(account, line, "+12025550105", "Ivy Phone")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(agent.username)
    page.goto("/conversations/")
    sidebar = page.get_by_role("complementary", name="Conversations")
    expect(sidebar).to_be_visible()
    expect(page.get_by_text("Choose a conversation to read it and reply.")).to_be_hidden()
    sidebar.get_by_role("link", name="Ivy Phone").click()
    page.wait_for_url(f"**/conversations/{ivy.pk}/")
    expect(sidebar).to_be_hidden()
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    page.get_by_role("link", name="All conversations").click()
    page.wait_for_url("**/conversations/")
    expect(sidebar).to_be_visible()


def test_an_agent_works_the_inbox_from_the_keyboard(page, log_in, account, line, agent, outbox):
    conversation(account, line, "+12025550106", "Kim Keys")
    conversation(account, line, "+12025550107", "Other Person")
    log_in(agent.username)
    page.goto("/conversations/")
    search = page.get_by_label("Search by name or number")
    search.focus()
    page.keyboard.type("Kim")
    page.keyboard.press("Enter")
    page.wait_for_url("**/conversations/?q=Kim*")
    sidebar = page.get_by_role("complementary", name="Conversations")
    expect(sidebar.get_by_role("link", name="Other Person")).to_have_count(0)
    link = sidebar.get_by_role("link", name="Kim Keys")
    expect(link).to_contain_text("Unread")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/conversations/*/?q=Kim*")
    page.get_by_role("textbox", name="Message").focus()
    page.keyboard.type("Typed and sent from the keyboard")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_role("list", name="Messages")).to_contain_text(
        "Typed and sent from the keyboard"
    )
    expect(page.get_by_role("complementary", name="Conversations")).not_to_contain_text("Unread")


def test_without_javascript_the_opt_out_form_is_on_the_page(
    chromium, live_server, account, line, agent
):
    nora = conversation(account, line, "+12025550108", "Nora Noscript")
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/login/")
        page.get_by_label("Username").fill(agent.username)
        page.get_by_label("Password").fill("pw")
        page.get_by_role("button", name="Log in").click()
        page.goto(f"/conversations/{nora.pk}/")
        expect(page.get_by_role("button", name="Record an opt-out…")).to_be_hidden()
        page.get_by_label("In person").check()
        page.get_by_role("button", name="Opt out", exact=True).click()
        panel = page.get_by_role("complementary", name="Contact")
        expect(panel.locator(".badge-out")).to_have_text("✕ Opted out")
    finally:
        context.close()
