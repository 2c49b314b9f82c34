"""`Idempotency-Key`: a request sent again with the same key gets the first answer again.

The key is claimed by inserting its row in the transaction that does the work, so a retry
sent while the first is still running waits on the row's unique index and then reads the
stored answer; the work happens once. A key reused with a different request is refused.
Server errors are not stored: the work was rolled back and a retry may succeed. Answers are
kept for KEPT_FOR (beat prunes older ones, `idempotent_requests_prune`): a key sent again after
that is a new request.
"""

import hashlib
from datetime import timedelta
from functools import wraps

from django.db import transaction
from rest_framework import status
from rest_framework.response import Response

from api.models import IdempotentRequest

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(days=7)
MAX_KEY_LENGTH = 255


def idempotent(handler):
    """Decorate a DRF view method that writes."""

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER, "")
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return Response(
                {
                    "detail": f"{HEADER} is at most {MAX_KEY_LENGTH} printable characters.",
                    "code": "invalid_idempotency_key",
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        fingerprint = hashlib.sha256(
            b"\n".join([request.method.encode(), request.path.encode(), request.body])
        ).hexdigest()
        with transaction.atomic():
            record, created = IdempotentRequest.objects.get_or_create(
                api_key=request.auth,
                key=key,
                defaults={"fingerprint": fingerprint, "status_code": 0, "response": {}},
            )
            if not created:
                return _replay(record, fingerprint)
            response = handler(view, request, *args, **kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            record.status_code, record.response = response.status_code, response.data
            record.save(update_fields=["status_code", "response"])
        return response

    return wrapper


def _replay(record: IdempotentRequest, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        return Response(
            {
                "detail": f"This {HEADER} was used for a different request.",
                "code": "idempotency_key_reused",
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return Response(
        record.response, status=record.status_code, headers={"Idempotent-Replayed": "true"}
    )
