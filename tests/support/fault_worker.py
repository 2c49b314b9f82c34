"""A real Celery worker that stops dead at a chosen point, for the worker fault tests.

Run as `python -m tests.support.fault_worker` with the project's settings. `FAULT_PAUSE` names
where it writes `FAULT_MARKER` and then waits to be killed:

- `processing`: inside the processing of an inbound message, after its consent event and its
  reply are written and before they commit;
- `provider`: inside the provider call, after the provider took the message (the
  `FAULT_PAUSE_AFTER`th message, default the first);
- `broadcast-chunk`: inside a broadcast's chunk, after its messages are written and before
  they commit.

The provider is `FileProvider`: each message it takes is a line of JSON in `FAULT_OUTBOX`, so
the test can count what really went out, whichever process sent it.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import django

from conversations.backends.base import OutgoingSms, SmsBackend

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "capacity_sms.settings")
ROOT = Path(__file__).resolve().parents[2]


class Workers:
    """Starts fault workers on this test's database and kills them."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.outbox = directory / "provider.jsonl"
        self.marker = directory / "paused"
        self.running: list[subprocess.Popen] = []
        from django.db import connection

        database = connection.settings_dict
        self.environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "capacity_sms.settings",
            "DATABASE_URL": (
                f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}"
                f"/{database['NAME']}"
            ),
            "SMS_BACKEND": "tests.support.fault_worker.FileProvider",
            "FAULT_OUTBOX": str(self.outbox),
            "FAULT_MARKER": str(self.marker),
            "HTTPS": "0",
        }

    def start(self, pause: str = "", pause_after: int = 1) -> subprocess.Popen:
        log = (self.directory / f"worker-{len(self.running)}.log").open("w")
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.support.fault_worker"],
            cwd=ROOT,
            env={**self.environment, "FAULT_PAUSE": pause, "FAULT_PAUSE_AFTER": str(pause_after)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running.append(worker)
        return worker

    def kill(self, worker: subprocess.Popen) -> None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)

    def stop_all(self) -> None:
        for worker in self.running:
            if worker.poll() is None:
                self.kill(worker)

    def sent(self) -> list[dict]:
        if not self.outbox.exists():
            return []
        return [json.loads(line) for line in self.outbox.read_text().splitlines()]

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.directory.glob("*.log")))


def pause_at(point: str) -> None:
    if os.environ.get("FAULT_PAUSE") == point:
        Path(os.environ["FAULT_MARKER"]).write_text(point)
        time.sleep(3600)


class FileProvider(SmsBackend):
    def send(self, sms: OutgoingSms) -> str:
        path = Path(os.environ["FAULT_OUTBOX"])
        with path.open("a") as outbox:
            outbox.write(json.dumps({"to": sms.to_number, "reference": sms.reference}) + "\n")
        if len(path.read_text().splitlines()) >= int(os.environ.get("FAULT_PAUSE_AFTER", "1")):
            pause_at("provider")
        return f"FILE{uuid.uuid4().hex}"


def main() -> None:
    django.setup()
    from capacity_sms.celery import app
    from conversations import sending

    send_message = sending.send_message

    def send_then_pause(**kwargs):
        message = send_message(**kwargs)
        pause_at("processing")
        return message

    sending.send_message = send_then_pause

    from broadcasts import services as broadcasts

    touch = broadcasts.conversations_touch_many

    def touch_then_pause(**kwargs):
        touch(**kwargs)
        pause_at("broadcast-chunk")

    broadcasts.conversations_touch_many = touch_then_pause
    app.worker_main(
        [
            "worker",
            "--queues=celery,bulk",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
        ]
    )


if __name__ == "__main__":
    main()
