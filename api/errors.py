"""Every answer under /api/ is JSON, errors included: `{"detail": ..., "code": ...}`, plus
field errors keyed by field for a request that does not validate."""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def api_exception_handler(exc, context) -> Response:
    """DRF's handler, with the model layer's refusals as 400s and a JSON 500 for the rest."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_as_dict(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = exceptions.ParseError(
            f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes.", "too_large"
        )
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("This request could not be read.")
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("API error in %s", context.get("view"), exc_info=exc)
        return Response(
            {"detail": "Something went wrong on our side; nothing was changed.", "code": "error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(response.data, dict) and "detail" in response.data:
        response.data.setdefault("code", getattr(response.data["detail"], "code", "error"))
    return response


def _as_dict(error: DjangoValidationError) -> dict | list:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": error.messages}


# The answer under /api/ for the errors Django itself raises (no route, a broken request).
JSON_ERRORS = {
    400: ("This request could not be read.", "bad_request"),
    403: ("You may not do this.", "permission_denied"),
    404: ("There is nothing at this address.", "not_found"),
    500: ("Something went wrong on our side; nothing was changed.", "error"),
}
PAGE_HANDLERS = {
    400: defaults.bad_request,
    403: defaults.permission_denied,
    404: defaults.page_not_found,
    500: defaults.server_error,
}


def handler_for(status_code: int):
    """Django's error handler for `status_code`: JSON under /api/, the page elsewhere."""

    def handler(request, exception=None):
        if request.path.startswith(API_PREFIX):
            detail, code = JSON_ERRORS[status_code]
            return JsonResponse({"detail": detail, "code": code}, status=status_code)
        if status_code == 500:
            return defaults.server_error(request)
        return PAGE_HANDLERS[status_code](request, exception)

    return handler
