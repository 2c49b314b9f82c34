import django_tables2 as tables
from django.urls import reverse

from core.business_days import business_days_between
from core.phones import format_phone
from crm.models import ConsentSource
from reporting.compliance import Verdict, deadline_of, is_overdue


class SnapshotTable(tables.Table):
    """The snapshot's rows; each column sorts in the database."""

    contact_name = tables.Column(
        verbose_name="Contact",
        linkify=("contact", {"pk": tables.A("contact_id")}),
        # The default order: a page of it is read through the contacts' index.
        order_by=("contact_name", "phone", "line_name"),
    )
    phone = tables.Column(verbose_name="Phone")
    line_name = tables.Column(verbose_name="Line")
    status = tables.TemplateColumn(
        template_code='{% include "shared/_consent_badge.html" with status=value %}',
        verbose_name="Status",
    )
    status_since = tables.DateTimeColumn(verbose_name="Since", format="M j, Y H:i")
    status_source = tables.Column(verbose_name="Source")

    class Meta:
        attrs = {"class": "table snapshot-table"}
        empty_text = "No contact has a status matching these choices."
        orderable = True

    def render_contact_name(self, value: str) -> str:
        return value or "(no name)"

    def render_phone(self, value: str) -> str:
        return format_phone(value)

    def render_status_source(self, value: str) -> str:
        return ConsentSource(value).label


CSV_HEADER = ["Contact", "Phone", "Line", "Status", "Since (UTC)", "Source"]


def local_time(value, zone) -> str:
    """A moment in the account's time zone, to the second."""
    return f"{value.astimezone(zone):%b %-d, %Y %H:%M:%S %Z}" if value else "—"


def duration(delta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class AuditTable(tables.Table):
    """A compliance audit table: times in the account's zone, the contact linked, one page at
    a time under its own prefix (several share the page)."""

    contact = tables.Column(
        verbose_name="Contact", linkify=lambda record: reverse("contact", args=[record.contact_id])
    )
    line = tables.Column(verbose_name="Line", accessor="line__name")

    class Meta:
        attrs = {"class": "table audit-table"}
        orderable = False

    def __init__(self, data, *, zone, **kwargs):
        self.zone = zone
        super().__init__(data, **kwargs)

    def render_contact(self, value) -> str:
        return value.name or format_phone(value.phone)


class ConfirmationTable(AuditTable):
    occurred_at = tables.Column(verbose_name="Opted out")
    words = tables.Column(verbose_name="The contact wrote", accessor="message__body")
    verdict = tables.Column(verbose_name="Confirmation")
    confirmed_at = tables.Column(verbose_name="Sent", default="—")
    delay = tables.Column(verbose_name="After", accessor="confirmed_at", empty_values=())

    class Meta(AuditTable.Meta):
        sequence = ("occurred_at", "contact", "line", "words", "verdict", "confirmed_at", "delay")
        empty_text = "Every opt-out in the period was confirmed within 5 minutes."

    def render_occurred_at(self, value) -> str:
        return local_time(value, self.zone)

    def render_confirmed_at(self, value) -> str:
        return local_time(value, self.zone)

    def render_verdict(self, value, record) -> str:
        status = record.confirmation_status
        if value == Verdict.NOT_SENT and status:
            return f"{Verdict(value).label} ({status})"
        return Verdict(value).label

    def render_delay(self, record) -> str:
        return duration(record.confirmed_at - record.occurred_at) if record.confirmed_at else "—"


class SentTextTable(AuditTable):
    moment = tables.Column(verbose_name="Sent")
    body = tables.Column(verbose_name="Text")

    class Meta(AuditTable.Meta):
        sequence = ("moment", "contact", "line", "body", "...")

    def render_moment(self, value) -> str:
        return local_time(value, self.zone)


class ReachedTable(SentTextTable):
    opted_out_at = tables.Column(verbose_name="Opted out")
    opted_out_source = tables.Column(verbose_name="By")

    class Meta(SentTextTable.Meta):
        empty_text = "No text reached a contact who had opted out. This is as it should be."

    def render_opted_out_at(self, value) -> str:
        return local_time(value, self.zone)

    def render_opted_out_source(self, value) -> str:
        return ConsentSource(value).label


class UnsubscribedErrorTable(SentTextTable):
    class Meta(SentTextTable.Meta):
        empty_text = "No text was refused with error 21610 in the period."


class FlagTable(AuditTable):
    waiting_since = tables.Column(verbose_name="Waiting since")
    words = tables.Column(verbose_name="The contact wrote", accessor="flagged_message__body")
    waiting = tables.Column(verbose_name="Business days", accessor="waiting_since")
    deadline = tables.Column(verbose_name="Deadline", accessor="waiting_since")

    class Meta(AuditTable.Meta):
        sequence = ("waiting_since", "contact", "line", "words", "waiting", "deadline")
        empty_text = "No flagged message is waiting for review."

    def __init__(self, data, *, period, **kwargs):
        self.period = period
        super().__init__(data, zone=period.zone, **kwargs)

    def render_waiting_since(self, value) -> str:
        return local_time(value, self.zone)

    def render_waiting(self, value) -> str:
        return str(business_days_between(value, self.period.now, self.zone))

    def render_deadline(self, value) -> str:
        due = local_time(deadline_of(value, self.period), self.zone)
        return f"{due} (overdue)" if is_overdue(value, self.period) else due
