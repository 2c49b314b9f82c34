import random
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm import consent
from crm.models import (
    Consent,
    ConsentEvent,
    ConsentOutcome,
    ConsentSource,
    ConsentStatus,
    Contact,
    ImmutableEventError,
)
from crm.selectors import contact_consent_by_line, contact_consent_on_line
from tests.support.factories import keyword_consent

OUT = ConsentStatus.OPTED_OUT
IN = ConsentStatus.OPTED_IN
T0 = timezone.now().replace(microsecond=0) - timedelta(days=30)


def at(minutes: int):
    return T0 + timedelta(minutes=minutes)


def keyword(contact, line, status, minutes, word=""):
    return keyword_consent(contact, line, status, at=at(minutes), word=word)


def current(contact, line):
    return Consent.objects.filter(contact=contact, line=line).first()


@pytest.mark.parametrize("status", [OUT, IN])
def test_not_defined_to_each_state(contact, line, status):
    assert current(contact, line) is None
    event = keyword(contact, line, status, 0)
    row = current(contact, line)
    assert (row.status, row.since, row.cause_id) == (status, at(0), event.pk)
    assert (event.previous_status, event.outcome) == ("", ConsentOutcome.CHANGED)


def test_opt_out_then_opt_in_then_out(contact, line):
    keyword(contact, line, OUT, 0)
    back_in = keyword(contact, line, IN, 10)
    assert current(contact, line).status == IN
    assert (back_in.previous_status, back_in.outcome) == (OUT, ConsentOutcome.CHANGED)
    again = keyword(contact, line, OUT, 20)
    assert current(contact, line).status == OUT
    assert current(contact, line).since == at(20)
    assert again.previous_status == IN


def test_repeated_opt_out_is_recorded_as_no_op_and_keeps_since(contact, line):
    first = keyword(contact, line, OUT, 0)
    repeat = keyword(contact, line, OUT, 5)
    assert (repeat.previous_status, repeat.outcome) == (OUT, ConsentOutcome.UNCHANGED)
    row = current(contact, line)
    assert (row.status, row.since, row.cause_id, row.latest_at) == (OUT, at(0), first.pk, at(5))
    assert ConsentEvent.objects.filter(contact=contact, line=line).count() == 2


def test_older_event_arriving_late_is_recorded_but_does_not_override(contact, line):
    newer = keyword(contact, line, IN, 10)
    older = keyword(contact, line, OUT, 5)
    assert older.outcome == ConsentOutcome.SUPERSEDED
    assert older.previous_status == IN
    assert older.resulting_status == IN
    row = current(contact, line)
    assert (row.status, row.cause_id, row.since) == (IN, newer.pk, at(10))


def test_late_event_inside_a_run_moves_its_start(contact, line):
    keyword(contact, line, OUT, 0)
    confirm = keyword(contact, line, OUT, 20)  # a repeat: the run of opt-outs began at 0
    assert current(contact, line).since == at(0)
    keyword(contact, line, IN, 10)  # arrives late, lands between the two opt-outs
    row = current(contact, line)
    assert (row.status, row.since, row.cause_id) == (OUT, at(20), confirm.pk)


def test_late_same_status_event_extends_the_run_backwards(contact, line):
    keyword(contact, line, IN, 0)
    keyword(contact, line, OUT, 20)
    early_out = keyword(contact, line, OUT, 10)
    row = current(contact, line)
    assert (row.status, row.since, row.cause_id) == (OUT, at(10), early_out.pk)


def test_same_occurred_at_later_recording_wins(contact, line):
    keyword(contact, line, OUT, 0)
    keyword(contact, line, IN, 0)
    assert current(contact, line).status == IN


def test_consent_is_per_line(contact, line, second_line):
    keyword(contact, line, OUT, 0)
    assert current(contact, line).status == OUT
    assert current(contact, second_line) is None
    statuses = {c.line.pk: c.status for c in contact_consent_by_line(contact)}
    assert statuses == {line.pk: OUT, second_line.pk: ""}


def replay(events):
    """Fold the event log independently of the engine: latest by (occurred_at, id) wins."""
    state = {}
    for event in sorted(events, key=lambda e: (e.occurred_at, e.pk)):
        if event.outcome == ConsentOutcome.REFUSED:
            continue
        key = (event.contact_id, event.line_id)
        previous = state.get(key)
        if previous and previous["status"] == event.status:
            continue
        state[key] = {"status": event.status, "since": event.occurred_at, "cause": event.pk}
    return state


def test_replaying_the_event_log_reproduces_current_rows(account, line, second_line, agent):
    rng = random.Random(7)
    contacts = [
        Contact.objects.create(account=account, phone=f"+1202555{100 + i:04d}") for i in range(6)
    ]
    for step in range(200):
        contact, target = rng.choice(contacts), rng.choice([line, second_line])
        status = rng.choice([IN, OUT])
        late = rng.randint(0, 90) if rng.random() < 0.3 else 0  # some arrive out of order
        minutes = step * 3 - late
        if rng.random() < 0.15:
            consent.record_consent(
                contact=contact,
                line=target,
                status=status,
                source=ConsentSource.IMPORT,
                note="old.csv",
                occurred_at=at(minutes),
            )
        elif status == OUT and rng.random() < 0.3:
            consent.opt_out(
                contact=contact,
                line=target,
                source=ConsentSource.AGENT,
                user=agent,
                note="asked by phone",
                occurred_at=at(minutes),
            )
        else:
            keyword(contact, target, status, minutes)
    expected = replay(ConsentEvent.objects.all())
    rows = {
        (row.contact_id, row.line_id): {
            "status": row.status,
            "since": row.since,
            "cause": row.cause_id,
        }
        for row in Consent.objects.all()
    }
    assert rows == expected
    assert len(rows) > 5
    assert ConsentEvent.objects.filter(outcome=ConsentOutcome.SUPERSEDED).exists()
    assert ConsentEvent.objects.filter(outcome=ConsentOutcome.UNCHANGED).exists()
    assert ConsentEvent.objects.filter(outcome=ConsentOutcome.REFUSED).exists()


@pytest.mark.parametrize("source", [ConsentSource.IMPORT, ConsentSource.API])
def test_an_import_or_api_opt_in_never_lifts_an_opt_out(contact, line, source):
    stop = keyword(contact, line, OUT, 0)
    event = consent.record_consent(
        contact=contact, line=line, status=IN, source=source, note="crm.csv", occurred_at=at(10)
    )
    assert (event.outcome, event.resulting_status) == (ConsentOutcome.REFUSED, OUT)
    row = current(contact, line)
    assert (row.status, row.cause_id, row.latest_at) == (OUT, stop.pk, at(0))
    start = keyword(contact, line, IN, 20)
    assert start.outcome == ConsentOutcome.CHANGED
    assert current(contact, line).status == IN


def test_an_import_may_opt_in_a_contact_with_no_opt_out(contact, line):
    event = consent.record_consent(
        contact=contact, line=line, status=IN, source=ConsentSource.IMPORT, note="crm.csv"
    )
    assert event.outcome == ConsentOutcome.CHANGED
    assert current(contact, line).status == IN


def test_agent_opt_out_needs_a_user(contact, line):
    with pytest.raises(ValidationError, match="name the user"):
        consent.opt_out(contact=contact, line=line, source=ConsentSource.AGENT)
    assert not ConsentEvent.objects.exists()


def test_agent_opt_in_needs_admin_role_and_a_note(contact, line, agent, admin_user):
    with pytest.raises(PermissionDenied):
        consent.opt_in(contact=contact, line=line, source=ConsentSource.AGENT, user=agent, note="x")
    with pytest.raises(ValidationError, match="note of the evidence"):
        consent.opt_in(contact=contact, line=line, source=ConsentSource.AGENT, user=admin_user)
    event = consent.opt_in(
        contact=contact,
        line=line,
        source=ConsentSource.AGENT,
        user=admin_user,
        note="Signed paper form, 2026-11-02",
    )
    assert current(contact, line).cause == event


def test_contact_and_line_of_different_accounts_are_refused(contact, other_line):
    with pytest.raises(ValidationError, match="different accounts"):
        consent.opt_out(contact=contact, line=other_line, source=ConsentSource.IMPORT, note="f.csv")


def test_keyword_source_without_message_is_refused_by_the_database(contact, line):
    with pytest.raises(IntegrityError), transaction.atomic():
        consent.opt_out(contact=contact, line=line, source=ConsentSource.KEYWORD, keyword="STOP")


def test_events_cannot_be_changed_or_deleted_through_the_orm(contact, line):
    event = keyword(contact, line, OUT, 0)
    event.note = "edited"
    with pytest.raises(ImmutableEventError):
        event.save()
    with pytest.raises(ImmutableEventError):
        event.delete()
    with pytest.raises(ImmutableEventError):
        ConsentEvent.objects.filter(pk=event.pk).update(note="edited")
    with pytest.raises(ImmutableEventError):
        ConsentEvent.objects.all().delete()
    assert ConsentEvent.objects.get(pk=event.pk).note == ""


def test_selectors_answer_in_one_query_each(
    contact, line, second_line, account, django_assert_num_queries
):
    keyword(contact, line, OUT, 0)
    for n in range(5):
        account.lines.create(number=f"+1415555020{n}", name=f"Extra {n}")
    with django_assert_num_queries(1):
        by_line = contact_consent_by_line(contact)
    assert len(by_line) == 7
    assert [c.label for c in by_line if c.line == line] == ["Opted out"]
    assert {c.label for c in by_line if c.line != line} == {"Not Defined"}
    with django_assert_num_queries(1):
        on_line = contact_consent_on_line(contact, line)
    assert (on_line.status, on_line.source, on_line.since) == (OUT, ConsentSource.KEYWORD, at(0))


@pytest.mark.postgres
def test_the_database_refuses_to_update_or_delete_a_consent_event(contact, line, agent):
    from django.db import IntegrityError, connection, transaction

    event = consent.opt_out(
        contact=contact, line=line, source=ConsentSource.AGENT, user=agent, note="by phone"
    )
    for statement in (
        "UPDATE crm_consentevent SET status = 'opted_in' WHERE id = %s",
        "DELETE FROM crm_consentevent WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="consent events are evidence"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.pk])
    event.refresh_from_db()
    assert event.status == ConsentStatus.OPTED_OUT
