from django.core.management.base import BaseCommand

from demo.seed import DEMO_PASSWORD, USERS, seed_demo


class Command(BaseCommand):
    help = "Create the demo account, lines, contacts, conversations and consent (idempotent)."

    def handle(self, *args, **options):
        summary = seed_demo()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo account “{summary.account.name}”: {summary.contacts_created} contacts and "
                f"{summary.events_created} consent events created this run."
            )
        )
        self.stdout.write("Log in with any of these users, password " + DEMO_PASSWORD + ":")
        for username, role, is_staff in USERS:
            extra = " (also Django admin)" if is_staff else ""
            self.stdout.write(f"  {username:<8} {role.label}{extra}")
