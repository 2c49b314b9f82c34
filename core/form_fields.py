"""Form fields shared by the apps."""

from django import forms
from django.core.exceptions import ValidationError

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
