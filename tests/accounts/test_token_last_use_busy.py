"""A token's last use is a write made while serving a read: when another
connection holds the token's row, the read goes on and the write waits for
a later call (PostgreSQL; SQLite's single writer is tested over HTTP in
tests/core/test_sqlite_busy.py)."""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from chanrong.accounts import services
from chanrong.accounts.models import ApiToken

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres("a row lock on PostgreSQL"),
]


def _dsn() -> str:
    conf = connection.settings_dict
    password = f":{conf['PASSWORD']}" if conf["PASSWORD"] else ""
    return (
        f"postgresql://{conf['USER'] or ''}{password}@{conf['HOST'] or '127.0.0.1'}"
        f":{conf['PORT'] or 5432}/{conf['NAME']}"
    )


def test_a_locked_token_row_is_read_not_written_then_written_later(world):
    issued = services.create_token(None, world.user("bank_staff"), "busy")
    due = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.filter(pk=issued.token.pk).update(last_used_at=due)

    locked, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        with psycopg.connect(_dsn()) as other, other.transaction():
            other.execute(
                "SELECT id FROM accounts_apitoken WHERE id = %s FOR UPDATE", [issued.token.pk]
            )
            locked.set()
            release.wait(timeout=120)

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=60)
        # Without the rule this UPDATE would wait for the other transaction.
        assert services.authenticate_token(issued.raw) == world.user("bank_staff")
        assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == due
    finally:
        release.set()
        holder.join(timeout=120)
    assert services.authenticate_token(issued.raw) == world.user("bank_staff")
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at > due
