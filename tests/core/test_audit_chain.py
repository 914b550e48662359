"""The audit chain catches edits and deletions made behind the application's back."""

import threading
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from chanrong.accounts import services
from chanrong.core import audit
from chanrong.core.models import AuditEntry


def verify_command() -> str:
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue().strip()


def broken_seq(excinfo) -> int:
    message = str(excinfo.value)
    assert message.startswith("BROKEN at seq ")
    return int(message.removeprefix("BROKEN at seq ").split(":")[0])


@pytest.fixture
def history(world):
    """A few entries made through real services (token issue/revoke, a failed login)."""
    manager, staff = world.user("bank_manager"), world.user("bank_staff")
    issued = services.create_token(manager, staff, "信贷系统")
    services.create_token(None, manager, "脚本")
    authenticate(None, username="bank_staff", password="wrong-password")
    services.revoke_token(manager, issued.token)
    services.create_token(staff, staff, "第三个")
    entries = list(AuditEntry.objects.order_by("seq"))
    assert len(entries) >= 5
    return entries


@pytest.mark.django_db
def test_verify_ok(history):
    assert verify_command() == f"OK: {len(history)} entries"


@pytest.mark.django_db
def test_verify_on_an_empty_log():
    assert not AuditEntry.objects.exists()
    assert verify_command() == "OK: 0 entries"


@pytest.mark.django_db
def test_direct_update_of_action_is_caught_at_that_seq(history):
    target = history[2]
    AuditEntry.objects.filter(pk=target.pk).update(action="token.nothing_to_see")
    with pytest.raises(CommandError) as excinfo:
        verify_command()
    assert broken_seq(excinfo) == target.seq


@pytest.mark.django_db
def test_raw_sql_edit_of_changes_is_caught_at_that_seq(history):
    target = history[1]
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET changes = %s WHERE seq = %s",  # noqa: S608
            ['{"user": "someone_else"}', target.seq],
        )
    with pytest.raises(CommandError) as excinfo:
        verify_command()
    assert broken_seq(excinfo) == target.seq


@pytest.mark.django_db
def test_rehashing_an_edited_row_breaks_the_next_link(history):
    target = history[1]
    target.actor_name = "nobody"
    target.hash = audit.compute_hash(target)
    AuditEntry.objects.filter(pk=target.pk).update(actor_name="nobody", hash=target.hash)
    with pytest.raises(CommandError) as excinfo:
        verify_command()
    assert broken_seq(excinfo) == target.seq + 1


@pytest.mark.django_db
def test_deleting_a_middle_row_is_caught(history):
    middle = history[len(history) // 2]
    AuditEntry.objects.filter(pk=middle.pk).delete()
    with pytest.raises(CommandError) as excinfo:
        verify_command()
    assert broken_seq(excinfo) == middle.seq + 1


@pytest.mark.django_db
def test_deleting_the_first_row_is_caught(history):
    AuditEntry.objects.filter(seq=1).delete()
    with pytest.raises(CommandError) as excinfo:
        verify_command()
    assert broken_seq(excinfo) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_the_chain_whole():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has a single writer anyway")
    threads_count, per_thread = 6, 15
    start = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                audit.record("test.concurrent", object_type="test", object_id=f"{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    total = threads_count * per_thread
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, total + 1)
    )
    result = audit.verify()
    assert result.ok, result
    assert result.checked == total
