import django_tables2 as tables

from core.phones import format_phone
from crm.models import ConsentSource


class SnapshotTable(tables.Table):
    """The snapshot's rows; each column sorts in the database."""

    contact_name = tables.Column(
        verbose_name="Contact",
        linkify=("contact", {"pk": tables.A("contact_id")}),
        order_by=("contact_name", "phone"),
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
