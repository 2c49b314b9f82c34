from django import template

from core.phones import format_phone, not_mobile_kind

register = template.Library()


@register.filter(name="phone")
def phone(value: str) -> str:
    """Show an E.164 number the way people in the default region write it."""
    return format_phone(value) if value else ""


@register.inclusion_tag("shared/_not_mobile.html")
def not_mobile(value: str) -> dict:
    """A quiet label after a number that is known not to be a mobile (a landline, toll-free)."""
    return {"kind": not_mobile_kind(value) if value else ""}
