"""The Opt In & Out Snapshot in a real headless Chromium, download included."""

import csv

import pytest
from playwright.sync_api import expect

from crm import consent
from crm.models import ConsentSource, Contact, Line

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_runs_the_snapshot_on_two_lines_and_downloads_it(
    page, log_in, account, line, second_line, manager
):
    Line.objects.create(account=account, number="+14155550177", name="Billing")
    for n, (where, status) in enumerate(
        [(line, "opted_in"), (line, "opted_out"), (second_line, "opted_out")]
    ):
        contact = Contact.objects.create(account=account, phone=f"+120255501{n:02d}", name=f"P{n}")
        consent.record_consent(
            contact=contact,
            line=where,
            status=status,
            source=ConsentSource.IMPORT,
            note="crm.csv",
        )
    log_in(manager.username)
    page.get_by_role("link", name="Reporting").click()
    page.get_by_role("link", name="Opt In & Out Snapshot").click()
    page.get_by_role("button", name="Run report").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose at least one line.")

    page.get_by_label("Sales · (415) 555-0100").check()
    page.get_by_label("Support · (415) 555-0101").check()
    page.get_by_role("button", name="Run report").click()
    totals = page.locator("table.totals")
    expect(totals.locator(f'tr[data-line="{line.number}"] td')).to_have_text(["1", "1", "2", "50%"])
    expect(totals.locator(f'tr[data-line="{second_line.number}"] td')).to_have_text(
        ["0", "1", "1", "100%"]
    )
    rows = page.locator("table.snapshot-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("P0")
    expect(rows.nth(0)).to_contain_text("Opted in")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename.startswith("opt-in-out-snapshot_sales+support_current-")
    with open(download.path(), encoding="utf-8-sig", newline="") as downloaded:
        table = list(csv.reader(downloaded))
    assert table[0] == ["Contact", "Phone", "Line", "Status", "Since (UTC)", "Source"]
    assert [row[:4] for row in table[1:]] == [
        ["P0", "+12025550100", "Sales", "Opted in"],
        ["P1", "+12025550101", "Sales", "Opted out"],
        ["P2", "+12025550102", "Support", "Opted out"],
    ]
