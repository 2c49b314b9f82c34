"""`manage.py create_api_key --account NAME --name LABEL [--read-only]`: a key for automation
(deployment scripts, a test environment). The key is the last line printed."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api.models import KeyAccess
from api.services import api_key_create
from crm.selectors import account_named


class Command(BaseCommand):
    help = "Create an API key for an account and print it (its last line is the key)."

    def add_arguments(self, parser):
        parser.add_argument("--account", required=True, help="The account's name.")
        parser.add_argument("--name", required=True, help="What the key is for.")
        parser.add_argument("--read-only", action="store_true", help="A key that only reads.")

    def handle(self, *args, account: str, name: str, read_only: bool, **options):
        try:
            owner = account_named(account)
        except LookupError as error:
            raise CommandError(str(error)) from error
        access = KeyAccess.READ if read_only else KeyAccess.READ_WRITE
        try:
            api_key, secret = api_key_create(account=owner, name=name, access=access)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            f"Created {api_key.get_access_display().lower()} key “{api_key.name}” for {account}:"
        )
        self.stdout.write(secret)
