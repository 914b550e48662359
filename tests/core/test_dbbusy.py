"""What counts as "the database is busy" (503, or a skipped best-effort
write) and what does not (a bug or bad data stays an error)."""

from __future__ import annotations

import psycopg.errors
import pytest
from django.db import DatabaseError, IntegrityError, OperationalError, ProgrammingError, connection

from chanrong.accounts.models import ApiToken
from chanrong.core import dbbusy


def _wrapped(django_error: type[Exception], cause: Exception) -> Exception:
    """As Django raises it: its own class, the driver's error as the cause."""
    try:
        raise django_error(str(cause)) from cause
    except django_error as exc:
        return exc


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("database is locked"),
        OperationalError("database table is locked: accounts_apitoken"),
        _wrapped(OperationalError, psycopg.errors.LockNotAvailable("lock timeout")),
        _wrapped(OperationalError, psycopg.errors.DeadlockDetected("deadlock detected")),
    ],
)
def test_busy(error):
    assert dbbusy.is_busy_error(error)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("no such table: accounts_apitoken"),
        IntegrityError("UNIQUE constraint failed: accounts_apitoken.token_hash"),
        _wrapped(IntegrityError, psycopg.errors.UniqueViolation("duplicate key")),
        _wrapped(ProgrammingError, psycopg.errors.UndefinedTable("relation does not exist")),
        ValueError("database is locked"),
        None,
    ],
)
def test_not_busy(error):
    assert not dbbusy.is_busy_error(error)


@pytest.mark.django_db(transaction=True)
def test_best_effort_skips_only_a_busy_database():
    def busy():
        raise OperationalError("database is locked")

    assert dbbusy.best_effort(busy) is False

    def broken():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE no_such_table SET x = 1")

    with pytest.raises(DatabaseError, match="no_such_table"):
        dbbusy.best_effort(broken)
    assert dbbusy.best_effort(lambda: ApiToken.objects.update(name="x")) is True
