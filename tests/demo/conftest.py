"""Fixtures for the demo tests: a small demo world (scale 0.05 = 150 enterprises)."""

from __future__ import annotations

import pytest

from chanrong.demo import services
from tests.module_demo import PASSWORD, demo_for_module

SMALL = 0.05


@pytest.fixture
def demo_password(settings):
    settings.CHANRONG_DEMO_PASSWORD = PASSWORD
    # Argon2 is slow on purpose; these tests build the demo many times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return PASSWORD


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker) -> services.DemoResult:
    """Built once per module (tests/module_demo.py); each test sees it fresh."""
    with demo_for_module(django_db_blocker, seed=11, scale=SMALL) as result:
        yield result
