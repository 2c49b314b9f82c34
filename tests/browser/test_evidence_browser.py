"""The consent record and the compliance audit in a real headless Chromium."""

import pytest
from playwright.sync_api import expect

from crm import consent
from crm.models import ConsentSource, ConsentStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_opens_a_contacts_consent_record_and_prints_it(
    page, log_in, contact, line, manager, admin_user
):
    consent.record_consent(
        contact=contact,
        line=line,
        status=ConsentStatus.OPTED_OUT,
        source=ConsentSource.AGENT,
        user=admin_user,
        note="Asked on the phone",
    )
    log_in(manager.username)
    page.goto(f"/crm/contacts/{contact.pk}/")
    page.get_by_role("link", name="Consent record").click()
    expect(page.get_by_role("heading", name="Consent record")).to_be_visible()
    expect(page.locator(".record-event")).to_contain_text("Asked on the phone")
    expect(page.locator(".record-event")).to_contain_text("✓ verified")
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.locator(".record-event")).to_be_visible()
    page.emulate_media(media="screen")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download as JSON").click()
    assert info.value.suggested_filename.startswith(f"consent-record-{contact.pk}-")


def test_a_manager_runs_the_compliance_audit(page, log_in, contact, line, manager):
    consent.record_consent(
        contact=contact,
        line=line,
        status=ConsentStatus.OPTED_OUT,
        source=ConsentSource.AGENT,
        user=manager,
        note="By e-mail",
    )
    log_in(manager.username)
    page.get_by_role("link", name="Reporting").click()
    page.get_by_role("link", name="Compliance audit").click()
    expect(page.get_by_role("heading", name="Compliance audit")).to_be_visible()
    expect(page.locator(".audit-totals")).to_contain_text("1 opt-outs received")
    expect(page.locator("#audit-opt-outs")).to_contain_text("Recorded by staff")
    page.get_by_label("Sales · (415) 555-0100").check()
    page.get_by_role("button", name="Run audit").click()
    expect(page.locator(".audit-totals")).to_contain_text("0 texts reached opted-out contacts")
    with page.expect_download() as info:
        page.locator("#audit-opt-outs").get_by_role("link", name="Download CSV").click()
    assert info.value.suggested_filename.startswith("compliance-opt-outs_")
