"""Chain and hash the consent events recorded before the log was tamper-evident.

Each contact's events are hashed in recording order (crm.ledger, whose canonical form never
changes), with the numbers of the contact and the line as they are now: the best record of
what they were. On PostgreSQL the trigger that refuses changes to events is switched off for
this one transaction, and anchors get the same protection as events.
"""

from django.db import migrations
from django.db.models import F

from core.bulk_sql import update_rows
from core.migration_ops import refuse_changes
from crm.ledger import HASHED_FIELDS, event_hash

BATCH = 2_000


def fill_hashes(apps, schema_editor):
    event_model = apps.get_model("crm", "ConsentEvent")
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(
            "ALTER TABLE crm_consentevent DISABLE TRIGGER crm_consentevent_immutable"
        )
    rows = (
        event_model.objects.filter(hash="")
        .order_by("contact_id", "id")
        .values(
            "id",
            *(field for field in HASHED_FIELDS if field not in ("contact_phone", "line_number")),
            contact_phone_now=F("contact__phone"),
            line_number_now=F("line__number"),
            message_body=F("message__body"),
            import_file_sha256=F("contact_import__content_sha256"),
        )
        .iterator(chunk_size=BATCH)
    )
    contact_id, previous, batch = None, "", []
    for row in rows:
        if row["contact_id"] != contact_id:
            contact_id, previous = row["contact_id"], ""
        row.update(
            contact_phone=row["contact_phone_now"],
            line_number=row["line_number_now"],
            previous_hash=previous,
        )
        previous = event_hash(row)
        batch.append(
            (row["id"], row["contact_phone"], row["line_number"], row["previous_hash"], previous)
        )
        if len(batch) == BATCH:
            _write(event_model, batch)
            batch = []
    _write(event_model, batch)
    if postgresql:
        schema_editor.execute(
            "ALTER TABLE crm_consentevent ENABLE TRIGGER crm_consentevent_immutable"
        )


def _write(event_model, batch) -> None:
    update_rows(event_model, ["contact_phone", "line_number", "previous_hash", "hash"], batch)


class Migration(migrations.Migration):
    dependencies = [("crm", "0016_consent_log_chain")]

    operations = [
        migrations.RunPython(fill_hashes, migrations.RunPython.noop),
        refuse_changes("crm_consentanchor", "consent log anchors"),
    ]
