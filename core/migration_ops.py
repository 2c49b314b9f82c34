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


def refuse_changes(table: str, evidence: str) -> migrations.RunPython:
    """On PostgreSQL, a trigger that refuses UPDATE and DELETE on `table`: rows that are
    evidence once written (`evidence` names them in the error). TRUNCATE is left alone: test
    databases are emptied that way."""
    function, trigger = f"{table}_refuse_changes", f"{table}_append_only"
    create = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = '{evidence} are evidence: ' || TG_OP || ' refused',
        ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"""
    drop = f"DROP TRIGGER IF EXISTS {trigger} ON {table}; DROP FUNCTION IF EXISTS {function}();"
    return postgresql_only(create, drop)
