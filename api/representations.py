"""Consent events as the API and the webhooks show them, read straight into dicts.

The change feed returns up to a thousand events a page; building a model instance and running
a serializer field by field for each cost ten times the query. The rows are read with
`values_list` and shaped here, once for the feed, the answer to a POST and `consent.changed`
webhooks alike. `serializers.ConsentEventSerializer` documents the same shape for the schema
(a test keeps the two in step).
"""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet

from crm.models import NOT_DEFINED, ConsentEvent

# Output name → ORM path, in the order of the answer.
EVENT_FIELDS = {
    "id": "id",
    "contact_id": "contact_id",
    "phone": "contact__phone",
    "line": "line__number",
    "line_id": "line_id",
    "line_name": "line__name",
    "status": "status",
    "previous_status": "previous_status",
    "outcome": "outcome",
    "source": "source",
    "keyword": "keyword",
    "note": "note",
    "consent_text": "consent_text",
    "page_url": "page_url",
    "ip": "ip_address",
    "user_agent": "user_agent",
    "occurred_at": "occurred_at",
    "recorded_at": "recorded_at",
}
EVENT_PATHS = tuple(EVENT_FIELDS.values())
_NAMES = tuple(EVENT_FIELDS)
_PREVIOUS = _NAMES.index("previous_status")


def consent_events_data(events: QuerySet[ConsentEvent]) -> list[dict]:
    """The events (in the queryset's order) as the API shows them, in one query."""
    return [shape_event(row) for row in events.values_list(*EVENT_PATHS)]


def consent_event_data(event: ConsentEvent) -> dict:
    return consent_events_data(ConsentEvent.objects.filter(pk=event.pk))[0]


def shape_event(row: Iterable) -> dict:
    """One row of `values_list(*EVENT_PATHS)` as the API shows it."""
    values = [_json(value) for value in row]
    values[_PREVIOUS] = values[_PREVIOUS] or NOT_DEFINED
    return dict(zip(_NAMES, values, strict=True))


def _json(value):
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value
