"""Every page of every role in Chromium at a phone's width and a laptop's.

No page may be wider than the screen: a wide table scrolls inside its own card, long text wraps,
and below a laptop's width the navigation folds into a Menu button. The pages are the ones
`tests/support/pages.py` lists (so a new page is swept without editing this file), visited with
data made to stretch them: a 200-character name, a long reply, a long message.

    pytest tests/browser/test_every_page_browser.py --screenshots shots/

saves a full-page screenshot of each page into `shots/<width>/<role>/`, for a person to look
over in a minute.
"""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from crm.models import Contact
from crm.roles import Role
from keywords.models import KeywordResponder
from tests.support.csp import watch_for_csp_violations
from tests.support.factories import ConversationFactory, inbound_message, make_user
from tests.support.pages import DECISIONS, page_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sweep]

WIDTHS = {"phone": (390, 844), "small-phone": (360, 740), "laptop": (1366, 768)}
# Pages that answer a file to download rather than a page to look at.
DOWNLOADS = {
    "contacts-export",
    "import-bad-rows",
    "broadcast-list",
    "snapshot-download",
    "compliance-download",
}
LONG_NAME = "Maximiliana-Alexandrina " + "Wolfeschlegelsteinhausenbergerdorff" * 5
LONG_WORD_REPLY = (
    "Thanks for joining! Details: https://example.com/" + "very-long-path-segment/" * 12
)


def pages_for(role: Role) -> list[str]:
    """The names of the pages `role` may open in a browser."""
    return [
        name
        for name, decision in DECISIONS.items()
        if role in decision.roles and decision.get == 200 and name not in DOWNLOADS
    ]


def test_every_download_is_a_page_of_the_walk():
    assert set(DECISIONS) >= DOWNLOADS


@pytest.fixture
def stretched(own):
    """The world of every page, with texts long enough to push a careless layout sideways."""
    contact = own["contact"]
    contact.name = LONG_NAME[:200]
    contact.email = "a.very.long.address." + "x" * 60 + "@example.com"
    contact.save()
    conversation = own["conversation"]
    inbound_message(
        contact,
        conversation.line,
        "Could you send the form again? " + "https://forms.example.com/" + "q" * 300,
    )
    KeywordResponder.objects.filter(pk=own["responder"].pk).update(
        name=("Spring appointment reminders and the welcome for new patients " * 2)[:80],
        reply=LONG_WORD_REPLY,
    )
    return own


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER, Role.ADMIN])
def test_no_page_is_wider_than_the_screen(chromium, live_server, stretched, role, width, request):
    user = (
        stretched["admin"]
        if role == Role.ADMIN
        else make_user(stretched["line"].account, role, username=f"{role}-sweep")
    )
    viewport_width, viewport_height = WIDTHS[width]
    context = chromium.new_context(
        base_url=live_server.url,
        viewport={"width": viewport_width, "height": viewport_height},
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused = watch_for_csp_violations(page)
    shots = request.config.getoption("--screenshots")
    folder = Path(shots, width, str(role)) if shots else None
    if folder:
        folder.mkdir(parents=True, exist_ok=True)
    try:
        page.goto("/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill("pw")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/")
        too_wide = {}
        for name in pages_for(role):
            decision = DECISIONS[name]
            url = page_url(name, stretched[decision.obj].pk if decision.obj else 0)
            response = page.goto(url)
            assert response.ok, f"{url}: {response.status}"
            menu = page.get_by_role("button", name="Menu")
            if viewport_width < 1100:
                expect(menu).to_be_visible()
                expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
            else:
                expect(menu).to_be_hidden()
                expect(page.get_by_role("navigation", name="Main")).to_be_visible()
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > viewport_width:
                too_wide[url] = wide
            if folder:
                page.screenshot(path=folder / f"{name}.png", full_page=True)
        assert too_wide == {}, f"pages wider than {viewport_width} px: {too_wide}"
        assert refused == []
    finally:
        context.close()


def test_the_menu_opens_and_closes_with_the_keyboard(page, log_in, admin_user):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(admin_user.username)
    menu = page.get_by_role("button", name="Menu")
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation).to_be_hidden()
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(navigation).to_be_visible()
    expect(navigation.get_by_role("link", name="Overview")).to_be_focused()
    page.keyboard.press("Escape")
    expect(navigation).to_be_hidden()
    expect(menu).to_be_focused()
    menu.press("Enter")
    navigation.get_by_role("link", name="Contacts").press("Enter")
    page.wait_for_url(f"**{reverse('contacts')}")
    expect(page).to_have_title("Contacts · Capacity SMS")


@pytest.mark.parametrize("width", ["small-phone", "phone"])
def test_dialogs_and_results_fit_a_phone_too(page, log_in, stretched, width):
    """What a page shows after a click: the consent dialog, the opt-out confirmation, a report's
    results, the keyword tester's answer, a recipient's status."""
    viewport_width, viewport_height = WIDTHS[width]
    page.set_viewport_size({"width": viewport_width, "height": viewport_height})
    log_in(stretched["admin"].username)
    line = stretched["line"]

    def assert_fits():
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= viewport_width, f"{page.url}: {wide} px wide"

    page.goto(reverse("contacts"))
    page.get_by_role("link", name="View consent of Maximiliana").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert dialog.bounding_box()["width"] <= viewport_width
    assert_fits()

    newcomer = Contact.objects.create(
        account=line.account, phone="+12025550188", name="Bartholomew " + "Q" * 120
    )
    inbound_message(newcomer, line, "Hello there")
    conversation = ConversationFactory(account=line.account, contact=newcomer, line=line)
    page.goto(reverse("conversation", args=[conversation.pk]))
    page.get_by_role("button", name="Record an opt-out…").click()
    dialog = page.get_by_role("dialog", name="out of")
    expect(dialog).to_be_visible()
    assert dialog.bounding_box()["width"] <= viewport_width
    assert_fits()

    page.goto(reverse("snapshot"))
    page.get_by_label(str(line)).check()
    page.get_by_role("button", name="Run report").click()
    expect(page.get_by_role("heading", name="Opt-ins and opt-outs per week")).to_be_visible()
    assert_fits()

    page.goto(reverse("responders"))
    page.get_by_role("textbox", name="Message").fill("please stop texting me " * 10)
    page.get_by_role("button", name="Try it").click()
    expect(page.locator(".tester-result")).to_contain_text("Revocation")
    assert_fits()

    page.goto(reverse("conversation-new"))
    page.get_by_role("textbox", name="To").fill(stretched["contact"].phone)
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("status")).to_be_visible()
    assert_fits()


def test_the_admin_and_the_api_docs_keep_the_content_security_policy(page, log_in, stretched):
    staff = stretched["admin"]
    staff.is_staff = True
    staff.is_superuser = True
    staff.save()
    refused = watch_for_csp_violations(page)
    log_in(staff.username)
    response = page.goto(reverse("api-docs"))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_text("Capacity SMS API").first).to_be_visible()
    for url in (
        reverse("admin:index"),
        reverse("admin:crm_contact_changelist"),
        reverse("admin:crm_contact_change", args=[stretched["contact"].pk]),
        reverse("admin:crm_account_change", args=[stretched["line"].account_id]),
    ):
        assert page.goto(url).ok
    assert refused == []
