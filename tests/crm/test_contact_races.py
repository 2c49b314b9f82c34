"""Real concurrency on PostgreSQL: two writers meeting on a new number."""

import threading

import pytest
from django.db import connection, transaction

from crm.models import Contact
from crm.services import contact_get_or_create
from tests.support.concurrency import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
NUMBER = "+12025550177"


def test_a_contact_stored_meanwhile_by_another_writer_is_found_not_duplicated(account):
    stored, ids = threading.Event(), []

    def other_writer():
        try:
            with transaction.atomic():
                ids.append(Contact.objects.create(account=account, phone=NUMBER, name="Ann").pk)
                stored.set()
                # Still uncommitted: our read misses it and our insert waits for this commit.
                threading.Event().wait(0.5)
        finally:
            connection.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert stored.wait(timeout=10)
    contact, created = contact_get_or_create(account=account, phone="(202) 555-0177")
    thread.join(timeout=10)
    assert (contact.pk, contact.name, created) == (ids[0], "Ann", False)
    assert Contact.objects.filter(account=account, phone=NUMBER).count() == 1


def test_simultaneous_first_texts_from_one_number_make_one_contact(account):
    results = []

    def first_text():
        with transaction.atomic():
            results.append(contact_get_or_create(account=account, phone=NUMBER))

    assert run_at_once(*[first_text] * 4) == []
    assert len({contact.pk for contact, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
