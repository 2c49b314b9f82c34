from django import template

from core import segments

register = template.Library()


@register.filter
def sms_segments(text: str) -> str:
    """“42 characters, 1 SMS part (GSM-7)”."""
    return str(segments.sms_segments(text or ""))


@register.simple_tag
def gsm7_basic() -> str:
    return segments.GSM7_BASIC


@register.simple_tag
def gsm7_extended() -> str:
    return segments.GSM7_EXTENDED
