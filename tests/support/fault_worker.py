"""A real Celery worker that stops dead at a chosen point, for the worker fault tests.

Run as `python -m tests.support.fault_worker` with the project's settings. `FAULT_PAUSE` names
where it writes `FAULT_MARKER` and then waits to be killed:

- `processing`: inside the processing of an inbound message, after its consent event and its
  reply are written and before they commit;
- `provider`: inside the provider call, after the provider took the message.

The provider is `FileProvider`: each message it takes is a line of JSON in `FAULT_OUTBOX`, so
the test can count what really went out, whichever process sent it.
"""

import json
import os
import time
import uuid
from pathlib import Path

import django

from conversations.backends.base import OutgoingSms, SmsBackend

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "capacity_sms.settings")


def pause_at(point: str) -> None:
    if os.environ.get("FAULT_PAUSE") == point:
        Path(os.environ["FAULT_MARKER"]).write_text(point)
        time.sleep(3600)


class FileProvider(SmsBackend):
    def send(self, sms: OutgoingSms) -> str:
        with Path(os.environ["FAULT_OUTBOX"]).open("a") as outbox:
            outbox.write(json.dumps({"to": sms.to_number, "reference": sms.reference}) + "\n")
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
    app.worker_main(
        ["worker", "--concurrency=1", "--loglevel=INFO", "--without-mingle", "--without-gossip"]
    )


if __name__ == "__main__":
    main()
