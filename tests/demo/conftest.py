"""Fixtures for the demo tests: a small demo world (scale 0.05 = 150 enterprises)."""

from __future__ import annotations

import pytest

from chanrong.demo import services

SMALL = 0.05
PASSWORD = "Demo-password-for-tests-1"


@pytest.fixture
def demo_password(settings):
    settings.CHANRONG_DEMO_PASSWORD = PASSWORD
    # Argon2 is slow on purpose; these tests build the demo many times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return PASSWORD


@pytest.fixture
def demo(refdata_loaded, demo_password) -> services.DemoResult:
    return services.build_demo(seed=11, scale=SMALL)
