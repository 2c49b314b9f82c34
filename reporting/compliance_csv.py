"""The compliance audit's downloads: each question's every row, times in UTC and in the
account's zone, read with a server-side cursor so memory stays flat whatever the period."""

from collections.abc import Callable, Iterator

from conversations.models import MessageStatus
from crm.models import ConsentOutcome, ConsentSource
from reporting import compliance
from reporting.compliance import Period, Verdict

CHUNK = 2_000


def _times(moment, period: Period) -> list[str]:
    if moment is None:
        return ["", ""]
    return [moment.isoformat(), moment.astimezone(period.zone).isoformat()]


def _time_columns(name: str, period: Period) -> list[str]:
    return [f"{name} (UTC)", f"{name} ({period.zone.key})"]


def opt_outs(period: Period) -> tuple[list[str], Iterator[list]]:
    header = [
        *_time_columns("Opted out", period),
        "Contact",
        "Phone",
        "Line",
        "Line number",
        "Source",
        "Outcome",
        "Keyword",
        "Message",
        "Note",
        "Event",
    ]
    rows = (
        compliance.opt_outs(period)
        .order_by("occurred_at", "id")
        .values_list(
            "occurred_at",
            "contact__name",
            "contact_phone",
            "line__name",
            "line_number",
            "source",
            "outcome",
            "keyword",
            "message__body",
            "note",
            "id",
        )
        .iterator(chunk_size=CHUNK)
    )
    return header, (
        [
            *_times(at, period),
            name,
            phone,
            line,
            number,
            ConsentSource(source).label,
            ConsentOutcome(outcome).label,
            keyword,
            body or "",
            note,
            pk,
        ]
        for at, name, phone, line, number, source, outcome, keyword, body, note, pk in rows
    )


def confirmations(period: Period) -> tuple[list[str], Iterator[list]]:
    header = [
        *_time_columns("Opted out", period),
        "Contact",
        "Phone",
        "Line",
        "The contact wrote",
        "Confirmation",
        *_time_columns("Confirmation sent", period),
        "Seconds after",
        "Event",
    ]
    rows = (
        compliance.confirmations(period)
        .order_by("occurred_at", "id")
        .values_list(
            "occurred_at",
            "contact__name",
            "contact_phone",
            "line__name",
            "message__body",
            "verdict",
            "confirmed_at",
            "id",
        )
        .iterator(chunk_size=CHUNK)
    )
    return header, (
        [
            *_times(at, period),
            name,
            phone,
            line,
            body,
            Verdict(verdict).label,
            *_times(sent, period),
            int((sent - at).total_seconds()) if sent else "",
            pk,
        ]
        for at, name, phone, line, body, verdict, sent, pk in rows
    )


def _texts(queryset, extra: tuple[str, ...] = ()) -> Iterator[tuple]:
    return (
        queryset.order_by("moment", "id")
        .values_list(
            "moment",
            "contact__name",
            "contact__phone",
            "line__name",
            "body",
            "status",
            "error_code",
            "provider_message_id",
            "id",
            *extra,
        )
        .iterator(chunk_size=CHUNK)
    )


TEXT_COLUMNS = ["Contact", "Phone", "Line", "Text", "Status", "Error", "Provider id", "Message"]


def _text_cells(row: tuple, period: Period) -> list:
    moment, name, phone, line, body, status, error, provider_id, pk = row[:9]
    return [
        *_times(moment, period),
        name,
        phone,
        line,
        body,
        MessageStatus(status).label,
        error,
        provider_id,
        pk,
    ]


def reached(period: Period) -> tuple[list[str], Iterator[list]]:
    header = [
        *_time_columns("Sent", period),
        *TEXT_COLUMNS,
        *_time_columns("Opted out", period),
        "Opted out by",
    ]
    rows = _texts(compliance.texts_to_opted_out(period), ("opted_out_at", "opted_out_source"))
    return header, (
        [*_text_cells(row, period), *_times(row[9], period), ConsentSource(row[10]).label]
        for row in rows
    )


def errors(period: Period) -> tuple[list[str], Iterator[list]]:
    header = [*_time_columns("Sent", period), *TEXT_COLUMNS]
    rows = _texts(compliance.unsubscribed_errors(period))
    return header, (_text_cells(row, period) for row in rows)


def flags(period: Period) -> tuple[list[str], Iterator[list]]:
    header = [
        *_time_columns("Waiting since", period),
        "Contact",
        "Phone",
        "Line",
        "The contact wrote",
        *_time_columns("Deadline", period),
        "Overdue",
        "Conversation",
    ]
    rows = (
        compliance.unreviewed_flags(period)
        .values_list(
            "waiting_since",
            "contact__name",
            "contact__phone",
            "line__name",
            "flagged_message__body",
            "id",
        )
        .iterator(chunk_size=CHUNK)
    )
    return header, (
        [
            *_times(since, period),
            name,
            phone,
            line,
            body,
            *_times(compliance.deadline_of(since, period), period),
            "yes" if compliance.is_overdue(since, period) else "no",
            pk,
        ]
        for since, name, phone, line, body, pk in rows
    )


SECTIONS: dict[str, Callable[[Period], tuple[list[str], Iterator[list]]]] = {
    "opt-outs": opt_outs,
    "confirmations": confirmations,
    "reached": reached,
    "errors": errors,
    "flags": flags,
}
