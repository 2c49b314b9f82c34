"""One snapshot page read through indexes (reporting.snapshot_pages) gives exactly the rows
the full query gives for the same slice, now and as of any moment, in one statement."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm import consent
from crm.models import ConsentEvent, ConsentOutcome, ConsentSource, ConsentStatus, Contact, Line
from reporting import snapshot
from reporting.snapshot import SnapshotRows
from reporting.snapshot_pages import page_rows
from tests.support.factories import keyword_consent

IN, OUT = ConsentStatus.OPTED_IN, ConsentStatus.OPTED_OUT
STATUSES = ("both", IN, OUT)
NOW = timezone.now().replace(microsecond=0)
SLICES = [(0, 1), (0, 3), (2, 7), (5, 6), (0, 51), (3, 40), (10, 20), (30, 81)]


def at(days_ago: float):
    return NOW - timedelta(days=days_ago)


@pytest.fixture
def zeta(account) -> Line:
    """Created first (the smaller id) but sorted last by name."""
    return Line.objects.create(account=account, number="+14155550110", name="Zeta")


@pytest.fixture
def alpha(account, zeta) -> Line:
    return Line.objects.create(account=account, number="+14155550111", name="Alpha")


def imported(contact, line, status, when):
    """An import's status: an opt-in over an opt-out is refused (not explicit)."""
    return consent.record_consent(
        contact=contact, line=line, status=status, source=ConsentSource.IMPORT, occurred_at=when
    )


@pytest.fixture
def crafted(account, zeta, alpha):
    """The cases the rule turns on, each on a contact of its own."""
    make = Contact.objects.create
    # Equal names: the later-created contact has the smaller phone, so phone, not id, decides.
    ann_b = make(account=account, phone="+12025550202", name="Ann")
    ann_a = make(account=account, phone="+12025550201", name="Ann")
    late = make(account=account, phone="+12025550203", name="Late")
    refused = make(account=account, phone="+12025550204", name="Refused")
    tie = make(account=account, phone="+12025550205", name="Tie")
    make(account=account, phone="+12025550206", name="Nobody")  # no status anywhere
    one_line = make(account=account, phone="+12025550207", name="")  # no name, Zeta only
    keyword_consent(ann_b, zeta, IN, at(30))
    keyword_consent(ann_b, alpha, OUT, at(25))
    keyword_consent(ann_a, alpha, IN, at(28))
    keyword_consent(ann_a, alpha, OUT, at(18))
    # Late events. On Alpha an opt-in older than the current run's first one moves "since"
    # back (day 10 to 15). On Zeta one moves the start of a past run back (day 20 to 24) and
    # an opt-out at day 16, recorded last, cuts that run short: as of day 15, out since 16.
    keyword_consent(late, alpha, IN, at(10))
    keyword_consent(late, alpha, IN, at(15))
    keyword_consent(late, zeta, OUT, at(30))
    keyword_consent(late, zeta, IN, at(20))
    keyword_consent(late, zeta, IN, at(24))
    keyword_consent(late, zeta, OUT, at(14))
    keyword_consent(late, zeta, IN, at(12))
    keyword_consent(late, zeta, IN, at(4))
    keyword_consent(late, zeta, OUT, at(16))  # late: between day 24's start and day 14's stop
    # Refused import opt-ins inside an opt-out count nowhere.
    keyword_consent(refused, alpha, OUT, at(10))
    assert imported(refused, alpha, IN, at(5)).outcome == ConsentOutcome.REFUSED
    keyword_consent(refused, alpha, OUT, at(3))
    assert imported(refused, alpha, IN, at(6)).outcome == ConsentOutcome.REFUSED  # late too
    keyword_consent(refused, zeta, IN, at(9))
    # Two events at the very same moment: the later recorded (larger id) one wins.
    keyword_consent(tie, zeta, IN, at(8))
    keyword_consent(tie, zeta, OUT, at(8))
    keyword_consent(tie, alpha, OUT, at(7))
    keyword_consent(tie, alpha, IN, at(7))
    keyword_consent(tie, alpha, IN, at(6))
    keyword_consent(one_line, zeta, OUT, at(3) + timedelta(microseconds=250))
    return [zeta, alpha]


def random_history(account, lines, contacts: int, seed: int, start: int = 0) -> None:
    """`contacts` contacts (names repeat) with events on some of the lines, recorded out of
    order, at moments from a small set (ties), some imported (refusals)."""
    rng = random.Random(seed)
    names = ["Ann", "Bob", "Cy", "Di", "", "Zed"]
    moments = [at(day) for day in range(2, 40, 3)]
    for n in range(start, start + contacts):
        person = Contact.objects.create(
            account=account,
            phone=f"+1202556{n * 7919 % 10000:04d}",  # unique, not in creation order
            name=rng.choice(names),
        )
        for line in lines:
            for _ in range(rng.choice([0, 1, 1, 2, 3, 5])):
                status, when = rng.choice([IN, OUT]), rng.choice(moments)
                if rng.random() < 0.3:
                    imported(person, line, status, when)
                else:
                    keyword_consent(person, line, status, when)


def full(lines, status, as_of, start, stop):
    return SnapshotRows(lines, status, as_of).sorted_slice(start, stop)


def assert_pages_match(lines, moments, slices=SLICES):
    for as_of in moments:
        for status in STATUSES:
            everything = full(lines, status, as_of, 0, 10_000)
            for start, stop in [*slices, (0, len(everything) + 5), (len(everything) - 1, 999)]:
                expected = everything[max(start, 0) : stop]
                assert full(lines, status, as_of, max(start, 0), stop) == expected
                got = page_rows(lines, status, as_of, max(start, 0), stop)
                assert got == expected, (as_of, status, start, stop)


def event_moments():
    """Every moment an event happened, a moment either side of each, before all and now."""
    times = sorted(set(ConsentEvent.objects.values_list("occurred_at", flat=True)))
    step = timedelta(microseconds=1)
    around = {moment + delta for moment in times for delta in (-step, timedelta(0), step)}
    return [None, at(60), *sorted(around), NOW + timedelta(seconds=1)]


def test_crafted_cases_match_the_full_query(crafted):
    zeta, alpha = crafted
    for lines in ([zeta, alpha], [alpha], [zeta]):
        assert_pages_match(lines, event_moments(), slices=[(0, 2), (1, 4), (3, 8), (0, 50)])


def test_the_crafted_cases_read_as_the_rule_says(crafted):
    zeta, alpha = crafted
    rows = page_rows([zeta, alpha], "both", None, 0, 50)
    assert [(row["contact_name"], row["phone"][-3:], row["line_name"]) for row in rows] == [
        ("", "207", "Zeta"),
        ("Ann", "201", "Alpha"),
        ("Ann", "202", "Alpha"),
        ("Ann", "202", "Zeta"),
        ("Late", "203", "Alpha"),
        ("Late", "203", "Zeta"),
        ("Refused", "204", "Alpha"),
        ("Refused", "204", "Zeta"),
        ("Tie", "205", "Alpha"),
        ("Tie", "205", "Zeta"),
    ]
    late = [(row["status"], row["status_since"]) for row in rows if row["contact_name"] == "Late"]
    assert late == [(IN, at(15)), (IN, at(12))]
    as_of = page_rows([zeta], "both", at(15), 0, 50)
    assert [(row["contact_name"], row["status"], row["status_since"]) for row in as_of] == [
        ("Ann", IN, at(30)),
        ("Late", OUT, at(16)),
    ]
    ties = page_rows([zeta, alpha], OUT, at(6.5), 0, 50)
    assert [(row["contact_name"], row["line_name"]) for row in ties] == [
        ("Ann", "Alpha"),
        ("Ann", "Alpha"),
        ("Refused", "Alpha"),
        ("Tie", "Zeta"),
    ]


@pytest.mark.parametrize("seed", [3, 17])
def test_random_histories_match_the_full_query(account, zeta, alpha, seed):
    random_history(account, [zeta, alpha], contacts=40, seed=seed)
    moments = event_moments()
    sample = [None, *random.Random(seed).sample(moments[1:], 12), moments[-1]]
    assert_pages_match([zeta, alpha], sample)
    assert_pages_match([alpha], [None, moments[len(moments) // 2]])


def test_one_page_is_one_statement_whatever_the_size(account, zeta, alpha):
    cases = [("both", None), (OUT, None), ("both", at(9)), (IN, at(9))]

    def statements() -> list[int]:
        counts = []
        for status, as_of in cases:
            with CaptureQueriesContext(connection) as captured:
                assert page_rows([zeta, alpha], status, as_of, 0, 51)
            counts.append(len(captured))
        return counts

    random_history(account, [zeta, alpha], contacts=10, seed=5)
    few = statements()
    random_history(account, [zeta, alpha], contacts=50, seed=6, start=10)
    assert statements() == few == [1, 1, 1, 1]


def test_other_orders_open_ends_and_mixed_accounts_fall_back(crafted, other_line):
    zeta, _ = crafted
    assert page_rows([zeta], "both", None, 0, 10, ordering=("phone",)) is None
    assert page_rows([zeta], "both", None, 0, 10, ordering=("contact_name", "phone")) is None
    assert page_rows([zeta], "both", None, 0, None) is None
    assert page_rows([zeta, other_line], "both", None, 0, 10) is None
    assert page_rows([], "both", None, 0, 10) == []
    assert page_rows([zeta], "both", None, 5, 5) == []
    assert page_rows([zeta], "both", None, 0, 10, ordering=snapshot.DEFAULT_ORDER)


def snapshot_page_statements(client, lines, **query) -> tuple[int, str]:
    params = "&".join(f"lines={line.pk}" for line in lines)
    extra = "".join(f"&{key}={value}" for key, value in query.items())
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/reporting/snapshot/?{params}{extra}")
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.parametrize("as_of", ["", (NOW - timedelta(days=11)).strftime("%Y-%m-%dT%H:%M")])
def test_the_snapshot_page_takes_the_same_statements_at_two_sizes(
    manager_client, account, zeta, alpha, as_of
):
    query = {"status": "both", **({"as_of": as_of} if as_of else {})}
    random_history(account, [zeta, alpha], contacts=15, seed=5)
    small, _ = snapshot_page_statements(manager_client, [zeta, alpha], **query)
    random_history(account, [zeta, alpha], contacts=60, seed=6, start=15)
    large, page = snapshot_page_statements(manager_client, [zeta, alpha], **query)
    assert small == large
    body = page.rsplit("<tbody", 1)[1].split("</tbody>", 1)[0]  # the rows, the last table
    assert body.count("<tr") == 50  # a full page, so the walk did not stop early


def test_a_page_past_the_end_and_a_rare_status_agree_with_the_full_query(
    manager_client, account, zeta, alpha
):
    people = [
        Contact.objects.create(account=account, phone=f"+1202557{n:04d}", name=f"P{n:03d}")
        for n in range(45)
    ]
    for person in people:
        keyword_consent(person, zeta, IN, at(5))
    keyword_consent(people[7], zeta, OUT, at(2))  # 1 of 45: rare, read by the full query
    for status in ("both", IN, OUT):
        rows = SnapshotRows([zeta, alpha], status, None)
        assert rows[0:50] == rows.sorted_slice(0, 50)
        assert rows[100:150] == []
    assert [row["phone"] for row in SnapshotRows([zeta], OUT, None)[0:50]] == [people[7].phone]
