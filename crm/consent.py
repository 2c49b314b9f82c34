"""The consent engine: the only code that changes a contact's consent on a line.

Every decision is appended to the event log with its evidence; the `Consent` row is the log's
current state, updated in the same transaction. Events are ordered by `occurred_at` (ties by
recording order), so a late-arriving older event is kept as evidence but never overrides a newer
decision; an opt-in from an import or the API is kept but never lifts an opt-out. Changes to
one contact are serialised by locking the contact's row.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from core.bulk_sql import column_list, insert_row, parameter_marks, update_row
from crm.as_of import run_start_as_of
from crm.consent_days import Tally
from crm.ledger import event_hash, values_of
from crm.models import (
    EXPLICIT_OPT_IN_SOURCES,
    Consent,
    ConsentEvent,
    ConsentOutcome,
    ConsentSource,
    ConsentStatus,
    Contact,
    Line,
)
from crm.roles import RECORD_OPT_IN, perm
from crm.signals import consent_changed


def opt_out(**kwargs) -> ConsentEvent:
    """Record that the contact opted out of the line; see `record_consent`."""
    return record_consent(status=ConsentStatus.OPTED_OUT, **kwargs)


def opt_in(**kwargs) -> ConsentEvent:
    """Record that the contact opted in to the line; see `record_consent`."""
    return record_consent(status=ConsentStatus.OPTED_IN, **kwargs)


def record_consent(
    *,
    contact: Contact,
    line: Line,
    status: str,
    source: str,
    occurred_at: datetime | None = None,
    message=None,
    user: AbstractBaseUser | None = None,
    responder=None,
    keyword: str = "",
    note: str = "",
    api_key=None,
    consent_text: str = "",
    page_url: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
) -> ConsentEvent:
    """Append a consent decision to the history and bring the current status up to date.

    When the account's opt-out scope is `account`, an opt-out is recorded on every line of the
    account in the same transaction, each event with the same evidence. Returns the event on
    `line`, whose `outcome` says whether it changed the status, confirmed it, or was older than
    the current status and so only recorded. Another system's decision (source `api`) carries
    its key and what it showed the person: the consent text, the page, their address.
    """
    _check_evidence(contact=contact, line=line, status=status, source=source, user=user, note=note)
    evidence = {
        "contact": contact,
        "status": status,
        "source": source,
        "message": message,
        "user": user,
        "responder": responder,
        "keyword": keyword,
        "note": note,
        "api_key": api_key,
        "consent_text": consent_text,
        "page_url": page_url,
        "ip_address": ip_address or None,
        "user_agent": user_agent,
        "occurred_at": occurred_at or timezone.now(),
    }
    with transaction.atomic():
        lock_contact(contact.pk)
        lines = [line, *_lines_also_covered(line, status)]
        heads, current = _chain_head_and_consents(contact.pk, [each.pk for each in lines])
        days = Tally()
        events = [
            _record(line=each, heads=heads, days=days, current=current.get(each.pk), **evidence)
            for each in lines
        ]
        days.save()
    return events[0]


def opt_outs_cover_line(line: Line) -> int:
    """When the account revokes everywhere, the contacts opted out of any of its other lines
    are opted out of `line` too (a line added later, or every line when the account switches
    to that scope): each gets an event on `line` with the evidence of its latest opt-out, at
    that opt-out's time. Contacts with a status of their own on `line` keep it. Returns how
    many were opted out."""
    if not line.account.revokes_everywhere:
        return 0
    opted_out = Consent.objects.filter(
        line__account_id=line.account_id, status=ConsentStatus.OPTED_OUT
    ).exclude(line=line)
    causes = (
        ConsentEvent.objects.filter(pk__in=opted_out.values("cause_id"))
        .exclude(contact__consents__line=line)
        .select_related("contact", "message", "contact_import")
        .order_by("occurred_at", "pk")
    )
    latest = {event.contact_id: event for event in causes}
    lock_contacts(sorted(latest))
    heads = chain_heads(sorted(latest))
    # Read again under the locks: a contact may have gained a status here meanwhile.
    own_status = set(
        Consent.objects.filter(line=line, contact_id__in=list(latest)).values_list(
            "contact_id", flat=True
        )
    )
    latest = {pk: event for pk, event in latest.items() if pk not in own_status}
    days = Tally()
    for event in latest.values():
        _record(
            contact=event.contact,
            line=line,
            heads=heads,
            days=days,
            current=None,
            status=ConsentStatus.OPTED_OUT,
            source=event.source,
            occurred_at=event.occurred_at,
            message=event.message,
            user_id=event.user_id,
            responder_id=event.responder_id,
            contact_import=event.contact_import,
            api_key_id=event.api_key_id,
            consent_text=event.consent_text,
            page_url=event.page_url,
            ip_address=event.ip_address,
            user_agent=event.user_agent,
            keyword=event.keyword,
            note=f"{event.note} (an opt-out that covers every line of the account)".strip(),
        )
    days.save()
    return len(latest)


def _lines_also_covered(line: Line, status: str) -> list[Line]:
    """The other lines an opt-out covers when the account revokes everywhere (an opt-in is
    always for the line texted)."""
    if status != ConsentStatus.OPTED_OUT or not line.account.revokes_everywhere:
        return []
    return list(Line.objects.filter(account_id=line.account_id).exclude(pk=line.pk).order_by("pk"))


def _record(
    *,
    contact: Contact,
    line: Line,
    heads: dict,
    days: Tally,
    current: Consent | None,
    status: str,
    source: str,
    occurred_at,
    **evidence,
):
    """Append one event on the pair whose current status is `current` and follow it."""
    status_before = {(contact.pk, line.pk): current.status} if current else {}
    event = ConsentEvent(
        contact=contact,
        line=line,
        contact_phone=contact.phone,
        line_number=line.number,
        status=status,
        previous_status=current.status if current else "",
        outcome=_outcome(current, status, source, occurred_at),
        source=source,
        occurred_at=occurred_at,
        **evidence,
    )
    seal(event, heads)
    insert_row(event)
    days.add_recorded([event], status_before)
    _apply(current, event)
    if event.outcome == ConsentOutcome.CHANGED:
        consent_changed.send(sender=ConsentEvent, account_id=line.account_id, events=[event])
    return event


@dataclass(frozen=True)
class ImportedStatus:
    """One status a business's earlier records give for a contact on a line."""

    contact_id: int
    line_id: int
    status: str
    occurred_at: datetime
    note: str


def record_imported_consents(statuses: list[ImportedStatus], contact_import) -> list[ConsentEvent]:
    """Record many imported statuses at once, by the same rules as `record_consent`.

    Set-based, for files of a hundred thousand rows: the contacts are locked together, current
    statuses read in one query, events and new statuses written in bulk. A status already in
    force, or already imported with the same time, is not recorded again, so importing the same
    file twice changes nothing. Returns the events recorded.
    """
    pairs = [(item.contact_id, item.line_id) for item in statuses]
    if len(set(pairs)) != len(pairs):
        raise ValueError("Each (contact, line) may be imported once per call.")
    if not statuses:
        return []
    contact_ids = sorted({item.contact_id for item in statuses})
    with transaction.atomic():
        phones = lock_contacts(contact_ids)
        heads = chain_heads(contact_ids)
        numbers = dict(
            Line.objects.filter(pk__in={item.line_id for item in statuses}).values_list(
                "pk", "number"
            )
        )
        current = {
            (consent.contact_id, consent.line_id): consent
            for consent in Consent.objects.filter(contact_id__in=contact_ids)
        }
        imported = _imported(contact_ids)
        events = []
        for item in statuses:
            pair = (item.contact_id, item.line_id)
            consent = current.get(pair)
            if consent is not None and (
                consent.status == item.status or (*pair, item.status, item.occurred_at) in imported
            ):
                continue
            event = ConsentEvent(
                contact_id=item.contact_id,
                line_id=item.line_id,
                contact_phone=phones[item.contact_id],
                line_number=numbers[item.line_id],
                status=item.status,
                previous_status=consent.status if consent else "",
                outcome=_outcome(consent, item.status, ConsentSource.IMPORT, item.occurred_at),
                source=ConsentSource.IMPORT,
                contact_import=contact_import,
                note=item.note,
                occurred_at=item.occurred_at,
            )
            seal(event, heads)
            events.append(event)
        ConsentEvent.objects.bulk_create(events, batch_size=1000)
        days = Tally()
        days.add_recorded(events, {pair: consent.status for pair, consent in current.items()})
        days.save()
        _apply_in_bulk(current, events)
        changed = [event for event in events if event.outcome == ConsentOutcome.CHANGED]
        if changed:
            consent_changed.send(
                sender=ConsentEvent, account_id=contact_import.account_id, events=changed
            )
    return events


def _imported(contact_ids: list[int]) -> set[tuple[int, int, str, datetime]]:
    """(contact, line, status, occurred_at) of every imported status of these contacts."""
    return set(
        ConsentEvent.objects.filter(
            contact_id__in=contact_ids, source=ConsentSource.IMPORT
        ).values_list("contact_id", "line_id", "status", "occurred_at")
    )


def _apply_in_bulk(current: dict, events: list[ConsentEvent]) -> None:
    created, changed = [], []
    for event in events:
        consent = current.get((event.contact_id, event.line_id))
        followed = _follow(consent, event)
        if followed is None:
            _keep(consent, event)
        elif followed[1]:
            changed.append(followed[0])
        else:
            created.append(followed[0])
    Consent.objects.bulk_create(created, batch_size=1000)
    Consent.objects.bulk_update(changed, FOLLOWED_FIELDS, batch_size=500)


def lock_contacts(contact_ids: list[int]) -> dict[int, str]:
    """`lock_contact` for many contacts, taken in id order so two callers never deadlock;
    their numbers by id."""
    return dict(
        Contact.objects.select_for_update(no_key=True)
        .filter(pk__in=contact_ids)
        .order_by("pk")
        .values_list("pk", "phone")
    )


def chain_heads(contact_ids: list[int]) -> dict[int, str]:
    """The hash of each contact's latest event (crm.ledger): what its next event chains to.
    Read under the contacts' locks, in a statement of its own (a snapshot taken after the lock
    was granted), which keeps it the latest until the transaction ends. Plain SQL: building
    this query through the ORM cost six times running it (2.4 ms against 0.4), on every
    consent change."""
    if not contact_ids:
        return {}
    marks = parameter_marks(contact_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contact_id, hash FROM crm_consentevent WHERE id IN (SELECT MAX(id)"  # noqa: S608
            f" FROM crm_consentevent WHERE contact_id IN ({marks}) GROUP BY contact_id)",
            list(contact_ids),
        )
        return dict(cursor.fetchall())


def _chain_head_and_consents(
    contact_id: int, line_ids: list[int]
) -> tuple[dict[int, str], dict[int, Consent]]:
    """`chain_heads` for one contact, and its consent rows on these lines by line id, in one
    statement. Like `chain_heads`, it must run after the lock: a statement that waited for the
    lock would read the other rows as they were before the holder committed."""
    table = Consent._meta.db_table
    sql = (
        "SELECT (SELECT hash FROM crm_consentevent WHERE contact_id = %s"  # noqa: S608
        f" ORDER BY id DESC LIMIT 1) AS chain_head, {column_list(Consent, 'c')}"
        f" FROM (SELECT 1 AS one) o LEFT JOIN {table} c"
        f" ON c.contact_id = %s AND c.line_id IN ({parameter_marks(line_ids)})"
    )
    rows = list(Consent.objects.raw(sql, [contact_id, contact_id, *line_ids]))
    heads = {contact_id: rows[0].chain_head} if rows[0].chain_head is not None else {}
    return heads, {row.line_id: row for row in rows if row.pk is not None}


def seal(event: ConsentEvent, heads: dict[int, str]) -> None:
    """Chain a new event to its contact's latest one and hash it; it becomes the head."""
    event.recorded_at = timezone.now()
    event.previous_hash = heads.get(event.contact_id, "")
    event.hash = event_hash(values_of(event))
    heads[event.contact_id] = event.hash


def lock_contact(contact_id: int) -> None:
    """Take the row lock that serialises every consent change and send check of a contact.

    FOR NO KEY UPDATE: it excludes other holders of this lock, but not the KEY SHARE locks that
    inserts referencing the contact take for their foreign keys, so bulk writes never deadlock
    with it.
    """
    if not connection.features.has_select_for_update:
        return  # SQLite: one writer at a time already
    with connection.cursor() as cursor:
        # Written out: building it with the ORM cost more than running it, on every change.
        cursor.execute(
            f"SELECT id FROM {Contact._meta.db_table} WHERE id = %s FOR NO KEY UPDATE",  # noqa: S608
            [contact_id],
        )
        if cursor.fetchone() is None:
            raise Contact.DoesNotExist(f"No contact {contact_id}.")


def _check_evidence(
    *, contact: Contact, line: Line, status: str, source: str, user, note: str
) -> None:
    if contact.account_id != line.account_id:
        raise ValidationError("The contact and the line belong to different accounts.")
    if status not in ConsentStatus.values:
        raise ValidationError(f"Unknown consent status {status!r}.")
    if source not in ConsentSource.values:
        raise ValidationError(f"Unknown consent source {source!r}.")
    if source == ConsentSource.AGENT:
        if user is None:
            raise ValidationError("A consent change recorded by staff must name the user.")
        if status == ConsentStatus.OPTED_IN:
            if not user.has_perm(perm(RECORD_OPT_IN)):
                raise PermissionDenied("Only an admin can opt a contact in by hand.")
            if not note.strip():
                raise ValidationError("Opting a contact in by hand needs a note of the evidence.")


def _outcome(current: Consent | None, status: str, source: str, occurred_at: datetime) -> str:
    if current is None:
        return ConsentOutcome.CHANGED
    if occurred_at < current.latest_at:
        if (
            status == ConsentStatus.OPTED_IN
            and source not in EXPLICIT_OPT_IN_SOURCES
            and _status_at(current, occurred_at) == ConsentStatus.OPTED_OUT
        ):
            return ConsentOutcome.REFUSED  # a late import opt-in lands in an opt-out: refused
        return ConsentOutcome.SUPERSEDED
    if current.status == status:
        return ConsentOutcome.UNCHANGED
    if current.status == ConsentStatus.OPTED_OUT and source not in EXPLICIT_OPT_IN_SOURCES:
        return ConsentOutcome.REFUSED
    return ConsentOutcome.CHANGED


FOLLOWED_FIELDS = ["status", "since", "cause", "latest_at"]


def _follow(current: Consent | None, event: ConsentEvent) -> tuple[Consent, list[str]] | None:
    """The consent row once `event` is applied, with the fields it changed (none for a new
    row); None when the event leaves the row as it is (older, or refused)."""
    if current is None:
        return Consent(
            contact_id=event.contact_id,
            line_id=event.line_id,
            status=event.status,
            since=event.occurred_at,
            cause=event,
            latest_at=event.occurred_at,
        ), []
    if event.outcome == ConsentOutcome.CHANGED:
        current.status = event.status
        current.since = current.latest_at = event.occurred_at
        current.cause = event
        return current, FOLLOWED_FIELDS
    if event.outcome == ConsentOutcome.UNCHANGED:
        current.latest_at = event.occurred_at
        return current, ["latest_at"]
    return None


def _keep(current: Consent, event: ConsentEvent) -> None:
    """An older event kept as history may still move where the current run begins."""
    if event.outcome == ConsentOutcome.SUPERSEDED:
        _refresh_run_start(current)


def _apply(current: Consent | None, event: ConsentEvent) -> None:
    followed = _follow(current, event)
    if followed is None:
        _keep(current, event)
        return
    consent, fields = followed
    if fields:
        update_row(consent, fields)
    else:
        insert_row(consent)


def _refresh_run_start(current: Consent) -> None:
    """After an older event was inserted into the history, find where the current run begins.

    The status cannot change (the latest event is still the latest), but an older event of the
    same status can extend the run backwards, and one of the other status can cut it short.
    """
    run_start = run_start_as_of(current.contact_id, current.line_id, current.latest_at)
    if run_start is not None and run_start.pk != current.cause_id:
        current.since = run_start.occurred_at
        current.cause = run_start
        update_row(current, ["since", "cause"])


def _status_at(current: Consent, moment: datetime) -> str:
    """The pair's status at `moment` by its history (empty: Not Defined)."""
    run_start = run_start_as_of(current.contact_id, current.line_id, moment)
    return run_start.status if run_start else ""
