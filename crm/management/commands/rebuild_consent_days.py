"""`manage.py rebuild_consent_days`: recompute the daily consent rollups from the event log.

The engine keeps them as it records each change, and `migrate` and the compaction task rebuild
them when the server's TIME_ZONE changed (days are dates in it); rebuild by hand after restoring
events from a backup.
"""

from django.core.management.base import BaseCommand

from crm.services import consent_days_rebuild


class Command(BaseCommand):
    help = "Recompute the daily consent rollups the snapshot reads from the consent log."

    def handle(self, *args, **options):
        rows = consent_days_rebuild()
        self.stdout.write(self.style.SUCCESS(f"{rows} rollup rows written."))
