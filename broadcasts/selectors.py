"""Reads for the broadcast pages: totals by recipient status and the recipients' list."""

from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from broadcasts.models import Broadcast, BroadcastRecipient, BroadcastStatus
from conversations.models import MessageStatus

# A recipient's status is its message's, in the words of a broadcast: a text quiet hours hold
# back is "deferred"; a recipient not reached yet is "queued" (or "cancelled" with the
# broadcast).
RECIPIENT_STATUSES = {
    "queued": "Queued",
    "sending": "Sending",
    "sent": "Sent",
    "delivered": "Delivered",
    "failed": "Failed",
    "blocked": "Blocked",
    "deferred": "Deferred (quiet hours)",
    "cancelled": "Cancelled",
}
NOT_REACHED = "not_reached"


def recipient_status(message_status: str | None, broadcast: Broadcast) -> str:
    if message_status is None:
        return "cancelled" if broadcast.status == BroadcastStatus.CANCELLED else "queued"
    if message_status == MessageStatus.SCHEDULED:
        return "deferred"
    return message_status


def broadcast_totals(broadcast: Broadcast) -> dict[str, int]:
    """Recipients by status, in one grouped query; they follow the status callbacks because
    they are read from the recipients' messages."""
    totals = dict.fromkeys(RECIPIENT_STATUSES, 0)
    rows = (
        BroadcastRecipient.objects.filter(broadcast=broadcast)
        .annotate(state=Coalesce(F("message__status"), Value(NOT_REACHED)))
        .values("state")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for row in rows:
        state = None if row["state"] == NOT_REACHED else row["state"]
        totals[recipient_status(state, broadcast)] += row["count"]
    return totals


def recipients(broadcast: Broadcast, status: str = "") -> QuerySet[BroadcastRecipient]:
    """The recipients, in the order they are sent, optionally of one status."""
    chosen = BroadcastRecipient.objects.filter(broadcast=broadcast).select_related(
        "contact", "message"
    )
    if status in RECIPIENT_STATUSES:
        wanted = Q(message__status={"deferred": MessageStatus.SCHEDULED}.get(status, status))
        if status == recipient_status(None, broadcast):
            wanted |= Q(message__isnull=True)
        chosen = chosen.filter(wanted)
    return chosen.order_by("pk")
