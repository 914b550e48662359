"""Fixtures for the web-page tests."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def plain_static_storage(settings, tmp_path):
    """Pages link static files by plain name: the hashed manifest exists only
    after `collectstatic`, which unit tests do not run."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.STATIC_ROOT = str(tmp_path)  # exists, so WhiteNoise does not warn


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Argon2 is deliberately slow; the `world` fixture hashes eleven passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def login(world):
    """login(username) -> a Client signed in as that `world` user."""

    def make(username: str) -> Client:
        client = Client()
        assert client.login(username=username, password=PASSWORD), username
        return client

    return make


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the reference data once into the test database, so that each
    test's `refdata_loaded` finds it instead of reloading ~3,000 regions."""
    from chanrong.core import refdata

    with django_db_blocker.unblock():
        if not refdata.is_loaded():
            refdata.load_all()
