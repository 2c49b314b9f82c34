import django_tables2 as tables
from django.template.loader import render_to_string
from django.utils.html import format_html

from core.phones import format_phone, not_mobile_kind
from crm.models import Contact


class ContactTable(tables.Table):
    """The Contacts table. Every sort order is served by an index on (account, ...)."""

    name = tables.Column(
        linkify=("contact", {"pk": tables.A("pk")}), order_by=("name", "id"), empty_values=()
    )
    phone = tables.Column(verbose_name="Mobile number")
    email = tables.Column(verbose_name="E-mail", orderable=False)
    line_status = tables.TemplateColumn(
        template_name="crm/_line_status_cell.html", orderable=False, visible=False
    )
    added = tables.DateTimeColumn(
        accessor="created_at", order_by=("id",), verbose_name="Added", format="M j, Y"
    )
    consent = tables.TemplateColumn(
        template_name="crm/_view_consent_button.html", orderable=False, verbose_name="Consent"
    )
    message = tables.TemplateColumn(
        template_code=(
            '<a class="button small" href="{% url \'conversation-new\' %}?contact={{ record.pk }}"'
            ' aria-label="New message to {{ record.name|default:record.phone }}">Message</a>'
        ),
        orderable=False,
        verbose_name="",
        exclude_from_export=True,
    )

    class Meta:
        model = Contact
        fields = ()
        sequence = ("name", "phone", "email", "line_status", "added", "consent", "message")
        order_by = ("-added",)
        attrs = {"class": "table contacts-table"}
        empty_text = "No contacts match."

    def __init__(self, *args, line=None, **kwargs):
        super().__init__(*args, **kwargs)
        if line is not None:
            self.columns.show("line_status")
            self.columns["line_status"].column.verbose_name = f"Status on {line.name}"

    def render_name(self, value: str, record: Contact) -> str:
        return value or format_html('<span class="meta">No name</span>')

    def render_phone(self, value: str) -> str:
        return format_html(
            "{}{}",
            format_phone(value),
            render_to_string("shared/_not_mobile.html", {"kind": not_mobile_kind(value)}),
        )
