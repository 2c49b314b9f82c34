from django import template

from core.phones import format_phone

register = template.Library()


@register.filter(name="phone")
def phone(value: str) -> str:
    """Show an E.164 number the way people in the default region write it."""
    return format_phone(value) if value else ""
