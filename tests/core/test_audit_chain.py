"""The audit chain catches edits and deletions made behind the application's back.

Entries are chained ("sealed") at once when the chain's lock is free, else
right after the writing transaction commits (core.audit). Until then an
entry is plain content; once sealed, any edit is caught.
"""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chanrong.accounts import services
from chanrong.core import audit
from chanrong.core.models import AuditEntry


def verify_command(*options: str) -> str:
    out = StringIO()
    call_command("audit", "verify", *options, stdout=out)
    return out.getvalue().strip()


def unsealed(action: str, *, age: timedelta = timedelta(0)) -> AuditEntry:
    """An entry as `record()` leaves it when another transaction holds the
    chain: written, not yet chained."""
    entry = audit.entry(action, object_type="test", object_id=action)
    entry.created_at = timezone.now() - age
    entry.save(force_insert=True)
    assert entry.seq is None and entry.hash is None
    return entry


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
    # What the web process does after these commits (the test's transaction
    # never commits, so its on-commit anchoring does not run): `audit verify`
    # requires an anchor for a non-empty log (test_audit_anchors.py).
    audit.write_anchor()
    return entries


@pytest.mark.django_db
def test_verify_ok(history):
    assert verify_command() == (
        f"OK: {len(history)} entries, 1 anchors (latest seq {history[-1].seq})"
    )


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


@pytest.mark.django_db
def test_an_unsealed_entry_edited_before_sealing_is_just_content(history):
    pending = unsealed("test.pending")
    AuditEntry.objects.filter(pk=pending.pk).update(action="test.edited_before_sealing")
    assert audit.seal() == 1
    sealed = AuditEntry.objects.get(pk=pending.pk)
    assert sealed.seq == history[-1].seq + 1
    assert sealed.prev_hash == history[-1].hash
    assert sealed.action == "test.edited_before_sealing"
    assert verify_command() == (
        f"OK: {len(history) + 1} entries, 1 anchors (latest seq {history[-1].seq})"
    )


@pytest.mark.django_db
def test_an_entry_edited_after_sealing_is_caught(history):
    pending = unsealed("test.pending")
    verify_command()  # seals it
    sealed = AuditEntry.objects.get(pk=pending.pk)
    assert sealed.seq is not None
    AuditEntry.objects.filter(pk=pending.pk).update(object_repr="changed afterwards")
    with pytest.raises(CommandError) as excinfo:
        verify_command()
    assert broken_seq(excinfo) == sealed.seq


@pytest.mark.django_db(transaction=True)
def test_sealing_follows_id_order_and_continues_the_chain(history):
    """Committed, as other requests' entries would be: a transaction that
    takes the chain seals what is pending before its own entry."""
    first, second = unsealed("test.first"), unsealed("test.second")
    later = audit.record("test.later")  # the chain is free: sealed at once, after the pending two
    rows = {e.action: e for e in AuditEntry.objects.filter(action__startswith="test.")}
    top = history[-1].seq
    assert [rows[a].seq for a in ("test.first", "test.second", "test.later")] == [
        top + 1,
        top + 2,
        top + 3,
    ]
    assert later.seq == top + 3
    assert rows["test.second"].prev_hash == rows["test.first"].hash
    assert first.pk < second.pk
    assert audit.verify().ok


@pytest.mark.django_db
def test_a_transaction_reads_the_chain_end_once(history):
    """A transaction that holds the chain writes its later batches after the
    end it left (a publish writes four batches), without reading it again;
    an end written in a savepoint that rolled back is not reused."""
    top = history[-1].seq
    with transaction.atomic():
        audit.record("test.one")
        with CaptureQueriesContext(connection) as reads:
            audit.record_many(audit.entry(f"test.{n}") for n in ("two", "three"))
        assert not [q for q in reads.captured_queries if "ORDER BY seq DESC" in q["sql"]]
        try:
            with transaction.atomic():
                audit.record("test.rolled_back")
                raise RuntimeError("roll the savepoint back")
        except RuntimeError:
            pass
        with CaptureQueriesContext(connection) as reads:
            after = audit.record("test.after_rollback")
        assert [q for q in reads.captured_queries if "ORDER BY seq DESC" in q["sql"]]
    assert after.seq == top + 4
    seqs = AuditEntry.objects.filter(action__startswith="test.").order_by("seq")
    assert [e.action for e in seqs] == ["test.one", "test.two", "test.three", "test.after_rollback"]
    assert [e.seq for e in seqs] == list(range(top + 1, top + 5))
    audit.write_anchor()
    assert audit.verify().ok


@pytest.mark.django_db
def test_entries_left_unsealed_are_reported(history):
    unsealed("test.fresh")
    stale = unsealed("test.stale", age=audit.UNSEALED_GRACE + timedelta(minutes=1))
    with pytest.raises(CommandError) as excinfo:
        verify_command("--no-seal")
    message = str(excinfo.value)
    assert message.startswith("UNSEALED: 1 ")
    assert f"id {stale.pk}" in message
    result = audit.verify()
    assert not result.ok and result.unsealed == 1 and result.broken_seq is None
    assert result.checked == len(history)
    # Nor does the command seal the overdue one quietly (a sealed row edited
    # and set back to unsealed would be chained again, edit included) ...
    with pytest.raises(CommandError, match=f"UNSEALED: 1 .*最早 id {stale.pk}"):
        verify_command()
    assert AuditEntry.objects.get(pk=stale.pk).seq is None
    # ... until someone seals it on purpose, which is itself recorded.
    out = StringIO()
    call_command("audit", "seal", stdout=out)
    assert out.getvalue().strip() == "SEALED 2"
    assert AuditEntry.objects.get(action="audit.seal_overdue").changes["overdue"] == 1
    assert verify_command() == (
        f"OK: {len(history) + 3} entries, 1 anchors (latest seq {history[-1].seq})"
    )


@pytest.mark.postgres("SQLite has a single writer and seals at once")
@pytest.mark.django_db(transaction=True)
def test_a_writer_does_not_wait_for_the_chain_and_the_holder_seals_its_entry():
    """One transaction holds the chain (it wrote an entry and is still open);
    another writer records, commits and returns without waiting, unsealed;
    when the holder commits, it seals that entry too."""
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def holder() -> None:
        try:
            with transaction.atomic():
                audit.record("test.holder")
                holding.set()
                release.wait(timeout=30)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(timeout=30)
    with transaction.atomic():
        waiting = audit.record("test.writer")
        assert waiting.seq is None  # did not wait for the holder
    assert AuditEntry.objects.get(pk=waiting.pk).seq is None  # its own seal found the lock taken
    release.set()
    thread.join()
    assert not errors, errors
    rows = list(AuditEntry.objects.order_by("seq").values_list("action", "seq"))
    assert rows == [("test.holder", 1), ("test.writer", 2)]
    assert audit.verify().ok


@pytest.mark.postgres("SQLite has a single writer and seals at once")
@pytest.mark.django_db(transaction=True)
@pytest.mark.many_connections
def test_concurrent_appends_keep_the_chain_whole_and_sealed():
    """Writers of single entries and of several entries per transaction at
    once: every entry ends up sealed, in one gap-free chain, without a
    sealing pass from outside."""
    threads_count, per_thread = 6, 12
    start = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                if n % 2:
                    audit.record("test.concurrent", object_type="test", object_id=f"{n}-{i}")
                    continue
                with transaction.atomic():
                    audit.record("test.concurrent", object_type="test", object_id=f"{n}-{i}a")
                    audit.record_many(
                        audit.entry("test.concurrent", object_type="test", object_id=f"{n}-{i}{c}")
                        for c in "bc"
                    )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    total = sum(per_thread * (1 if n % 2 else 3) for n in range(threads_count))
    assert AuditEntry.objects.count() == total
    assert not AuditEntry.objects.filter(seq__isnull=True).exists()
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, total + 1)
    )
    result = audit.verify()
    assert result.ok, result
    assert result.checked == total


@pytest.mark.parametrize(
    "changes",
    [
        {"institution": 7, "branch": None, "round": 1},
        {"ok": True, "big": 2**70, "text": '中文 "quoted" \\ 😀'},
        {"when": timezone.now(), "n": 1},  # not flat JSON: round-tripped (str)
        {"nested": {"a": [1, 2.5]}, "x": 1.0},
        {1: "int key"},  # JSON makes the key a string
        {},
    ],
)
def test_normalised_changes_are_what_the_json_column_gives_back(changes):
    import json

    from chanrong.core.audit.chain import _normalise

    expected = json.loads(json.dumps(changes, default=str, ensure_ascii=False))
    got = _normalise(changes)
    assert got == expected and got is not changes
    assert [type(k) for k in got] == [type(k) for k in expected]
