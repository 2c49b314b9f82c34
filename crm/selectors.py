"""Reads of consent for pages and the send gate, each answered in one query."""

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, FilteredRelation, Q, QuerySet

from core.config_cache import cached
from crm.languages import ADDED_LANGUAGES, DEFAULT_REPLIES
from crm.models import (
    NOT_DEFINED_LABEL,
    Account,
    AccountLanguage,
    Consent,
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    Contact,
    Line,
)


@dataclass(frozen=True)
class LineConsent:
    """A contact's status on one line; `status` is empty for Not Defined."""

    line: Line
    status: str
    since: datetime | None
    source: str
    cause_id: int | None
    keyword: str = ""
    recorded_by: AbstractBaseUser | None = None

    @property
    def label(self) -> str:
        return ConsentStatus(self.status).label if self.status else NOT_DEFINED_LABEL

    @property
    def source_label(self) -> str:
        return ConsentSource(self.source).label if self.source else ""

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
            consent_keyword=F("consent__cause__keyword"),
        )
        .select_related("consent__cause__user")
        .order_by("name", "number")
    )
    return [
        LineConsent(
            line=line,
            status=line.consent_status or "",
            since=line.consent_since,
            source=line.consent_source or "",
            cause_id=line.consent_cause_id,
            keyword=line.consent_keyword or "",
            recorded_by=line.consent.cause.user if line.consent_status else None,
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


def consent_history(contact: Contact) -> QuerySet[ConsentEvent]:
    """Every consent event of the contact, newest first, with what each refers to."""
    return (
        ConsentEvent.objects.filter(contact=contact)
        .select_related("line", "user", "message", "responder", "contact_import")
        .defer("contact_import__data", "contact_import__bad_rows", "contact_import__warnings")
        .order_by("-occurred_at", "-id")
    )


def contacts_for_export(
    contacts: QuerySet[Contact], lines: list[Line]
) -> tuple[list[str], Iterator[tuple]]:
    """Header and rows of a contacts CSV: details, then the status on each line.

    One query, read through a server-side cursor; the header names each line the way the
    import recognises, so an exported file imports back unchanged.
    """
    header = ["Name", "Phone", "E-mail", "Added"] + [
        f"Consent: {line.name} ({line.number})" for line in lines
    ]
    per_line = {
        f"on_line_{line.pk}": FilteredRelation("consents", condition=Q(consents__line_id=line.pk))
        for line in lines
    }
    rows = (
        contacts.annotate(**per_line)
        .values_list(
            "name", "phone", "email", "created_at", *[f"{alias}__status" for alias in per_line]
        )
        .iterator(chunk_size=2000)
    )
    return header, (
        (name, phone, email, added.isoformat(timespec="seconds"), *statuses)
        for name, phone, email, added, *statuses in rows
    )


def account_named(name: str) -> Account:
    """The one account with exactly this name, for commands; LookupError says which exist."""
    matches = list(Account.objects.filter(name=name)[:2])
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(Account.objects.order_by("name").values_list("name", flat=True)[:20])
    raise LookupError(
        f"{'No' if not matches else 'More than one'} account is named {name!r}. "
        f"Accounts: {known or 'none'}."
    )


def line_with_account(line_id: int) -> Line:
    """A line and its account, kept in the process's memory until either changes
    (core.config_cache): every text processed reads them. Shared: do not change it."""
    return cached(
        f"line-id:{line_id}", lambda: Line.objects.select_related("account").get(pk=line_id)
    )


def active_languages(account: Account) -> dict[str, AccountLanguage]:
    """The language packs the account has on besides English, by language code: their
    keywords are read and their replies sent (each knows its account without a query). Kept
    in the process's memory until the account's settings change (core.config_cache)."""
    return cached(
        f"languages:{account.pk}",
        lambda: {pack.language: pack for pack in account.languages.filter(is_active=True)},
    )


def language_packs(account: Account) -> dict[str, AccountLanguage]:
    """Every added language, on or off, as saved or (never saved) with its default replies."""
    saved = {pack.language: pack for pack in account.languages.all()}
    return {
        language: saved.get(language)
        or AccountLanguage(account=account, language=language, **asdict(DEFAULT_REPLIES[language]))
        for language in ADDED_LANGUAGES
    }
