"""Consent events as the API and the webhooks show them, built as JSON by the database.

The change feed returns up to a thousand events a page. Building a model instance and running
a serializer field by field for each cost ten times the query, and even plain tuples shaped in
Python cost three: so each row is made into its JSON text by the query itself
(`json_build_object` on PostgreSQL, `json_object` on SQLite), and a page is those texts joined.
The same expression gives the answer to a POST and the `consent.changed` webhook, so the shape
is defined once; `serializers.ConsentEventSerializer` documents it for the schema (a test keeps
the two in step).
"""

import json

from django.db.models import F, Func, QuerySet, TextField, Value
from django.db.models.functions import Cast, Coalesce, JSONObject, NullIf

from crm.models import NOT_DEFINED, ConsentEvent


class IsoTimestamp(Func):
    """A timestamp as ISO 8601 text in UTC, `2026-11-29T20:16:11.123456+00:00`.

    PostgreSQL writes a timestamptz into JSON in that form by itself (the connection's time
    zone is UTC), far faster than `to_char`; SQLite keeps Django's UTC text with a space.
    """

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="%(expressions)s", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="replace(%(expressions)s, ' ', 'T') || '+00:00'", **extra
        )


class HostAddress(Func):
    """An IP address as text: `host()` on PostgreSQL, whose `inet` would add the netmask
    (`203.0.113.9/32`); SQLite keeps the text as given."""

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="host(%(expressions)s)", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="%(expressions)s", **extra)


class JsonObject(JSONObject):
    """Django's JSONObject, built as `json` on PostgreSQL rather than `jsonb`: the keys stay
    in the order given, and it costs half as much."""

    def as_postgresql(self, compiler, connection, **extra_context):
        copy = self.copy()
        copy.set_source_expressions(
            [
                Cast(expression, TextField()) if index % 2 == 0 else expression
                for index, expression in enumerate(copy.get_source_expressions())
            ]
        )
        return Func.as_sql(
            copy, compiler, connection, function="JSON_BUILD_OBJECT", **extra_context
        )


EVENT_JSON = JsonObject(
    id=F("id"),
    contact_id=F("contact_id"),
    phone=F("contact__phone"),
    line=F("line__number"),
    line_id=F("line_id"),
    line_name=F("line__name"),
    status=F("status"),
    previous_status=Coalesce(NullIf(F("previous_status"), Value("")), Value(NOT_DEFINED)),
    outcome=F("outcome"),
    source=F("source"),
    keyword=F("keyword"),
    note=F("note"),
    consent_text=F("consent_text"),
    page_url=F("page_url"),
    ip=HostAddress(F("ip_address")),
    user_agent=F("user_agent"),
    occurred_at=IsoTimestamp(F("occurred_at")),
    recorded_at=IsoTimestamp(F("recorded_at")),
)


def with_event_json(events: QuerySet[ConsentEvent]) -> QuerySet[ConsentEvent]:
    """The events annotated with `event_json`, each one's JSON text."""
    return events.annotate(event_json=Cast(EVENT_JSON, TextField()))


def consent_events_data(events: QuerySet[ConsentEvent]) -> list[dict]:
    """The events (in the queryset's order) as the API shows them, in one query."""
    return [
        json.loads(text) for text in with_event_json(events).values_list("event_json", flat=True)
    ]


def consent_event_data(event: ConsentEvent) -> dict:
    return consent_events_data(ConsentEvent.objects.filter(pk=event.pk))[0]
