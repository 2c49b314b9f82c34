"""Form fields shared by the apps."""

from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError

# Ids a database integer can hold: a larger one in a form is a forged choice, not a query.
MAX_ID = 2**63 - 1


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Objects by id; ids no database could hold are invalid choices, not a database error
    (SQLite raises OverflowError on them)."""

    def _check_values(self, value):
        for pk in value:
            if str(pk).lstrip("-").isdigit() and abs(int(pk)) > MAX_ID:
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super()._check_values(value)


class FieldsetsMixin:
    """A form whose fields show in groups: `fieldsets` is a list of (legend, field names), and
    `shared/_fieldsets.html` renders each group as a <fieldset>."""

    fieldsets: list[tuple[str, list[str]]] = []

    def grouped_fields(self) -> list[tuple[str, list]]:
        grouped = [name for _, names in self.fieldsets for name in names]
        if sorted(grouped) != sorted(self.fields):
            raise ImproperlyConfigured(
                f"{type(self).__name__}.fieldsets must name each field once: {grouped}"
            )
        return [(legend, [self[name] for name in names]) for legend, names in self.fieldsets]
