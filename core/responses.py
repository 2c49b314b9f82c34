"""Plain-text answers for requests that are not pages: webhooks and downloads."""

from collections.abc import Mapping, Sequence

from django.http import HttpResponse, HttpResponseBadRequest


class HttpResponseTooManyRequests(HttpResponse):
    status_code = 429


def plain_response(response_class: type[HttpResponse], text: str) -> HttpResponse:
    return response_class(text, content_type="text/plain; charset=utf-8")


def invalid_input(summary: str, errors: Mapping[str, Sequence[str]]) -> HttpResponse:
    """A 400 naming each field and what is wrong with it."""
    details = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
    return plain_response(HttpResponseBadRequest, f"{summary}: {details}")
