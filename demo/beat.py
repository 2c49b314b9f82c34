"""Beat for the demo: without a broker there is no Celery beat, so the demo server runs the
periodic tasks itself (scheduled messages and broadcasts, the sweeps) in a thread."""

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from core.queueing import registered_task

logger = logging.getLogger(__name__)
TICK = 5.0


def start_in_process_beat() -> threading.Thread:
    """Run each task of CELERY_BEAT_SCHEDULE at its interval, in a daemon thread."""
    thread = threading.Thread(target=_run, name="demo-beat", daemon=True)
    thread.start()
    return thread


def _run() -> None:
    due = dict.fromkeys(settings.CELERY_BEAT_SCHEDULE, 0.0)
    while True:
        now = time.monotonic()
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            if now >= due[name]:
                due[name] = now + float(entry["schedule"])
                _call(entry["task"])
        time.sleep(TICK)


def _call(task_name: str) -> None:
    close_old_connections()
    try:
        registered_task(task_name)()
    except Exception:
        logger.exception("Periodic task %s failed", task_name)
    finally:
        close_old_connections()
