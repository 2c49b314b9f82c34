"""On PostgreSQL the statements run for every consent change are parsed and planned once per
connection (settings: server-side binding, prepare threshold)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from crm import consent
from crm.models import ConsentSource, ConsentStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_the_consent_engine_runs_prepared_statements_after_a_few_changes(contact, line, admin_user):
    start = timezone.now() - timedelta(hours=1)
    for n in range(8):
        consent.record_consent(
            contact=contact,
            line=line,
            status=(ConsentStatus.OPTED_IN, ConsentStatus.OPTED_OUT)[n % 2],
            source=ConsentSource.AGENT,
            user=admin_user,
            note="signed form on file",
            occurred_at=start + timedelta(minutes=n),
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any('INSERT INTO "crm_consentevent"' in statement for statement in prepared), prepared
    assert any("FOR NO KEY UPDATE" in statement for statement in prepared), prepared
