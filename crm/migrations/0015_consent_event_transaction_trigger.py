"""On PostgreSQL each consent event records the id of the transaction that wrote it, for the
change feed's order (api.feed). A trigger, because Django names every column in its INSERTs;
events recorded before keep 0 and come first. Other databases skip this migration."""

from django.db import migrations

from core.migration_ops import postgresql_only

CREATE = """
CREATE OR REPLACE FUNCTION crm_consent_event_transaction() RETURNS trigger AS $$
BEGIN
    NEW.transaction_id := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER crm_consentevent_transaction
    BEFORE INSERT ON crm_consentevent
    FOR EACH ROW EXECUTE FUNCTION crm_consent_event_transaction();
"""

DROP = """
DROP TRIGGER IF EXISTS crm_consentevent_transaction ON crm_consentevent;
DROP FUNCTION IF EXISTS crm_consent_event_transaction();
"""


class Migration(migrations.Migration):
    dependencies = [("crm", "0014_consent_event_api_evidence")]

    operations = [postgresql_only(CREATE, DROP)]
