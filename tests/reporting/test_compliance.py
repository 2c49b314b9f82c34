"""Reporting > Compliance: the audit of how opt-outs were honoured in a period."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conversations import sending
from conversations.backends.base import ProviderOutcomeUnknown, ProviderRejected
from conversations.backends.locmem import LocmemBackend
from conversations.models import Message, MessageStatus
from conversations.tasks import process_inbound_message
from crm import consent
from crm.consent import ImportedStatus
from crm.models import Account, ContactImport, RevocationPolicy
from tests.support.downloads import csv_rows
from tests.support.webhook_client import (
    inbound_params,
    new_sid,
    post_inbound,
    post_status,
    status_params,
)

# A Monday afternoon in New York (the account's zone).
MONDAY = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
ON_TIME, LATE, FAILED = "+12025550101", "+12025550102", "+12025550103"
IMPORTED, REFUSED, FLAGGED_OLD, FLAGGED_NEW = (
    "+12025550104",
    "+12025550105",
    "+12025550106",
    "+12025550107",
)


def lost_answer(backend, sms):
    raise ProviderOutcomeUnknown("connection reset after the request was sent")


def carrier_refuses(backend, sms):
    raise ProviderRejected("30007", "Carrier violation")


def contact_of(phone):
    from crm.models import Contact

    return Contact.objects.get(phone=phone)


@pytest.fixture
def audited(
    signed_account,
    line,
    second_line,
    client,
    deliver,
    clock,
    outbox,
    admin_user,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """A fortnight of opt-outs with every kind of problem the audit looks for."""
    Account.objects.filter(pk=signed_account.pk).update(time_zone="America/New_York")
    clock.set(MONDAY - timedelta(days=14))
    Account.objects.filter(pk=signed_account.pk).update(revocation_policy=RevocationPolicy.FLAG)
    deliver(client, inbound_params(line, sender=FLAGGED_OLD, body="please stop texting me"))
    Account.objects.filter(pk=signed_account.pk).update(revocation_policy=RevocationPolicy.OPT_OUT)

    clock.set(MONDAY)
    deliver(client, inbound_params(line, sender=ON_TIME, body="STOP"))
    # The provider took the confirmation but the worker lost the answer; its "sent" report
    # came seven minutes later: a late confirmation.
    with monkeypatch.context() as patch:
        patch.setattr(LocmemBackend, "send", lost_answer)
        deliver(client, inbound_params(line, sender=LATE, body="Unsubscribe"))
    taken = Message.objects.get(remote_number=LATE, direction="outbound")
    clock.advance(timedelta(minutes=7))
    report = status_params(line, new_sid(), "sent", To=LATE)
    assert post_status(client, report, query=f"message={taken.pk}").status_code == 204
    # A confirmation the carrier refused: not sent.
    with monkeypatch.context() as patch:
        patch.setattr(LocmemBackend, "send", carrier_refuses)
        deliver(client, inbound_params(line, sender=FAILED, body="stop"))

    # A text sent at noon to someone whose opt-out of 9:00 was only imported afterwards.
    deliver(client, inbound_params(second_line, sender=IMPORTED, body="Hi"))
    imported = contact_of(IMPORTED)
    clock.set(MONDAY + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        texted = sending.send_message(contact=imported, line=second_line, body="Your order shipped")
    clock.set(MONDAY + timedelta(hours=2))
    upload = ContactImport.objects.create(
        account=signed_account,
        uploaded_by=admin_user,
        file_name="legacy.csv",
        data=b"x",
        content_sha256="0" * 64,
        undated_at=MONDAY,
    )
    consent.record_imported_consents(
        [
            ImportedStatus(
                contact_id=imported.pk,
                line_id=second_line.pk,
                status="opted_out",
                occurred_at=MONDAY - timedelta(hours=3),
                note="row 7",
            )
        ],
        upload,
    )
    # A text the carrier refused: the person had unsubscribed there (21610).
    deliver(client, inbound_params(second_line, sender=REFUSED, body="Hello"))
    with django_capture_on_commit_callbacks(execute=True):
        refused = sending.send_message(contact=contact_of(REFUSED), line=second_line, body="Promo")
    refused.refresh_from_db()
    report = status_params(
        second_line, refused.provider_message_id, "undelivered", ErrorCode="21610"
    )
    assert post_status(client, report).status_code == 204
    Account.objects.filter(pk=signed_account.pk).update(revocation_policy=RevocationPolicy.FLAG)
    deliver(client, inbound_params(line, sender=FLAGGED_NEW, body="remove me from your list"))
    clock.set(MONDAY + timedelta(days=1))
    return {"texted": texted, "refused": refused}


def audit_url(name: str = "compliance", *args, **query) -> str:
    from urllib.parse import urlencode

    return reverse(name, args=args) + ("?" + urlencode(query, doseq=True) if query else "")


PERIOD = {"start": "2026-11-01", "end": "2026-11-17"}


def test_the_totals_name_each_problem(audited, manager_client):
    response = manager_client.get(audit_url(**PERIOD))
    totals = response.context
    assert totals["opt_out_total"] == 5
    by_source = {row["source"]: row["total"] for row in totals["by_source"]}
    assert by_source == {"Keyword": 3, "Import": 1, "Provider rejection": 1}
    assert totals["verdicts"]["on_time"] == 1
    assert totals["verdicts"]["late"] == 1
    assert totals["verdicts"]["not_sent"] == 1
    assert totals["late_or_missing"] == 2
    assert totals["reached_count"] == 1
    assert totals["error_count"] == 1
    assert (totals["flag_count"], totals["overdue_count"]) == (2, 1)


def test_the_tables_show_the_late_the_missing_and_the_texts(audited, manager_client):
    page = manager_client.get(audit_url(**PERIOD)).content.decode()
    assert "Late" in page
    assert "7 min 0 s" in page
    assert "Not sent (failed)" in page
    assert "Your order shipped" in page  # reached a contact opted out (by import) at 9:00
    assert "Promo" in page  # the 21610
    assert "please stop texting me" in page
    assert "(overdue)" in page
    # Times in the account's zone: 17:00 UTC on Monday is noon in New York.
    assert "Nov 16, 2026 12:00:00 EST" in page


def test_each_part_downloads_whole_as_csv(audited, manager_client):
    def download(section):
        response = manager_client.get(audit_url("compliance-download", section, **PERIOD))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        return csv_rows(response)

    confirmations = download("confirmations")
    assert confirmations[0][:2] == ["Opted out (UTC)", "Opted out (America/New_York)"]
    assert sorted(row[6] for row in confirmations[1:]) == ["Late", "Not sent", "Within 5 minutes"]
    late = next(row for row in confirmations[1:] if row[6] == "Late")
    assert late[9] == "420"
    assert len(download("opt-outs")) == 1 + 5
    reached = download("reached")
    assert [row[5] for row in reached[1:]] == ["Your order shipped"]
    assert reached[1][-1] == "Import"
    assert [row[5] for row in download("errors")[1:]] == ["Promo"]
    flags = download("flags")
    assert [row[-2] for row in flags[1:]] == ["yes", "no"]


def test_the_period_and_lines_limit_the_audit(audited, manager_client, line, second_line):
    only_first = manager_client.get(audit_url(lines=[line.pk], **PERIOD)).context
    assert only_first["reached_count"] == 0  # the late-imported opt-out was on the second line
    assert only_first["error_count"] == 0
    before = manager_client.get(audit_url(start="2026-11-01", end="2026-11-10")).context
    assert before["opt_out_total"] == 0
    assert before["flag_count"] == 2  # an open flag is due whatever the period


def test_the_default_is_the_last_thirty_days(audited, manager_client):
    form = manager_client.get(reverse("compliance")).context["form"]
    assert form.cleaned_data["end"].isoformat() == "2026-11-17"
    assert form.cleaned_data["start"].isoformat() == "2026-10-19"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-11-10", "end": "2026-11-01"}, "ends before it starts"),
        ({"start": "1999-01-01", "end": "2026-11-01"}, "Choose days between 2000"),
        ({"start": "2026-11-01", "end": "2027-01-01"}, "Choose days between 2000"),
        ({"start": "yesterday", "end": "2026-11-01"}, "Enter a valid date"),
        ({"lines": ["999999999999999999999"], **PERIOD}, "Select a valid choice"),
    ],
)
def test_bad_choices_are_named_and_the_download_is_400(audited, manager_client, query, message):
    response = manager_client.get(audit_url(**query))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "period" not in response.context
    download = manager_client.get(audit_url("compliance-download", "reached", **query))
    assert download.status_code == 400


def test_only_managers_and_admins_and_no_unknown_parts(audited, agent_client):
    assert agent_client.get(audit_url()).status_code == 403
    assert agent_client.get(reverse("compliance-download", args=["reached"])).status_code == 403


def test_an_unknown_part_is_404(audited, manager_client):
    assert manager_client.get(reverse("compliance-download", args=["secrets"])).status_code == 404


def test_the_page_costs_the_same_queries_with_more_rows(
    audited, manager_client, line, client, clock
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(audit_url(**PERIOD)).status_code == 200
        return len(captured)

    few = queries()
    for index in range(5):
        post_inbound(client, inbound_params(line, sender=f"+1202555020{index}", body="STOP"))
    clock.advance(timedelta(minutes=6))  # too late to confirm: five more rows to show
    for stored in Message.objects.filter(status=MessageStatus.RECEIVED):
        process_inbound_message.delay(stored.pk)
    assert queries() == few
    assert manager_client.get(audit_url(**PERIOD)).context["verdicts"]["not_sent"] == 6


@pytest.mark.parametrize(
    ("now", "overdue"),
    [
        (datetime(2026, 11, 20, 14, 59, tzinfo=UTC), 0),  # Friday 9:59 in New York
        (datetime(2026, 11, 20, 15, 1, tzinfo=UTC), 1),  # Friday 10:01: the deadline passed
    ],
)
def test_a_flag_is_overdue_exactly_when_its_deadline_has_passed(
    signed_account, line, client, deliver, clock, manager, now, overdue
):
    """Flagged on a Saturday at 10:00: ten business days end on the second Friday at 10:00."""
    Account.objects.filter(pk=signed_account.pk).update(
        time_zone="America/New_York", revocation_policy=RevocationPolicy.FLAG
    )
    clock.set(datetime(2026, 11, 7, 15, 0, tzinfo=UTC))
    deliver(client, inbound_params(line, sender=FLAGGED_OLD, body="please stop texting me"))
    clock.set(now)
    client.force_login(manager)
    response = client.get(audit_url(start="2026-11-01", end="2026-11-20"))
    assert response.context["overdue_count"] == overdue
    page = response.content.decode()
    assert "Nov 20, 2026 10:00:00 EST" in page
    assert ("(overdue)" in page) == bool(overdue)
    download = client.get(
        audit_url("compliance-download", "flags", start="2026-11-01", end="2026-11-20")
    )
    rows = csv_rows(download)
    assert rows[1][-2] == ("yes" if overdue else "no")
