"""Schemathesis against the OpenAPI schema: every operation, with a read-write key, requests
generated both valid and invalid by the schema. No answer may be a server error, and every
answer must be one the schema documents, in its shape."""

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode, checks, openapi

from api.models import KeyAccess, WebhookEvent
from api.services import api_key_create, webhook_endpoint_create
from capacity_sms.wsgi import application
from crm import consent
from crm.models import ConsentSource

pytestmark = pytest.mark.sweep  # long: CI runs it, an everyday run may not

OPERATIONS = [
    ("/api/v1/lines/", "GET"),
    ("/api/v1/consent/", "GET"),
    ("/api/v1/consent-events/", "GET"),
    ("/api/v1/consent-events/", "POST"),
    ("/api/v1/contacts/", "GET"),
    ("/api/v1/contacts/", "POST"),
    ("/api/v1/contacts/{id}/", "GET"),
    ("/api/v1/contacts/{id}/", "PATCH"),
    ("/api/v1/messages/", "POST"),
    ("/api/v1/messages/{id}/", "GET"),
]
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def schema(db, settings, account, line, second_line, contact):
    """The schema as the running app serves it, over a world with a little of everything.

    Requests go through the WSGI handler itself, whose request signals would close the test's
    database connection (inside its transaction): they are held off, as Django's test client
    does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    consent.opt_out(contact=contact, line=line, source=ConsentSource.API)
    webhook_endpoint_create(
        account=account, url="https://hooks.example.com/x", events=list(WebhookEvent.values)
    )
    yield openapi.from_wsgi("/api/schema/?format=json", application)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(account) -> dict:
    _, secret = api_key_create(account=account, name="Schemathesis", access=KeyAccess.READ_WRITE)
    return {"Authorization": f"Bearer {secret}"}


def test_the_schema_has_exactly_these_operations(schema):
    found = {
        (result.ok().path, result.ok().method.upper()) for result in schema.get_all_operations()
    }
    assert found == set(OPERATIONS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_no_request_breaks_the_api(schema, bearer, outbox, path, method, mode):
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def no_failure(case):
        case.call_and_validate(headers=bearer, checks=CHECKS)

    no_failure()
