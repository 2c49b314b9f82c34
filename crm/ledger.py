"""The consent log as hash chains: what makes a rewritten event detectable afterwards.

Each event stores a SHA-256 over its canonical content, and that content includes the hash of
the contact's previous event, so each contact's history is a chain: changing, removing or
reordering one event breaks the link of the next. The contact's row lock (crm.consent)
already serialises a contact's events, so chaining needs no lock of its own.

A chain alone cannot show that its newest events were removed, nor that a whole chain was
rebuilt; the daily anchors can. Each is the hash over one account's events recorded on one UTC
day, in recording order (by id), and over the previous day's anchor; they live in their own
append-only table and are written to the log, so a copy can be kept outside the database.

The canonical form is public (README, "Evidence that stands up"), so anyone holding an export
can recompute a hash: a JSON object with sorted keys, no spaces, UTF-8, times in UTC with
microseconds, IP addresses written out in full. It depends on no model, so a migration can use
it and its output never changes with the code: a new form gets a new FORMAT.
"""

import hashlib
import ipaddress
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime

EVENT_FORMAT = "capacity-consent-event/1"
ANCHOR_FORMAT = "capacity-consent-anchor/1"

# The event's own columns that its hash covers (the event's id is not known before it is
# written; its place is fixed by the chain instead).
HASHED_FIELDS = (
    "contact_id",
    "line_id",
    "contact_phone",
    "line_number",
    "status",
    "previous_status",
    "outcome",
    "source",
    "message_id",
    "user_id",
    "responder_id",
    "contact_import_id",
    "keyword",
    "note",
    "api_key_id",
    "consent_text",
    "page_url",
    "ip_address",
    "user_agent",
    "occurred_at",
    "recorded_at",
    "previous_hash",
)
# And what it cites, by hash: the words of the message, the bytes of the imported file.
CITED = ("message_body", "import_file_sha256")


def event_content(values: Mapping) -> dict:
    """The canonical content of one event from its column values and what it cites."""
    content = {"format": EVENT_FORMAT}
    for field in HASHED_FIELDS:
        content[field] = _canonical(field, values[field])
    body = values["message_body"]
    content["message_body_sha256"] = "" if body is None else sha256_text(body)
    content["import_file_sha256"] = values["import_file_sha256"] or ""
    return content


def event_hash(values: Mapping) -> str:
    return sha256_text(canonical_json(event_content(values)))


def values_of(event) -> dict:
    """What `event_hash` reads, from a consent event object (the message and the import it
    cites are loaded if they are not already)."""
    values = {field: getattr(event, field) for field in HASHED_FIELDS}
    values["message_body"] = event.message.body if event.message_id else None
    values["import_file_sha256"] = (
        event.contact_import.content_sha256 if event.contact_import_id else ""
    )
    return values


def canonical_time(value: datetime) -> str:
    """A moment as the canonical form writes it: UTC, to the microsecond."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(content: Mapping) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _canonical(field: str, value):
    if isinstance(value, datetime):
        return canonical_time(value)
    if field == "ip_address":
        return ipaddress.ip_address(value).exploded if value else ""
    return value


class DayDigest:
    """The running hash of the event hashes of one account's day, fed in recording order."""

    def __init__(self):
        self.count = 0
        self._hash = hashlib.sha256()

    def add(self, event_hash: str) -> None:
        self.count += 1
        self._hash.update(f"{event_hash}\n".encode())

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def anchor_hash(
    *, account_id: int, day: date, event_count: int, events_sha256: str, previous_hash: str
) -> str:
    """A day's anchor: its events' digest, chained to the previous day's anchor."""
    return sha256_text(
        f"{ANCHOR_FORMAT}\n{account_id}\n{day.isoformat()}\n{event_count}\n"
        f"{events_sha256}\n{previous_hash}"
    )
