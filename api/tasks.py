"""Celery tasks of the API app: sending webhooks, on their own queue (`webhooks`) so that a
slow receiver never delays the processing of texts."""

import logging

from celery import shared_task
from django.utils import timezone

from api.delivery import DELIVERY_LOG_KEPT_FOR, endpoint_deliver, endpoints_due
from api.idempotency import KEPT_FOR
from api.services import DELIVER_TASK, idempotent_requests_prune, webhook_deliveries_prune
from core.queueing import in_process, publish

logger = logging.getLogger(__name__)


@shared_task(name=DELIVER_TASK, acks_late=True)
def deliver_webhooks(endpoint_id: int) -> None:
    if endpoint_deliver(endpoint_id):
        publish(DELIVER_TASK, endpoint_id)


@shared_task(name="api.tasks.prune_old_api_records")
def prune_old_api_records() -> None:
    """Periodic: answers to Idempotency-Keys are kept for a week, the log of settled webhook
    deliveries for a month."""
    now = timezone.now()
    idempotent_requests_prune(older_than=now - KEPT_FOR)
    webhook_deliveries_prune(older_than=now - DELIVERY_LOG_KEPT_FOR)


@shared_task(name="api.tasks.deliver_due_webhooks")
def deliver_due_webhooks() -> None:
    """Periodic: endpoints with retries come due, or deliveries a broker outage left.

    In-process (no broker) this is where webhooks are sent, outside any request."""
    for endpoint_id in endpoints_due():
        if not in_process():
            publish(DELIVER_TASK, endpoint_id)
            continue
        try:
            endpoint_deliver(endpoint_id)
        except Exception:
            # One endpoint's failure must not keep the others waiting.
            logger.exception("Webhooks to endpoint %s failed", endpoint_id)
