"""Celery tasks for broadcasts: thin, ids only, safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from broadcasts import services


@shared_task(
    name=services.SEND_TASK,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def send_broadcast(broadcast_id: int) -> None:
    services.broadcast_send(broadcast_id)


@shared_task(acks_late=True)
def start_due_broadcasts() -> dict[str, int]:
    """Beat: start scheduled broadcasts whose time has come, and queue again the sending ones
    that stalled (their worker died or the broker lost the task)."""
    started = services.broadcasts_begin_due()
    resumed = services.broadcasts_resume_stalled()
    return {"started": started, "resumed": len(resumed)}
