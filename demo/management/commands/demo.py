from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from demo.beat import start_in_process_beat
from demo.seed import ACCOUNT_NAME


class Command(BaseCommand):
    help = (
        "Migrate, load the demo data and serve the app: the README's first command. Without "
        "a broker, the periodic tasks (scheduled messages, broadcasts, sweeps) run in-process."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport: str, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo")
        self.stdout.write(f"Open http://{addrport}/ (Django admin: http://{addrport}/admin/)")
        self.stdout.write(
            f"API docs: http://{addrport}/api/docs/ (a key: Settings > API keys, or "
            f'`manage.py create_api_key --account "{ACCOUNT_NAME}" --name Demo`)'
        )
        if not settings.REDIS_URL:
            start_in_process_beat()
        call_command("runserver", addrport, use_reloader=False)
