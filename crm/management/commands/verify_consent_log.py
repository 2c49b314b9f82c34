"""`manage.py verify_consent_log [--account NAME]`: recompute the consent log's hashes.

Exits non-zero, naming the first event or day that does not match, when any account's log is
not as it was recorded; each run is recorded and shown in the Django admin.
"""

from django.core.management.base import BaseCommand, CommandError

from crm.models import Account
from crm.selectors import account_named
from crm.services import consent_log_verify


class Command(BaseCommand):
    help = (
        "Recompute every consent event's hash, each contact's chain and each day's anchor; "
        "exit non-zero naming the first that does not match."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", help="Only this account (its exact name).")

    def handle(self, *args, account: str | None, **options):
        if account is not None:
            try:
                accounts = [account_named(account)]
            except LookupError as error:
                raise CommandError(str(error)) from error
        else:
            accounts = list(Account.objects.order_by("name"))
        failures = []
        for each in accounts:
            result = consent_log_verify(account=each)
            unanchored = (
                f"; {result.unanchored_days} finished days not anchored yet (is beat running?)"
                if result.unanchored_days
                else ""
            )
            summary = (
                f"{each.name}: {result.events_checked} events and {result.days_checked} "
                f"anchored days checked{unanchored}"
            )
            if result.intact:
                self.stdout.write(self.style.SUCCESS(f"{summary}: intact."))
                continue
            shown = len(result.problems)
            more = f" (the first {shown} shown)" if result.problems_found > shown else ""
            self.stdout.write(
                self.style.ERROR(
                    f"{summary}: DOES NOT MATCH, {result.problems_found} problems{more}."
                )
            )
            for problem in result.problems:
                self.stdout.write(f"  {problem}")
            failures.append(f"{each.name}: {result.problems[0]}")
        if failures:
            raise CommandError("The consent log does not match. First: " + failures[0])
