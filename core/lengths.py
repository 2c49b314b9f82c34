"""Lengths the database holds: checked by the action functions, so no path stores more."""

from django.db.models import Model


def too_long(model: type[Model], field: str, value: str) -> list[str]:
    """The error for a value longer than the model's field allows, or none."""
    limit = model._meta.get_field(field).max_length
    return [f"At most {limit} characters (this has {len(value)})."] if len(value) > limit else []
