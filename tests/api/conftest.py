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
        kwargs.setdefault("format", "json")
        return super().post(path, data, **kwargs)

    def patch(self, path, data=None, **kwargs):
        kwargs.setdefault("format", "json")
        return super().patch(path, data, **kwargs)


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
    _, secret = api_key_create(account=other_account, name="Globex CRM", access=KeyAccess.READ_WRITE)
    return KeyClient(secret)
