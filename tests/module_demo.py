"""A demo built once for a whole test module, as Django's TestCase does with
setUpTestData: the build runs inside an outer transaction that is rolled back
when the module ends, and each test's own transaction (pytest-django's `db`)
is a savepoint within it, so every test still sees the freshly built world and
nothing a test writes survives it.

Why: a demo build at scale 0.05 takes 15–30 s, and modules of a dozen
read-only tests used to build it once per test — about a quarter of the
suite's time, twice per CI run (SQLite and PostgreSQL).

What the outer transaction changes for the tests: nothing that the per-test
transaction did not already change (on_commit callbacks never run in either).
A test that builds another demo must pass reset=True (the module's world is
there).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.test import override_settings

PASSWORD = "Demo-password-for-tests-1"
#: Argon2 is slow on purpose; the demo hashes a password per account.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@contextlib.contextmanager
def demo_for_module(django_db_blocker, *, settings: dict | None = None, **build) -> Iterator[Any]:
    """Yield build_demo(**build)'s result, built once; roll it back afterwards.

    `settings` are overridden for the build and for every test of the module
    (the demo password and the fast hasher always are, so that the accounts
    can sign in).
    """
    from chanrong.demo import services

    overrides = {
        "CHANRONG_DEMO_PASSWORD": PASSWORD,
        "PASSWORD_HASHERS": FAST_HASHERS,
        # The relaxed account policy of tests/conftest.py's autouse fixture,
        # which runs only after a module fixture: the demo enrols a second
        # factor for the roles that require one, and the tests sign in without.
        "CHANRONG_OTP_REQUIRED_ROLES": [],
        "CHANRONG_PASSWORD_MAX_AGE_DAYS": 0,
        **(settings or {}),
    }
    with override_settings(**overrides):
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
        try:
            with django_db_blocker.unblock():
                from tests.conftest import restore_reference_rows

                restore_reference_rows()
                result = services.build_demo(**build)
            yield result
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)
