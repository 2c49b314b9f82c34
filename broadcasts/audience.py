"""Who a broadcast reaches: its audience, and what the gate and quiet hours make of it.

The preview and the sending read the same audience and ask the same rule (`crm.gate`), so the
numbers shown before sending are the ones the sending finds, unless consent changes between.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from broadcasts.models import Broadcast
from crm.filters import ContactFilter
from crm.gate import block_reason
from crm.models import Consent, ConsentStatus, Contact
from crm.quiet_hours import QuietHours

# The lists a preview offers for download.
WILL_GET, OPTED_OUT, NOT_OPTED_IN, DEFERRED = "will-get", "opted-out", "not-opted-in", "deferred"
GROUPS = {
    WILL_GET: "Will get it",
    OPTED_OUT: "Excluded: opted out",
    NOT_OPTED_IN: "Excluded: Not Defined on a line that requires opt-in",
    DEFERRED: "Deferred by quiet hours",
}
PHONE_CHUNK = 5000


def audience(broadcast: Broadcast) -> QuerySet[Contact]:
    """The account's contacts the broadcast's filters name, as the Contacts page filters them,
    each with its status on the broadcast's line (`send_status`, None for Not Defined) and the
    preview list the gate puts it in (`send_group`)."""
    account = broadcast.account
    filters = ContactFilter(
        {
            "q": broadcast.search,
            "line": broadcast.status_line_id or "",
            "consent": broadcast.consent_status,
        },
        queryset=Contact.objects.for_account(account),
        account=account,
    )
    contacts = filters.qs if filters.is_valid() else Contact.objects.none()
    if broadcast.contact_import_id:
        contacts = contacts.filter(imports=broadcast.contact_import_id)
    status = Consent.objects.filter(contact=OuterRef("pk"), line_id=broadcast.line_id)
    return contacts.annotate(send_status=Subquery(status.values("status")[:1])).annotate(
        send_group=Case(
            *(
                When(send_status=value, then=Value(group_of(broadcast, value)))
                for value in ConsentStatus.values
            ),
            default=Value(group_of(broadcast, None)),
        )
    )


def group_of(broadcast: Broadcast, status: str | None) -> str:
    """The preview list a contact with this status on the line (None: Not Defined) falls in,
    by the gate's own rule."""
    if not block_reason(line=broadcast.line, status=status or "", since=None):
        return WILL_GET
    return OPTED_OUT if status == ConsentStatus.OPTED_OUT else NOT_OPTED_IN


@dataclass
class Preview:
    total: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))
    nameless: int = 0

    @property
    def will_get(self) -> int:
        return self.counts[WILL_GET]

    @property
    def rows(self) -> list[tuple[str, str, int]]:
        return [(group, label, self.counts[group]) for group, label in GROUPS.items()]


def broadcast_preview(broadcast: Broadcast, *, at: datetime | None = None) -> Preview:
    """How many would get the broadcast sent at `at` (default: its time, or now), how many
    the gate excludes and why, and how many quiet hours defer: one grouped query, then the
    numbers that may receive it read once for their time zones."""
    at = at or broadcast.send_at or timezone.now()
    preview = Preview()
    by_group = (
        audience(broadcast)
        .values("send_group")
        .annotate(count=Count("pk"), nameless=Count("pk", filter=Q(name="")))
        .order_by()
    )
    for row in by_group:
        preview.total += row["count"]
        preview.counts[row["send_group"]] += row["count"]
        if row["send_group"] == WILL_GET:
            preview.nameless = row["nameless"]
    preview.counts[DEFERRED] = sum(1 for _ in deferred_phones(broadcast, at))
    return preview


def receiving(broadcast: Broadcast) -> QuerySet[Contact]:
    """The audience without the contacts the gate excludes on the broadcast's line."""
    return audience(broadcast).filter(send_group=WILL_GET)


def deferred_phones(broadcast: Broadcast, at: datetime) -> Iterator[str]:
    quiet_hours = QuietHours.of(broadcast.account)
    phones = receiving(broadcast).values_list("phone", flat=True).iterator(chunk_size=PHONE_CHUNK)
    for phone, goes_at in quiet_hours.next_allowed_for_each(
        phones, at, fallback_phone=broadcast.line.number
    ):
        if goes_at > at:
            yield phone


def group_contacts(broadcast: Broadcast, group: str) -> Iterator[Contact]:
    """The contacts of one preview list, for its download."""
    if group == DEFERRED:
        at = broadcast.send_at or timezone.now()
        phones = set(deferred_phones(broadcast, at))
        contacts = receiving(broadcast).order_by("pk").iterator(chunk_size=PHONE_CHUNK)
        return (contact for contact in contacts if contact.phone in phones)
    chosen = audience(broadcast).filter(send_group=group)
    return chosen.order_by("pk").iterator(chunk_size=PHONE_CHUNK)
