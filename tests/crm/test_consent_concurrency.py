"""Real concurrency on PostgreSQL: workers recording consent for one pair at the same moment."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm import consent
from crm.models import Consent, ConsentEvent, ConsentSource, ConsentStatus
from crm.verification import verify_account
from tests.support.concurrency import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("newer", [ConsentStatus.OPTED_IN, ConsentStatus.OPTED_OUT])
def test_simultaneous_opt_out_and_opt_in_leave_one_row_matching_the_latest_event(
    contact, line, admin_user, newer
):
    base = timezone.now()
    for round_number in range(15):
        older = (
            ConsentStatus.OPTED_OUT if newer == ConsentStatus.OPTED_IN else ConsentStatus.OPTED_IN
        )
        first = base + timedelta(minutes=2 * round_number)

        def record(status, when):
            return lambda: consent.record_consent(
                contact=contact,
                line=line,
                status=status,
                source=ConsentSource.AGENT,
                user=admin_user,
                note="race: signed form on file",
                occurred_at=when,
            )

        errors = run_at_once(record(older, first), record(newer, first + timedelta(seconds=1)))
        assert errors == []
        rows = list(Consent.objects.filter(contact=contact, line=line))
        assert len(rows) == 1
        latest = ConsentEvent.objects.filter(contact=contact, line=line).order_by(
            "-occurred_at", "-id"
        )[0]
        assert rows[0].status == latest.status == newer
    assert ConsentEvent.objects.filter(contact=contact, line=line).count() == 30
    # The contact's row lock kept the hash chain a chain: no two events claim one predecessor.
    assert verify_account(contact.account, now=timezone.now()).intact
