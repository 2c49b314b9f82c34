"""A contact's consent record: the one document to hand a lawyer, as a page and as JSON.

Per line, the current status and every event with its evidence (the words the contact sent,
who recorded it, the responder and keyword, the import and its file, another system's
evidence, the replies sent), and the proof that the history is as recorded: each event's hash
and link recomputed, and the day's anchor. One structure feeds both the page and the JSON, so
they cannot say different things. A fixed number of queries whatever the history's length.
"""

from datetime import UTC, datetime

from django.core.serializers.json import DjangoJSONEncoder

from crm.ledger import EVENT_FORMAT, canonical_time, event_content, values_of
from crm.models import (
    NOT_DEFINED_LABEL,
    Consent,
    ConsentAnchor,
    ConsentEvent,
    ConsentLogVerification,
    ConsentStatus,
    Contact,
    Line,
)
from crm.verification import EventCheck, check_chains

RECORD_FORMAT = "capacity-consent-record/1"


class RecordEncoder(DjangoJSONEncoder):
    """Times as the hashes' canonical form writes them (UTC, microseconds), so the record's
    own values recompute its hashes."""

    def default(self, o):
        if isinstance(o, datetime):
            return canonical_time(o)
        return super().default(o)


def consent_record(contact: Contact, *, now: datetime) -> dict:
    """Everything known about the contact's consent, line by line, with its verification."""
    account = contact.account
    events = list(
        ConsentEvent.objects.filter(contact=contact)
        .select_related(
            "line", "message", "user", "responder", "contact_import__uploaded_by", "api_key"
        )
        .prefetch_related("message__replies")
        .order_by("occurred_at", "id")
    )
    checks = {check.event_id: check for check in check_chains(contact.consent_events.all())}
    anchors = {
        anchor.day: anchor
        for anchor in ConsentAnchor.objects.filter(
            account=account, day__in={_day(event) for event in events}
        )
    }
    consents = {consent.line_id: consent for consent in Consent.objects.filter(contact=contact)}
    latest_verification = ConsentLogVerification.objects.filter(account=account).first()
    chain = sorted(checks.values(), key=lambda check: check.event_id)
    return {
        "format": RECORD_FORMAT,
        "generated_at": now,
        "time_zone": account.time_zone,
        "account": {"id": account.pk, "name": account.name},
        "contact": {
            "id": contact.pk,
            "name": contact.name,
            "phone": contact.phone,
            "email": contact.email,
            "created_at": contact.created_at,
        },
        "lines": [
            _line(line, consents.get(line.pk), events, checks, anchors)
            for line in Line.objects.filter(account=account).order_by("name", "number")
        ],
        "verification": {
            "event_format": EVENT_FORMAT,
            "events": len(chain),
            "chain_intact": all(check.intact for check in chain),
            "latest_hash": chain[-1].hash if chain else "",
            "account_log": _verification(latest_verification),
        },
    }


def _line(line: Line, consent: Consent | None, events, checks, anchors) -> dict:
    status = consent.status if consent else ""
    return {
        "id": line.pk,
        "name": line.name,
        "number": line.number,
        "status": status or "not_defined",
        "status_label": ConsentStatus(status).label if status else NOT_DEFINED_LABEL,
        "since": consent.since if consent else None,
        "events": [
            _event(event, checks.get(event.pk), anchors.get(_day(event)))
            for event in events
            if event.line_id == line.pk
        ],
    }


def _event(event: ConsentEvent, check: EventCheck | None, anchor: ConsentAnchor | None) -> dict:
    return {
        "id": event.pk,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "asked": event.status,
        "before": event.previous_status or "not_defined",
        "after": event.resulting_status or "not_defined",
        "outcome": event.outcome,
        "outcome_label": event.get_outcome_display(),
        "source": event.source,
        "source_label": event.get_source_display(),
        "contact_phone": event.contact_phone,
        "line_number": event.line_number,
        "message": _message(event.message) if event.message_id else None,
        "recorded_by": _user(event.user) if event.user_id else None,
        "responder": (
            {"id": event.responder_id, "name": event.responder.name} if event.responder_id else None
        ),
        "keyword": event.keyword,
        "note": event.note,
        "import": _import(event.contact_import) if event.contact_import_id else None,
        "api": _api(event) if event.api_key_id or event.consent_text or event.page_url else None,
        "replies": (
            [_message(reply) for reply in event.message.replies.all()] if event.message_id else []
        ),
        "hash": event.hash,
        "previous_hash": event.previous_hash,
        # What the hash covers, as now read: its canonical JSON's SHA-256 is `hash` when intact.
        "hashed_content": event_content(values_of(event)),
        "hash_verified": bool(check and check.content_matches),
        "link_verified": bool(check and check.link_matches),
        "anchor": {"day": anchor.day, "hash": anchor.hash} if anchor else None,
    }


def _message(message) -> dict:
    return {
        "id": message.pk,
        "direction": message.direction,
        "body": message.body,
        "status": message.status,
        "purpose": message.purpose,
        "provider_message_id": message.provider_message_id,
        "error_code": message.error_code,
        "at": message.occurred_at,
        "sent_at": message.sent_at,
    }


def _user(user) -> dict:
    return {"id": user.pk, "username": user.get_username(), "name": user.get_full_name()}


def _import(contact_import) -> dict:
    return {
        "id": contact_import.pk,
        "file_name": contact_import.file_name,
        "file_sha256": contact_import.content_sha256,
        "uploaded_by": _user(contact_import.uploaded_by),
        "uploaded_at": contact_import.created_at,
    }


def _api(event: ConsentEvent) -> dict:
    key = event.api_key
    return {
        "key": {"id": key.pk, "name": key.name, "prefix": key.prefix} if key else None,
        "consent_text": event.consent_text,
        "page_url": event.page_url,
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
    }


def _verification(verification: ConsentLogVerification | None) -> dict | None:
    if verification is None:
        return None
    return {
        "started_at": verification.started_at,
        "intact": verification.intact,
        "events_checked": verification.events_checked,
        "days_checked": verification.days_checked,
        "first_problem": verification.problems[0] if verification.problems else "",
    }


def _day(event: ConsentEvent):
    return event.recorded_at.astimezone(UTC).date()
