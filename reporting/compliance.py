"""The compliance audit: what a period's records say about how opt-outs were honoured.

Five questions over an account's chosen lines and a period, each a query answered on the page
(totals, then rows a page at a time) and downloadable whole:

- opt-outs received, by source;
- the time from each opt-out to its confirmation, which must go within 5 minutes (SPEC 6);
- texts that reached contacts who had opted out by then, by the history as it is known now (an
  import of an earlier system's opt-outs, or a provider's drift, shows here; should be zero);
- Twilio's 21610 refusals (the recipient had unsubscribed at the carrier);
- messages flagged as possible revocations and still unreviewed, against the ten business
  days the FCC allows (47 CFR 64.1200(a)(10)).
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from conversations.models import Conversation, Direction, Message, MessageStatus
from core.business_days import add_business_days
from crm.gate import OPT_OUT_CONFIRMATION_WINDOW, Purpose
from crm.models import ConsentEvent, ConsentOutcome, ConsentSource, ConsentStatus, Line

REVIEW_BUSINESS_DAYS = 10
UNSUBSCRIBED_ERROR = "21610"
HANDED_OVER = (MessageStatus.SENT, MessageStatus.DELIVERED)


class Verdict(models.TextChoices):
    """How an opt-out's confirmation went."""

    ON_TIME = "on_time", "Within 5 minutes"
    LATE = "late", "Late"
    NOT_SENT = "not_sent", "Not sent"
    PENDING = "pending", "Due within 5 minutes"
    UNTIMED = "untimed", "Sent; time not recorded"


LATE_OR_MISSING = (Verdict.LATE, Verdict.NOT_SENT)


@dataclass(frozen=True)
class Period:
    """The audit's scope: lines, and the moments from `start` up to (not including) `end`."""

    lines: list[Line]
    start: datetime
    end: datetime
    now: datetime
    zone: ZoneInfo


def opt_outs(period: Period) -> QuerySet[ConsentEvent]:
    """Every opt-out recorded on the lines in the period (one per line an opt-out covered)."""
    return ConsentEvent.objects.filter(
        line__in=period.lines,
        status=ConsentStatus.OPTED_OUT,
        occurred_at__gte=period.start,
        occurred_at__lt=period.end,
    )


def opt_outs_by_source(period: Period) -> list[dict]:
    """Per source: opt-outs that changed the status, and repeats of one already in force."""
    rows = (
        opt_outs(period)
        .order_by()
        .values("source")
        .annotate(total=Count("pk"), changed=Count("pk", filter=Q(outcome=ConsentOutcome.CHANGED)))
    )
    return sorted(
        (
            {
                "source": ConsentSource(row["source"]).label,
                "changed": row["changed"],
                "repeated": row["total"] - row["changed"],
                "total": row["total"],
            }
            for row in rows
        ),
        key=lambda row: -row["total"],
    )


def confirmations(period: Period) -> QuerySet[ConsentEvent]:
    """The opt-outs a contact texted that changed their status on the line they texted (each
    owes one confirmation; carriers answer their own signals), with the confirmation's time
    and a verdict."""
    replies = Message.objects.filter(
        in_reply_to=OuterRef("message_id"), purpose=Purpose.OPT_OUT_CONFIRMATION
    )
    return (
        opt_outs(period)
        .filter(
            source__in=[ConsentSource.KEYWORD, ConsentSource.PHRASE],
            outcome=ConsentOutcome.CHANGED,
            message__line=F("line"),
        )
        .annotate(
            confirmation_status=Subquery(replies.values("status")[:1]),
            confirmed_at=Subquery(replies.filter(status__in=HANDED_OVER).values("sent_at")[:1]),
        )
        .annotate(
            verdict=Case(
                When(
                    confirmed_at__lte=F("occurred_at") + OPT_OUT_CONFIRMATION_WINDOW,
                    then=Value(Verdict.ON_TIME),
                ),
                When(confirmed_at__isnull=False, then=Value(Verdict.LATE)),
                When(confirmation_status__in=HANDED_OVER, then=Value(Verdict.UNTIMED)),
                When(
                    occurred_at__gt=period.now - OPT_OUT_CONFIRMATION_WINDOW,
                    then=Value(Verdict.PENDING),
                ),
                default=Value(Verdict.NOT_SENT),
                output_field=models.CharField(),
            )
        )
    )


def confirmation_totals(period: Period) -> dict[str, int]:
    counts = dict(
        confirmations(period).order_by().values_list("verdict").annotate(count=Count("pk"))
    )
    return {verdict: counts.get(verdict, 0) for verdict in Verdict.values}


def _sent_in(period: Period) -> QuerySet[Message]:
    """Texts to contacts on the lines that the provider took in the period (for texts sent
    before their time was recorded, the time they were written)."""
    return (
        Message.objects.filter(
            line__in=period.lines, direction=Direction.OUTBOUND, contact__isnull=False
        )
        .annotate(moment=Coalesce("sent_at", "occurred_at"))
        .filter(moment__gte=period.start, moment__lt=period.end)
    )


def texts_to_opted_out(period: Period) -> QuerySet[Message]:
    """Texts handed to the provider while, by the history as known now, the contact was opted
    out of the line; confirmations and HELP replies, which may go, aside."""
    latest_then = (
        ConsentEvent.objects.filter(
            contact=OuterRef("contact_id"),
            line=OuterRef("line_id"),
            occurred_at__lte=OuterRef("moment"),
        )
        .exclude(outcome=ConsentOutcome.REFUSED)
        .order_by("-occurred_at", "-id")
    )
    return (
        _sent_in(period)
        .filter(status__in=HANDED_OVER, purpose=Purpose.MESSAGE)
        .annotate(status_then=Subquery(latest_then.values("status")[:1]))
        .filter(status_then=ConsentStatus.OPTED_OUT)
        .annotate(
            opted_out_at=Subquery(latest_then.values("occurred_at")[:1]),
            opted_out_source=Subquery(latest_then.values("source")[:1]),
        )
    )


def unsubscribed_errors(period: Period) -> QuerySet[Message]:
    """Texts the provider refused because the recipient had unsubscribed (21610)."""
    return _sent_in(period).filter(error_code=UNSUBSCRIBED_ERROR)


def unreviewed_flags(period: Period) -> QuerySet[Conversation]:
    """Conversations whose flagged message no one has reviewed yet, on the lines, whenever
    flagged (an open flag is due whatever the period), oldest first, with `waiting_since`."""
    return (
        Conversation.objects.filter(line__in=period.lines, flagged_message__isnull=False)
        .annotate(waiting_since=Coalesce("flagged_since", "flagged_message__occurred_at"))
        .order_by("waiting_since", "pk")
    )


def deadline_of(waiting_since: datetime, period: Period) -> datetime:
    """Ten business days after the flag, at the same time of day in the account's zone."""
    return add_business_days(waiting_since, REVIEW_BUSINESS_DAYS, period.zone)


def is_overdue(waiting_since: datetime, period: Period) -> bool:
    return deadline_of(waiting_since, period) < period.now


def overdue_count(period: Period) -> int:
    """Flags past their deadline, each judged by its own deadline (business days do not
    count backwards the way they count forwards, so no single cutoff would do)."""
    moments = unreviewed_flags(period).values_list("waiting_since", flat=True)
    return sum(is_overdue(moment, period) for moment in moments.iterator())
