"""Keys and a client that sends them, as another system would."""

import pytest
from rest_framework.test import APIClient

from api.models import KeyAccess
from api.services import api_key_create


class KeyClient(APIClient):
    """A JSON client holding one API key."""

    def __init__(self, secret: str):
        super().__init__()
        self.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def post(self, path, data=None, **kwargs):
        return super().post(path, data, **self._json(kwargs))

    def patch(self, path, data=None, **kwargs):
        return super().patch(path, data, **self._json(kwargs))

    @staticmethod
    def _json(kwargs: dict) -> dict:
        if "content_type" not in kwargs:
            kwargs.setdefault("format", "json")
        return kwargs


@pytest.fixture
def write_key(account, admin_user):
    return api_key_create(
        account=account, name="Booking site", access=KeyAccess.READ_WRITE, created_by=admin_user
    )


@pytest.fixture
def api(write_key) -> KeyClient:
    """A client with a read-write key of `account`."""
    return KeyClient(write_key[1])


@pytest.fixture
def read_api(account) -> KeyClient:
    _, secret = api_key_create(account=account, name="Reporting", access=KeyAccess.READ)
    return KeyClient(secret)


@pytest.fixture
def other_api(other_account) -> KeyClient:
    _, secret = api_key_create(
        account=other_account, name="Globex CRM", access=KeyAccess.READ_WRITE
    )
    return KeyClient(secret)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what a request queued once it commits, as a worker would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
