"""GET /api/v1/consent-events/: the change feed, in recording order, with an opaque cursor that
never skips or repeats an event, even while other transactions are writing."""

import threading
import time

import pytest
from django.db import connection, transaction

from crm import consent
from crm.models import ConsentEvent, ConsentSource, Contact
from tests.api.conftest import KeyClient

FEED = "/api/v1/consent-events/"


def record(contact, line, status="opted_out"):
    return consent.record_consent(
        contact=contact, line=line, status=status, source=ConsentSource.API
    )


def read_all(api, after=None, limit=2):
    seen, cursor = [], after
    while True:
        query = {"limit": limit, **({"after": cursor} if cursor else {})}
        page = api.get(FEED, query).json()
        seen += [event["id"] for event in page["events"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return seen, cursor


def test_the_feed_pages_through_every_event_in_recording_order(api, account, line, second_line):
    contacts = [Contact.objects.create(account=account, phone=f"+1202555{n:04d}") for n in range(3)]
    recorded = []
    for contact in contacts:
        recorded.append(record(contact, line).pk)
        recorded.append(record(contact, second_line, "opted_in").pk)
    seen, cursor = read_all(api)
    assert seen == recorded
    first = api.get(FEED, {"limit": 1}).json()["events"][0]
    assert first["phone"] == contacts[0].phone
    assert first["line"] == line.number
    assert first["source"] == "api"
    assert first["status"] == "opted_out"
    later = record(contacts[0], line, "opted_in")
    page = api.get(FEED, {"after": cursor}).json()
    assert [event["id"] for event in page["events"]] == [later.pk]
    empty = api.get(FEED, {"after": page["next_cursor"]}).json()
    assert empty["events"] == []
    assert empty["next_cursor"] == page["next_cursor"]


def test_the_feed_holds_only_the_keys_account(api, contact, line, other_contact, other_line):
    mine = record(contact, line)
    record(other_contact, other_line)
    assert [event["id"] for event in api.get(FEED).json()["events"]] == [mine.pk]


@pytest.mark.parametrize(
    "cursor", ["junk", "MTox", "!!", "MTo5OTk5OTk5OTk5OTk5OTk5OTk5OTk6MQ", "x" * 300]
)
def test_a_cursor_the_feed_did_not_give_is_a_400(api, line, cursor):
    response = api.get(FEED, {"after": cursor})
    assert response.status_code == 400
    assert "after" in response.json()


@pytest.mark.parametrize("limit", ["0", "-1", "1001", "many"])
def test_a_limit_out_of_bounds_is_a_400(api, line, limit):
    assert api.get(FEED, {"limit": limit}).status_code == 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_committed_late_is_neither_skipped_nor_repeated(account, line, second_line):
    """A transaction that took its id first but commits last: a reader must not step past
    its event while it is still running."""
    from api.models import KeyAccess
    from api.services import api_key_create

    api = KeyClient(api_key_create(account=account, name="Sync", access=KeyAccess.READ)[1])
    early, late = (
        Contact.objects.create(account=account, phone=f"+1202555{n:04d}") for n in (1, 2)
    )
    before, _ = read_all(api)
    inserted, release = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                consent.record_consent(
                    contact=early, line=line, status="opted_out", source=ConsentSource.API
                )
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert inserted.wait(10)
    quick = consent.record_consent(
        contact=late, line=second_line, status="opted_out", source=ConsentSource.API
    )
    seen, cursor = read_all(api)
    assert seen == before == [], "the committed event waits behind the running transaction"
    release.set()
    writer.join(10)
    slow = ConsentEvent.objects.get(contact=early)
    # A transaction elsewhere on the server may hold the feed back a little longer: read on
    # until both have come, then check that they came once each, in recording order.
    rest, deadline = [], time.monotonic() + 10
    while len(rest) < 2 and time.monotonic() < deadline:
        more, cursor = read_all(api, after=cursor)
        rest += more
        time.sleep(0.05)
    assert rest == [slow.pk, quick.pk]


def test_the_schema_documents_exactly_the_shape_the_feed_gives(api, contact, line):
    from api.serializers import ConsentEventSerializer

    record(contact, line)
    event = api.get(FEED).json()["events"][0]
    assert list(event) == list(ConsentEventSerializer().fields)
    assert event["occurred_at"].endswith("+00:00")
    assert event["previous_status"] == "not_defined"
