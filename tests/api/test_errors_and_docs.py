"""JSON everywhere under /api/, a rate per key, and the schema and docs served from our own
static files."""

import pytest
from django.core.management import call_command
from django.test import override_settings
from rest_framework.settings import api_settings

from api.authentication import KeyRateThrottle


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("get", "/api/v1/nowhere/", {}, 404),
        ("get", "/api/v2/lines/", {}, 404),
        ("get", "/api/v1/messages/99999999999999999999999/", {}, 404),
        ("get", "/api/v1/contacts/abc/", {}, 404),
        ("delete", "/api/v1/lines/", {}, 405),
        (
            "post",
            "/api/v1/consent-events/",
            {"data": "{not json", "content_type": "application/json"},
            400,
        ),
        (
            "post",
            "/api/v1/consent-events/",
            {"data": "a=b", "content_type": "application/x-www-form-urlencoded"},
            415,
        ),
        (
            "post",
            "/api/v1/consent-events/",
            {"data": b"\xff\xfe", "content_type": "application/json"},
            400,
        ),
        (
            "post",
            "/api/v1/consent-events/",
            {"data": "[1, 2]", "content_type": "application/json"},
            400,
        ),
        ("get", "/api/v1/consent/?phone=%00", {}, 400),
        ("get", "/api/v1/contacts/?cursor=cD1hYmM=", {}, 404),
        ("get", "/api/v1/contacts/?cursor=cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk=", {}, 404),
        (
            "post",
            "/api/v1/contacts/",
            {"data": '{"phone": "\\ud800"}', "content_type": "application/json"},
            400,
        ),
        (
            "post",
            "/api/v1/consent-events/",
            {"data": '{"note": ["\\udfff"], "phone": "1"}', "content_type": "application/json"},
            400,
        ),
    ],
)
def test_errors_are_json(api, line, method, path, kwargs, status):
    response = getattr(api, method)(path, **kwargs)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()


def test_an_error_inside_a_view_is_a_json_500_that_changes_nothing(api, line, monkeypatch):
    from api import views

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "consent_lookup", broken)
    api.raise_request_exception = False
    response = api.get("/api/v1/consent/", {"phone": "+12025550143"})
    assert response.status_code == 500
    assert response.json()["code"] == "error"


@pytest.mark.parametrize("depth", [400, 100_000])
def test_a_deeply_nested_body_is_a_400(api, line, depth):
    body = '{"a":' * depth + "1" + "}" * depth
    response = api.post("/api/v1/consent-events/", body, content_type="application/json")
    assert response.status_code == 400


def test_an_oversized_body_is_a_400(api, line):
    body = '{"note": "' + "x" * (3 * 1024 * 1024) + '"}'
    response = api.post("/api/v1/consent-events/", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


def test_each_key_has_its_own_rate(api, read_api, line, monkeypatch):
    monkeypatch.setitem(KeyRateThrottle.THROTTLE_RATES, "api_key", "3/minute")
    assert [api.get("/api/v1/lines/").status_code for _ in range(4)] == [200, 200, 200, 429]
    limited = api.get("/api/v1/lines/")
    assert limited.json()["code"] == "throttled"
    assert "Retry-After" in limited
    assert read_api.get("/api/v1/lines/").status_code == 200


def test_a_cache_that_is_down_does_not_stop_the_api(api, line, monkeypatch):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("redis is away")

    monkeypatch.setattr(cache, "get", down)
    assert api.get("/api/v1/lines/").status_code == 200


def test_the_schema_describes_every_operation(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert {
        ("/api/v1/lines/", "get"),
        ("/api/v1/consent/", "get"),
        ("/api/v1/consent-events/", "get"),
        ("/api/v1/consent-events/", "post"),
        ("/api/v1/contacts/", "get"),
        ("/api/v1/contacts/", "post"),
        ("/api/v1/contacts/{id}/", "get"),
        ("/api/v1/contacts/{id}/", "patch"),
        ("/api/v1/messages/", "post"),
        ("/api/v1/messages/{id}/", "get"),
    } <= operations
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert "409" in schema["paths"]["/api/v1/consent-events/"]["post"]["responses"]
    assert "422" in schema["paths"]["/api/v1/messages/"]["post"]["responses"]


def test_the_docs_load_swagger_ui_from_our_own_static_files(client):
    page = client.get("/api/docs/").content.decode()
    assert "cdn." not in page
    assert "unpkg" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    script = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert script.status_code == 200


def test_the_api_parses_json_only(line):
    assert [p.media_type for p in (cls() for cls in api_settings.DEFAULT_PARSER_CLASSES)] == [
        "application/json"
    ]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_the_upload_limit_applies_to_json(api, line):
    body = '{"note": "' + "x" * 2048 + '"}'
    assert (
        api.post("/api/v1/consent-events/", body, content_type="application/json").status_code
        == 400
    )


def test_the_schema_is_valid_openapi_without_a_warning(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
