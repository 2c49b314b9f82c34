"""Migration operations shared by the apps."""

from django.db import migrations


def postgresql_only(forward_sql: str, backward_sql: str) -> migrations.RunPython:
    """Run SQL only on PostgreSQL (triggers, functions); other databases skip it."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(forward_sql)

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(backward_sql)

    return migrations.RunPython(forward, backward)
