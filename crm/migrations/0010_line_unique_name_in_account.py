import django.db.models.functions.text
from django.db import migrations, models


def rename_duplicate_line_names(apps, schema_editor):
    """Lines that share a name (any case) within an account get its number added, so the
    constraint can be made; the older line keeps its name."""
    line_model = apps.get_model("crm", "Line")
    seen = set()
    for line in line_model.objects.order_by("account_id", "created_at", "id"):
        key = (line.account_id, line.name.lower())
        if key in seen:
            line.name = f"{line.name} ({line.number})"[:80]
            line.save(update_fields=["name"])
        seen.add((line.account_id, line.name.lower()))


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0009_consent_events_immutable_trigger"),
    ]

    operations = [
        migrations.RunPython(rename_duplicate_line_names, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="line",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                models.F("account"),
                name="line_unique_name_in_account",
                violation_error_message="Another line of this account already has this name.",
            ),
        ),
    ]
