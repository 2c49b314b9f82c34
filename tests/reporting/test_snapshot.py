"""The Opt In & Out Snapshot through the Django test client: rows now and as of, totals, CSV."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.csv_download import spreadsheet_safe
from crm import consent
from crm.models import ConsentSource, ConsentStatus, Contact
from reporting.snapshot import SnapshotRows
from tests.support.downloads import csv_rows
from tests.support.factories import keyword_consent

IN, OUT = ConsentStatus.OPTED_IN, ConsentStatus.OPTED_OUT
NOW = timezone.now().replace(microsecond=0)


def at(days_ago: float):
    return NOW - timedelta(days=days_ago)


@pytest.fixture
def history(account, line, second_line):
    """Ann changes three times on Sales; Bob has a status on Support only; Cy's STOP arrives
    after a newer START; Di's import opt-in is refused after her STOP."""
    ann = Contact.objects.create(account=account, phone="+12025550101", name="Ann")
    bob = Contact.objects.create(account=account, phone="+12025550102", name="Bob")
    cy = Contact.objects.create(account=account, phone="+12025550103", name="Cy")
    di = Contact.objects.create(account=account, phone="+12025550104", name="Di")
    keyword_consent(ann, line, IN, at(30))
    keyword_consent(ann, line, OUT, at(20))
    keyword_consent(ann, line, IN, at(10))
    keyword_consent(ann, line, IN, at(5))  # a repeat: Ann is opted in since day 10
    keyword_consent(bob, second_line, OUT, at(15))
    keyword_consent(cy, line, IN, at(3))
    keyword_consent(cy, line, OUT, at(8))  # older, recorded later: kept, does not override
    keyword_consent(di, line, OUT, at(12))
    consent.opt_in(contact=di, line=line, source=ConsentSource.IMPORT, note="old.csv")
    return {"ann": ann, "bob": bob, "cy": cy, "di": di}


def rows_of(lines, as_of=None, status="both"):
    return {
        (row["contact_name"], row["line_name"], row["status"], row["status_since"])
        for row in SnapshotRows(lines, status, as_of)
    }


def test_current_snapshot_matches_the_history(history, line, second_line):
    assert rows_of([line, second_line]) == {
        ("Ann", "Sales", IN, at(10)),
        ("Bob", "Support", OUT, at(15)),
        ("Cy", "Sales", IN, at(3)),
        ("Di", "Sales", OUT, at(12)),
    }
    assert rows_of([second_line], status=IN) == set()


@pytest.mark.parametrize(
    ("days_ago", "expected"),
    [
        (31, set()),
        (25, {("Ann", "Sales", IN, at(30))}),
        (
            14,
            {("Ann", "Sales", OUT, at(20)), ("Bob", "Support", OUT, at(15))},
        ),
        (
            6,
            {
                ("Ann", "Sales", IN, at(10)),
                ("Bob", "Support", OUT, at(15)),
                ("Cy", "Sales", OUT, at(8)),
                ("Di", "Sales", OUT, at(12)),
            },
        ),
    ],
)
def test_as_of_snapshots_match_the_history(history, line, second_line, days_ago, expected):
    assert rows_of([line, second_line], as_of=at(days_ago)) == expected


def test_as_of_now_equals_the_current_snapshot_on_random_histories(account, line, second_line):
    rng = random.Random(11)
    contacts = [
        Contact.objects.create(account=account, phone=f"+120255501{n:02d}", name=f"C{n}")
        for n in range(12)
    ]
    for _ in range(150):
        who, where = rng.choice(contacts), rng.choice([line, second_line])
        status, when = rng.choice([IN, OUT]), at(rng.uniform(0, 40))
        if rng.random() < 0.2:
            consent.record_consent(
                contact=who,
                line=where,
                status=status,
                source=ConsentSource.IMPORT,
                occurred_at=when,
            )
        else:
            keyword_consent(who, where, status, when)
    lines = [line, second_line]
    assert rows_of(lines, as_of=NOW + timedelta(seconds=1)) == rows_of(lines)


def test_page_shows_totals_the_opt_out_rate_and_the_rows(
    manager_client, history, line, second_line
):
    page = manager_client.get(
        reverse("snapshot"), {"lines": [line.pk, second_line.pk], "status": "both"}
    ).content.decode()
    sales = page.split(f'data-line="{line.number}"')[1].split("</tr>")[0]
    assert [cell.split("<")[0] for cell in sales.split('class="num">')[1:]] == [
        "2",
        "1",
        "3",
        "33%",
    ]
    support = page.split(f'data-line="{second_line.number}"')[1].split("</tr>")[0]
    assert "100%" in support
    rows = page.split('class="table snapshot-table"')[1]
    assert rows.index(">Ann<") < rows.index(">Bob<") < rows.index(">Cy<") < rows.index(">Di<")
    assert "Opt-ins and opt-outs per week" in page
    assert "<svg" in page


def test_the_weekly_trend_counts_changes_only(manager_client, history, line):
    page = manager_client.get(reverse("snapshot"), {"lines": [line.pk]})
    weeks = page.context["chart"].weeks
    assert len(weeks) == 12
    ins = sum(week.counts.opted_in for week in weeks)
    outs = sum(week.counts.opted_out for week in weeks)
    assert (ins, outs) == (3, 2)  # Ann in, out, in; Cy in; Di out. Late, repeated: not changes


def test_no_line_and_forged_lines_are_form_errors_not_data(
    manager_client, history, line, other_line, other_contact
):
    page = manager_client.get(reverse("snapshot"), {"status": "both"}).content.decode()
    assert "Choose at least one line." in page
    keyword_consent(other_contact, other_line, OUT, at(1))
    page = manager_client.get(reverse("snapshot"), {"lines": [other_line.pk]}).content.decode()
    assert "Select a valid choice" in page
    assert "Globex Ada" not in page
    download = manager_client.get(reverse("snapshot-download"), {"lines": [other_line.pk]})
    assert download.status_code == 400
    for odd in (
        {"lines": "abc"},
        {"lines": line.pk, "as_of": "yesterday"},
        {"lines": line.pk, "status": "x"},
    ):
        assert manager_client.get(reverse("snapshot"), odd).status_code == 200


def test_managers_and_admins_see_it_agents_get_403(client, agent, manager, admin_user, line):
    for user, expected in ((manager, 200), (admin_user, 200), (agent, 403)):
        client.force_login(user)
        for name in ("reports", "snapshot"):
            assert client.get(reverse(name)).status_code == expected
        download = client.get(reverse("snapshot-download"), {"lines": line.pk})
        assert download.status_code == expected


def add_rows(account, line, count, start=0):
    for n in range(start, start + count):
        contact = Contact.objects.create(
            account=account, phone=f"+1202556{n:04d}", name=f"P{n:04d}"
        )
        consent.record_consent(
            contact=contact,
            line=line,
            status=IN if n % 3 else OUT,
            source=ConsentSource.IMPORT,
            occurred_at=at(n % 20),
        )


@pytest.mark.parametrize("sort", ["", "-status_since", "phone", "-contact_name"])
def test_the_csv_holds_exactly_the_rows_of_every_page(manager_client, account, line, sort):
    add_rows(account, line, 120)
    query = {"lines": line.pk, "status": "both", "sort": sort}
    on_screen, page = [], 1
    while True:
        response = manager_client.get(reverse("snapshot"), {**query, "page": page})
        table = response.context["table"]
        on_screen += [
            [row.record["contact_name"], row.record["phone"], row.record["status"]]
            for row in table.page.object_list
        ]
        if not table.page.has_next():
            break
        page += 1
    download = manager_client.get(reverse("snapshot-download"), query)
    assert download.streaming
    assert "opt-in-out-snapshot_sales_current-" in download["Content-Disposition"]
    rows = csv_rows(download)
    assert rows[0] == ["Contact", "Phone", "Line", "Status", "Since (UTC)", "Source"]
    labels = {"Opted in": IN, "Opted out": OUT}
    assert [[name, phone, labels[status]] for name, phone, _, status, _, _ in rows[1:]] == on_screen
    assert len(on_screen) == 120


def test_csv_cells_are_spreadsheet_safe_but_phone_numbers_are_not_touched(
    manager_client, account, line
):
    names = ["=SUM(A1)", "@cmd", "-2+3", "\tTab", "+not a phone", "Plain", "+12025550123\n"]
    for n, name in enumerate(names):
        contact = Contact.objects.create(account=account, phone=f"+1202555{n:04d}", name=name)
        keyword_consent(contact, line, OUT, at(1))
    rows = csv_rows(manager_client.get(reverse("snapshot-download"), {"lines": line.pk}))
    cells = {row[0]: row[1] for row in rows[1:]}
    assert set(cells) == {spreadsheet_safe(name) for name in names}
    assert set(cells) == {"'=SUM(A1)", "'@cmd", "'-2+3", "'\tTab", "'+not a phone", "Plain"} | {
        "'+12025550123\n"
    }
    assert set(cells.values()) == {f"+1202555{n:04d}" for n in range(len(names))}


def test_as_of_is_in_the_file_name(manager_client, history, line):
    response = manager_client.get(
        reverse("snapshot-download"), {"lines": line.pk, "as_of": "2026-01-02T03:04"}
    )
    assert "opt-in-out-snapshot_sales_as-of-2026-01-02T0304.csv" in response["Content-Disposition"]


def test_query_count_does_not_grow_with_rows(manager_client, account, line):
    def count(**params):
        with CaptureQueriesContext(connection) as captured:
            manager_client.get(reverse("snapshot"), {"lines": line.pk, **params})
        return len(captured)

    add_rows(account, line, 3)
    few, few_as_of = count(), count(as_of=NOW.isoformat())
    add_rows(account, line, 80, start=3)
    assert count() == few
    assert count(as_of=NOW.isoformat()) == few_as_of


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_download_stopped_half_way_leaves_the_connection_usable(client, manager, account, line):
    add_rows(account, line, 300)
    client.force_login(manager)
    response = client.get(reverse("snapshot-download"), {"lines": line.pk})
    blocks = iter(response.streaming_content)
    assert next(blocks).startswith("\ufeffContact,Phone".encode())
    next(blocks)
    response.close()
    assert Contact.objects.filter(account=account).count() == 300
    assert client.get(reverse("snapshot"), {"lines": line.pk}).status_code == 200


def test_a_late_import_opt_in_inside_an_opt_out_is_refused_now_and_as_of(account, line):
    from crm.models import ConsentEvent, ConsentOutcome

    eve = Contact.objects.create(account=account, phone="+12025550109", name="Eve")
    keyword_consent(eve, line, OUT, at(10))
    keyword_consent(eve, line, OUT, at(5))
    late = consent.record_consent(
        contact=eve, line=line, status=IN, source=ConsentSource.IMPORT, occurred_at=at(7)
    )
    assert late.outcome == ConsentOutcome.REFUSED
    assert rows_of([line]) == {("Eve", "Sales", OUT, at(10))}
    assert rows_of([line], as_of=at(6)) == {("Eve", "Sales", OUT, at(10))}
    assert ConsentEvent.objects.filter(contact=eve).count() == 3


def test_as_of_and_since_in_another_time_zone(manager_client, account, line, settings):
    settings.TIME_ZONE = "America/New_York"
    zoe = Contact.objects.create(account=account, phone="+12025550108", name="Zoe")
    noon_utc = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)
    keyword_consent(zoe, line, OUT, noon_utc)
    before = manager_client.get(
        reverse("snapshot"), {"lines": line.pk, "as_of": "2026-01-01T07:00"}
    )
    after = manager_client.get(reverse("snapshot"), {"lines": line.pk, "as_of": "2026-01-01T07:01"})
    assert "Zoe" not in before.content.decode()
    assert "Zoe" in after.content.decode()
    rows = csv_rows(
        manager_client.get(
            reverse("snapshot-download"), {"lines": line.pk, "as_of": "2026-01-01T07:01"}
        )
    )
    assert rows[1][4] == "2026-01-01T12:00:30Z"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"as_of": "0001-01-01T00:00"}, "Choose a moment from 2000 on."),
        ({"as_of": "9999-12-31T23:59"}, "That moment has not happened yet"),
        (
            {"as_of": f"{timezone.localtime() + timedelta(hours=2):%Y-%m-%dT%H:%M}"},
            "That moment has not happened yet: leave As of empty for now.",
        ),
        ({"lines": str(2**70)}, "Select a valid choice"),
    ],
)
def test_impossible_moments_and_ids_are_form_errors(manager_client, line, params, error):
    query = {"lines": line.pk, **params}
    page = manager_client.get(reverse("snapshot"), query)
    assert page.status_code == 200
    assert error in page.content.decode()
    assert manager_client.get(reverse("snapshot-download"), query).status_code == 400
