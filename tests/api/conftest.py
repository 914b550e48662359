"""Fixtures for the API tests: bearer tokens and clients for the `world` users."""

from __future__ import annotations

import pytest
from django.test import Client

from chanrong.accounts.services import create_token

API = "/api/v1"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the reference data once into the test database, so that each
    test's `refdata_loaded` finds it instead of reloading ~3,000 regions
    (transactional tests flush it; `refdata_loaded` then reloads)."""
    from chanrong.core import refdata

    with django_db_blocker.unblock():
        if not refdata.is_loaded():
            refdata.load_all()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 costs ~0.5 s per `world` user on a busy machine; these tests are
    about the API, not password storage."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tokens(world) -> dict[str, str]:
    """A raw bearer token for every user of the world."""
    return {name: create_token(None, user, "tests").raw for name, user in world.users.items()}


class ApiClient:
    """A Django test client that talks JSON to /api/v1 as one user, either
    with a bearer token or with a signed-in session."""

    def __init__(self, client: Client, token: str | None = None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, data=None, **extra):
        kwargs = {"headers": {**self.headers, **extra.pop("headers", {})}, **extra}
        if data is not None:
            kwargs.setdefault("content_type", "application/json")
            kwargs["data"] = data
        return getattr(self.client, method)(API + path, **kwargs)

    def get(self, path: str, params=None, **extra):
        headers = {**self.headers, **extra.pop("headers", {})}
        return self.client.get(API + path, query_params=params, headers=headers, **extra)

    def post(self, path: str, data=None, **extra):
        return self._call("post", path, data=data, **extra)

    def patch(self, path: str, data=None, **extra):
        return self._call("patch", path, data=data, **extra)

    def delete(self, path: str, **extra):
        return self._call("delete", path, **extra)


@pytest.fixture
def as_token(tokens):
    def make(username: str) -> ApiClient:
        return ApiClient(Client(), tokens[username])

    return make


@pytest.fixture
def as_session(world):
    def make(username: str, *, enforce_csrf: bool = False) -> ApiClient:
        client = Client(enforce_csrf_checks=enforce_csrf)
        client.force_login(world.user(username))
        return ApiClient(client)

    return make


@pytest.fixture(params=["token", "session"])
def as_user(request, as_token, as_session):
    """Parametrised: each test using it runs once by token, once by session."""
    return as_token if request.param == "token" else as_session


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "errors"}
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], list)
    for item in body["errors"]:
        assert set(item) == {"field", "message"}
    if code is not None:
        assert body["code"] == code
    return body
