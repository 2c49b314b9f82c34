"""CRM > Contacts in a real headless Chromium: the View Consent dialog, and an import."""

import pytest
from playwright.sync_api import expect

from crm import consent
from crm.models import ConsentSource, Contact, Line
from tests.support.factories import inbound_message

pytestmark = pytest.mark.django_db(transaction=True)


def test_view_shows_every_line_and_escape_returns_focus_to_the_button(
    page, log_in, account, line, second_line, agent
):
    mia = Contact.objects.create(account=account, phone="+12025550111", name="Mia Mixed")
    Contact.objects.create(account=account, phone="+12025550112", name="Other Person")
    consent.opt_out(
        contact=mia,
        line=line,
        source=ConsentSource.KEYWORD,
        message=inbound_message(mia, line, "STOP"),
        keyword="STOP",
    )
    consent.opt_in(
        contact=mia,
        line=second_line,
        source=ConsentSource.KEYWORD,
        message=inbound_message(mia, second_line, "START"),
        keyword="START",
    )
    Line.objects.create(account=account, number="+14155550177", name="Billing")

    log_in(agent.username)
    page.goto("/crm/contacts/")
    button = page.get_by_role("link", name="View consent of Mia Mixed")
    button.click()
    dialog = page.get_by_role("dialog", name="Consent of Mia Mixed")
    expect(dialog).to_be_visible()
    rows = dialog.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(dialog.locator('tr[data-line="+14155550100"] .badge-out')).to_have_text("✕ Opted out")
    expect(dialog.locator('tr[data-line="+14155550101"] .badge-in')).to_have_text("✓ Opted in")
    expect(dialog.locator('tr[data-line="+14155550177"] .badge-none')).to_have_text("– Not Defined")
    assert page.evaluate("document.activeElement.closest('dialog') !== null")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()

    button.press("Enter")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()


def test_an_admin_imports_a_file_and_watches_it_finish(
    page, log_in, account, line, admin_user, tmp_path
):
    csv_file = tmp_path / "earlier-provider.csv"
    csv_file.write_text(
        "Name,Phone,Sales\nAnn Able,2025550101,opted_out\nBob Bad,12345,opted_in\n",
        encoding="utf-8",
    )
    log_in(admin_user.username)
    page.goto("/crm/contacts/")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("CSV file", exact=True).set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_label("Phone", exact=True)).to_have_value("phone")
    expect(page.get_by_label("Sales", exact=True)).to_have_value(f"consent:{line.pk}")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Done")).to_be_visible()
    expect(page.locator("progress")).to_have_attribute("value", "2")
    expect(page.locator(".bad-rows")).to_contain_text("Phone number:")
    expect(page.get_by_role("status")).to_have_text(
        "Done: 1 created, 0 updated, 0 skipped, 1 bad row."
    )
    page.get_by_role("link", name="Contacts", exact=True).first.click()
    page.get_by_role("link", name="View consent of Ann Able").click()
    expect(page.get_by_role("dialog").locator(".badge-out")).to_have_text("✕ Opted out")
