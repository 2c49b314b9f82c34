"""Trigram indexes for searching contacts by any part of a name or number, on PostgreSQL.

`icontains` compiles to UPPER(name) LIKE UPPER('%…%'), which no b-tree can serve: at a million
contacts a search read the whole table (0.5 s). pg_trgm is a trusted extension, so the
database's owner may create it. Other databases skip this migration.
"""

from django.db import migrations

INDEXES = (
    ("contact_name_trgm", "crm_contact USING gin (UPPER(name::text) gin_trgm_ops)"),
    ("contact_phone_trgm", "crm_contact USING gin (phone gin_trgm_ops)"),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0007_contact_imports")]

    operations = [migrations.RunPython(create, drop)]
