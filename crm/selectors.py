"""Reads of consent for pages and the send gate, each answered in one query."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, FilteredRelation, Q

from crm.models import NOT_DEFINED_LABEL, Consent, ConsentStatus, Contact, Line


@dataclass(frozen=True)
class LineConsent:
    """A contact's status on one line; `status` is empty for Not Defined."""

    line: Line
    status: str
    since: datetime | None
    source: str
    cause_id: int | None

    @property
    def label(self) -> str:
        return ConsentStatus(self.status).label if self.status else NOT_DEFINED_LABEL

    @property
    def is_opted_out(self) -> bool:
        return self.status == ConsentStatus.OPTED_OUT

    @property
    def is_opted_in(self) -> bool:
        return self.status == ConsentStatus.OPTED_IN


def contact_consent_by_line(contact: Contact) -> list[LineConsent]:
    """The contact's status on every line of its account, Not Defined included."""
    lines = (
        Line.objects.filter(account_id=contact.account_id)
        .annotate(
            consent=FilteredRelation("consents", condition=Q(consents__contact_id=contact.pk))
        )
        .annotate(
            consent_status=F("consent__status"),
            consent_since=F("consent__since"),
            consent_source=F("consent__cause__source"),
            consent_cause_id=F("consent__cause_id"),
        )
        .order_by("name", "number")
    )
    return [
        LineConsent(
            line=line,
            status=line.consent_status or "",
            since=line.consent_since,
            source=line.consent_source or "",
            cause_id=line.consent_cause_id,
        )
        for line in lines
    ]


def contact_consent_on_line(contact: Contact, line: Line) -> LineConsent:
    """The contact's status on one line, with the event that caused it."""
    consent = (
        Consent.objects.filter(contact=contact, line=line)
        .select_related("cause")
        .only("status", "since", "cause__source", "cause__id")
        .first()
    )
    if consent is None:
        return LineConsent(line=line, status="", since=None, source="", cause_id=None)
    return LineConsent(
        line=line,
        status=consent.status,
        since=consent.since,
        source=consent.cause.source,
        cause_id=consent.cause_id,
    )
