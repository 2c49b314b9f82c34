"""The daily rollups add up to what the event log says, whatever order the events came in."""

import random
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from crm import consent
from crm.as_of import statuses_as_of_sql
from crm.consent import ImportedStatus, record_imported_consents
from crm.consent_days import compact, rebuild, rebuild_unless_in_server_zone
from crm.models import (
    Consent,
    ConsentDay,
    ConsentDaysZone,
    ConsentEvent,
    ConsentOutcome,
    ConsentSource,
    ConsentStatus,
    ContactImport,
    OptOutScope,
)
from crm.services import contact_create, line_create
from crm.tasks import compact_consent_days
from reporting.snapshot import statuses_counted, weekly_trend

START = datetime(2026, 3, 1, tzinfo=UTC)
# Staff may lift an opt-out; an import or another system may not (their opt-ins are refused).
SOURCES = [ConsentSource.AGENT, ConsentSource.IMPORT, ConsentSource.API]


def counted_from_the_log(line_ids, as_of) -> dict[int, Counter]:
    sql, params = statuses_as_of_sql(as_of, line_ids=line_ids)
    counts = {line_id: Counter() for line_id in line_ids}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT line_id, status FROM ({sql}) s", params)  # noqa: S608
        for line_id, status in cursor.fetchall():
            counts[line_id][status] += 1
    return counts


def counted_now(line_ids) -> dict[int, Counter]:
    counts = {line_id: Counter() for line_id in line_ids}
    for line_id, status in Consent.objects.filter(line_id__in=line_ids).values_list(
        "line_id", "status"
    ):
        counts[line_id][status] += 1
    return counts


def as_plain(counts) -> dict[int, dict[str, int]]:
    return {line_id: {k: v for k, v in c.items() if v} for line_id, c in counts.items()}


def rollup_sums() -> dict[tuple, tuple[int, int]]:
    """(line, day, status) -> (net, changes), whatever rows hold them."""
    sums = Counter(), Counter()
    for line_id, day, status, net, changes in ConsentDay.objects.values_list(
        "line_id", "day", "status", "net", "changes"
    ):
        sums[0][(line_id, day, status)] += net
        sums[1][(line_id, day, status)] += changes
    return {key: (sums[0][key], sums[1][key]) for key in sums[0] if sums[0][key] or sums[1][key]}


@pytest.fixture
def shuffled_history(account, line, second_line, admin_user):
    """Events from 30 contacts on two lines, 400 of them, sent in shuffled order so many
    arrive late; sources that may and may not lift an opt-out; some account-wide opt-outs."""
    rng = random.Random(19)
    contacts = [contact_create(account=account, phone=f"+1415555{n:04d}") for n in range(30)]
    moments = [START + timedelta(hours=rng.randrange(0, 24 * 40)) for _ in range(400)]
    rng.shuffle(moments)
    lines = [line, second_line]
    for index, moment in enumerate(moments):
        if index == 200:
            account.opt_out_scope = OptOutScope.ACCOUNT
            account.save(update_fields=["opt_out_scope"])
        if index == 300:  # its opted-out contacts are opted out of a line added now
            lines.append(
                line_create(
                    account=account,
                    number="+14155550188",
                    name="Added later",
                    consent_policy=line.consent_policy,
                )
            )
        consent.record_consent(
            contact=rng.choice(contacts),
            line=rng.choice(lines),
            status=rng.choice(ConsentStatus.values),
            source=rng.choice(SOURCES),
            occurred_at=moment,
            user=admin_user,
            note="Asked at the front desk",
        )
    assert Consent.objects.filter(line=lines[2]).count() > 10
    return [each.pk for each in lines]


def test_totals_now_and_at_any_moment_match_the_log(shuffled_history):
    outcomes = set(ConsentEvent.objects.values_list("outcome", flat=True))
    assert outcomes == set(ConsentOutcome.values)  # every kind of event is exercised
    line_ids = shuffled_history
    assert as_plain(statuses_counted(line_ids)) == as_plain(counted_now(line_ids))
    rng = random.Random(7)
    moments = [START + timedelta(minutes=rng.randrange(0, 60 * 24 * 41)) for _ in range(40)]
    moments += list(ConsentEvent.objects.values_list("occurred_at", flat=True)[:20])
    for moment in moments:
        assert as_plain(statuses_counted(line_ids, moment)) == as_plain(
            counted_from_the_log(line_ids, moment)
        ), moment


def test_rebuilding_from_the_log_gives_what_the_engine_kept(shuffled_history):
    kept = rollup_sums()
    assert kept
    rebuild()
    assert rollup_sums() == kept
    assert ConsentDay.objects.count() == len(kept)


def test_compacting_merges_each_days_rows_and_keeps_the_sums(shuffled_history):
    kept = rollup_sums()
    rows = ConsentDay.objects.count()
    assert rows > len(kept)  # the engine appends a row per change
    removed = compact_consent_days.apply().get()  # as beat runs it
    assert ConsentDay.objects.count() == rows - removed == len(kept)
    assert rollup_sums() == kept
    assert compact() == 0
    line_ids = shuffled_history
    assert as_plain(statuses_counted(line_ids)) == as_plain(counted_now(line_ids))


def test_the_weekly_trend_reads_days_and_counts_changing_events(shuffled_history):
    until = START + timedelta(days=33, hours=5)
    weeks = weekly_trend(list(shuffled_history), until=until)
    changed = Counter(
        ConsentEvent.objects.filter(
            outcome=ConsentOutcome.CHANGED, occurred_at__lte=until
        ).values_list("status", flat=True)
    )
    first = datetime.combine(weeks[0].week, datetime.min.time(), tzinfo=UTC)
    before = Counter(
        ConsentEvent.objects.filter(
            outcome=ConsentOutcome.CHANGED, occurred_at__lt=first
        ).values_list("status", flat=True)
    )
    assert sum(week.opted_in for week in weeks) == changed["opted_in"] - before["opted_in"]
    assert sum(week.opted_out for week in weeks) == changed["opted_out"] - before["opted_out"]


def test_an_import_keeps_the_rollups(account, line, second_line, admin_user):
    contacts = [contact_create(account=account, phone=f"+1415556{n:04d}") for n in range(6)]
    consent.opt_out(contact=contacts[0], line=line, source=ConsentSource.API)
    contact_import = ContactImport.objects.create(
        account=account,
        uploaded_by=admin_user,
        file_name="old.csv",
        data=b"x",
        content_sha256="0" * 64,
        undated_at=START,
    )
    record_imported_consents(
        [
            ImportedStatus(c.pk, ln.pk, status, START + timedelta(days=n), "from the old CRM")
            for n, (c, ln, status) in enumerate(
                (c, ln, status)
                for c in contacts
                for ln, status in ((line, "opted_in"), (second_line, "opted_out"))
            )
        ],
        contact_import,
    )
    line_ids = [line.pk, second_line.pk]
    assert as_plain(statuses_counted(line_ids)) == as_plain(counted_now(line_ids))
    assert statuses_counted(line_ids)[second_line.pk]["opted_out"] == 6


def test_an_opt_out_adds_one_statement_to_the_engines_transaction(account, line, contact):
    with CaptureQueriesContext(connection) as recorded:
        consent.opt_out(contact=contact, line=line, source=ConsentSource.API)
    rollups = [q["sql"] for q in recorded.captured_queries if "crm_consentday" in q["sql"]]
    assert len(rollups) == 1
    assert rollups[0].startswith("INSERT")
    assert "ON CONFLICT" not in rollups[0]  # appended: no other change's row is waited for


def test_the_command_rebuilds_lost_rollups(shuffled_history):
    kept = rollup_sums()
    ConsentDay.objects.all().delete()
    out = StringIO()
    call_command("rebuild_consent_days", stdout=out)
    assert rollup_sums() == kept
    assert f"{ConsentDay.objects.count()} rollup rows written." in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_changes_on_one_line_never_wait_for_each_other(account, line, admin_user):
    """Two transactions each opt out two contacts on the same line on the same day, in
    opposite orders, each pausing between its two: with rows shared by the day they would
    hold one another's (a deadlock, or a STOP waiting on a broadcast's whole batch)."""
    contacts = [contact_create(account=account, phone=f"+1415557{n:04d}") for n in range(4)]
    both_started = threading.Barrier(2, timeout=10)
    errors = []

    def two_opt_outs(first, second):
        try:
            with transaction.atomic():
                consent.opt_out(contact=first, line=line, source=ConsentSource.API)
                both_started.wait()
                consent.opt_out(contact=second, line=line, source=ConsentSource.API)
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=two_opt_outs, args=(contacts[0], contacts[1])),
        threading.Thread(target=two_opt_outs, args=(contacts[2], contacts[3])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert statuses_counted([line.pk])[line.pk]["opted_out"] == 4


def late_evening_in_new_york(contact, line) -> None:
    """Opted out at 02:00 UTC on 2 March: still 1 March in New York."""
    consent.opt_out(
        contact=contact,
        line=line,
        source=ConsentSource.API,
        occurred_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
    )


def rollup_days(line) -> set:
    return set(ConsentDay.objects.filter(line=line).values_list("day", "status"))


def test_a_changed_time_zone_is_mended_by_the_compaction_task(
    account, line, contact, settings, caplog
):
    late_evening_in_new_york(contact, line)
    assert rollup_days(line) == {(date(2026, 3, 2), ConsentStatus.OPTED_OUT)}
    settings.TIME_ZONE = "America/New_York"
    compact_consent_days.apply().get()  # as beat runs it
    assert rollup_days(line) == {(date(2026, 3, 1), ConsentStatus.OPTED_OUT)}
    assert ConsentDaysZone.objects.get().time_zone == "America/New_York"
    assert "rebuilt for time zone America/New_York (they were cut in UTC)" in caplog.text
    end_of_first = datetime(2026, 3, 2, 4, 59, tzinfo=UTC)  # 23:59 on 1 March in New York
    assert statuses_counted([line.pk], end_of_first)[line.pk]["opted_out"] == 1
    assert statuses_counted([line.pk], datetime(2026, 3, 2, 1, tzinfo=UTC))[line.pk] == Counter()
    caplog.clear()
    compact_consent_days.apply().get()
    assert "rebuilt" not in caplog.text  # once, not on every run


def test_migrate_rebuilds_rollups_cut_in_another_zone_or_never_built(
    account, line, contact, settings
):
    late_evening_in_new_york(contact, line)
    settings.TIME_ZONE = "America/New_York"
    call_command("migrate", verbosity=0)  # a deploy: nothing to apply, the signal still runs
    assert rollup_days(line) == {(date(2026, 3, 1), ConsentStatus.OPTED_OUT)}

    ConsentDay.objects.all().delete()  # a database migrated from before the rollups
    ConsentDaysZone.objects.all().delete()
    call_command("migrate", verbosity=0)
    assert rollup_days(line) == {(date(2026, 3, 1), ConsentStatus.OPTED_OUT)}
    assert ConsentDaysZone.objects.get().time_zone == "America/New_York"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_change_committed_during_a_rebuild_is_counted_once(
    account, line, second_line, monkeypatch
):
    first, second = (contact_create(account=account, phone=f"+1415557{n:04d}") for n in range(2))
    consent.opt_out(contact=first, line=line, source=ConsentSource.API)
    deleted, changed = threading.Event(), threading.Event()
    record_zone = ConsentDaysZone.objects.update_or_create

    def between_delete_and_reading_the_log(**kwargs):
        deleted.set()
        changed.wait(timeout=1)  # the change waits for the rebuild's lock instead
        return record_zone(**kwargs)

    monkeypatch.setattr(
        ConsentDaysZone.objects, "update_or_create", between_delete_and_reading_the_log
    )

    def rebuilding():
        try:
            rebuild()
        finally:
            connections.close_all()

    thread = threading.Thread(target=rebuilding)
    thread.start()
    assert deleted.wait(timeout=10)
    consent.opt_out(contact=second, line=second_line, source=ConsentSource.API)
    changed.set()
    thread.join(timeout=10)
    line_ids = [line.pk, second_line.pk]
    assert as_plain(statuses_counted(line_ids)) == as_plain(counted_now(line_ids))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("events", "rollups", "recorded"),
    [
        (True, True, True),  # filled by 0021 as it was: not rebuilt again
        (True, False, False),  # events but no rollups: left for post_migrate to build
        (False, False, True),  # a new database: nothing to build
    ],
)
def test_the_zone_migration_records_the_zone_of_rollups_already_built(
    account, line, contact, events, rollups, recorded
):
    if events:
        late_evening_in_new_york(contact, line)
    if not rollups:
        ConsentDay.objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.migrate([("crm", "0021_consent_days")])
    executor.loader.build_graph()
    executor.migrate([("crm", "0022_consent_days_zone")])
    assert ConsentDaysZone.objects.filter(time_zone="UTC").exists() == recorded
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_noticing_a_new_zone_rebuild_once(
    account, line, contact, settings, monkeypatch
):
    late_evening_in_new_york(contact, line)
    settings.TIME_ZONE = "America/New_York"
    inside, rebuilt = threading.Event(), []
    record_zone = ConsentDaysZone.objects.update_or_create

    def slow_record_zone(**kwargs):
        inside.set()
        threading.Event().wait(0.5)  # the other process arrives meanwhile
        return record_zone(**kwargs)

    monkeypatch.setattr(ConsentDaysZone.objects, "update_or_create", slow_record_zone)

    def notice():
        try:
            rebuilt.append(rebuild_unless_in_server_zone())
        finally:
            connections.close_all()

    first = threading.Thread(target=notice)
    first.start()
    assert inside.wait(timeout=10)
    notice()
    first.join(timeout=10)
    assert sorted(rebuilt, key=str) == [1, None]
    assert rollup_days(line) == {(date(2026, 3, 1), ConsentStatus.OPTED_OUT)}
