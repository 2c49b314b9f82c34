"""Consent events are evidence: on PostgreSQL the database itself refuses to change them.

The ORM already refuses (crm.models.ConsentEvent); this trigger also stops raw SQL, a shell,
or a future bug. TRUNCATE is left alone: test databases are emptied that way. Other databases
skip this migration.
"""

from django.db import migrations

from core.migration_ops import postgresql_only

CREATE = """
CREATE OR REPLACE FUNCTION crm_consent_event_is_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'consent events are evidence: ' || TG_OP || ' refused',
        ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER crm_consentevent_immutable
    BEFORE UPDATE OR DELETE ON crm_consentevent
    FOR EACH ROW EXECUTE FUNCTION crm_consent_event_is_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS crm_consentevent_immutable ON crm_consentevent;
DROP FUNCTION IF EXISTS crm_consent_event_is_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("crm", "0008_contact_search_trigram_indexes")]

    operations = [postgresql_only(CREATE, DROP)]
