"""How people are named on pages: by their name where the account gave one."""

from django import template

register = template.Library()


@register.filter
def person(user) -> str:
    """The user's full name, or their username when they have none."""
    if not user:
        return ""
    return user.get_full_name().strip() or user.get_username()
