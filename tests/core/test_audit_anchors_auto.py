"""Anchors without a worker, strict verification, retention (issue 15, finding 3).

Deleting the newest rows, or editing the newest row and clearing its seal,
passed `chanrong audit verify` on the default set-up: anchors were written
only by a scheduled task nothing started. Now the committing process writes
them itself, and verify refuses a log whose anchors are missing or stale.

These tests' transactions never commit; `django_capture_on_commit_callbacks
(execute=True)` runs what a real commit would run (sealing and anchoring).
"""

from __future__ import annotations

import logging
import os
import stat
from datetime import date, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from chanrong.core import audit
from chanrong.core.audit import retention
from chanrong.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def grow(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        audit.record("test.grow", object_type="test", object_id=str(i), changes={"i": i})


def committed(capture, n: int, start: int = 0) -> None:
    """n audited writes, and what runs after their commit."""
    with capture(execute=True):
        grow(n, start)


def command(*args: str) -> str:
    out = StringIO()
    call_command("audit", *args, stdout=out)
    return out.getvalue().strip()


def test_a_committed_write_anchors_the_chain_without_any_worker(
    django_capture_on_commit_callbacks,
):
    assert not settings.AUDIT_ANCHOR_FILE.exists()
    committed(django_capture_on_commit_callbacks, 3)
    anchors = audit.read_anchors()
    assert [a.seq for a in anchors] == [3]
    assert anchors[0].hash == AuditEntry.objects.get(seq=3).hash
    mode = stat.S_IMODE(os.stat(settings.AUDIT_ANCHOR_FILE).st_mode)
    assert mode == 0o600  # owner only


def test_deleting_the_newest_rows_fails_verify(django_capture_on_commit_callbacks):
    committed(django_capture_on_commit_callbacks, 4)
    AuditEntry.objects.filter(seq__gte=3).delete()
    with pytest.raises(CommandError, match="BROKEN at seq 3: 链止于第 2 条.*末尾的记录已被删除"):
        command("verify")


def test_editing_the_newest_row_and_clearing_its_seal_fails_verify(
    django_capture_on_commit_callbacks,
):
    committed(django_capture_on_commit_callbacks, 3)
    newest = AuditEntry.objects.get(seq=3)
    AuditEntry.objects.filter(pk=newest.pk).update(
        action="test.forged", seq=None, prev_hash=None, hash=None
    )
    # verify seals the "pending" row again, as seq 3, with another hash: the anchor differs.
    with pytest.raises(CommandError, match="BROKEN at seq 3: .*锚点不符"):
        command("verify")


def test_a_seal_cleared_minutes_ago_is_refused_not_resealed(django_capture_on_commit_callbacks):
    committed(django_capture_on_commit_callbacks, 2)
    old = timezone.now() - audit.UNSEALED_GRACE - timedelta(minutes=1)
    AuditEntry.objects.filter(seq=2).update(seq=None, prev_hash=None, hash=None, created_at=old)
    with pytest.raises(CommandError, match="UNSEALED: 1 条记录超过 5 分钟仍未封存"):
        command("verify")
    assert AuditEntry.objects.filter(seq__isnull=True).count() == 1  # left as found


def test_no_anchor_for_a_non_empty_log_fails_verify():
    grow(2)  # never committed: nothing anchored it
    with pytest.raises(CommandError, match="ANCHORS: 审计日志有 2 条记录，却没有任何锚点"):
        command("verify")
    assert command("verify", "--no-anchors") == "OK: 2 entries"  # the chain itself is whole
    assert command("anchor").startswith("ANCHOR seq 2 ")
    assert command("verify") == "OK: 2 entries, 1 anchors (latest seq 2)"


def test_a_stale_anchor_fails_verify(settings):
    grow(2)
    audit.write_anchor(now=timezone.now() - timedelta(seconds=settings.AUDIT_ANCHOR_STALE + 60))
    grow(1)
    with pytest.raises(CommandError, match="ANCHORS: 最新的锚点（第 2 条.*锚点没有随日志更新"):
        command("verify")


def test_a_clean_verify_anchors_the_end_it_checked():
    grow(2)
    command("anchor")
    grow(2)
    assert command("verify") == "OK: 4 entries, 1 anchors (latest seq 2)"
    assert [a.seq for a in audit.read_anchors()] == [2, 4]


def test_anchoring_after_commit_is_throttled_by_time_and_entries(
    settings, django_capture_on_commit_callbacks
):
    settings.AUDIT_ANCHOR_EVERY, settings.AUDIT_ANCHOR_ENTRIES = 60, 3  # a very busy system's
    committed(django_capture_on_commit_callbacks, 1)
    assert [a.seq for a in audit.read_anchors()] == [1]
    # What the next commits' callbacks run (the test's transaction keeps the
    # first registration, so later blocks would capture nothing):
    grow(1, start=1)
    assert audit.maybe_anchor() is None  # 1 behind, fresh: not yet
    grow(2, start=2)
    assert audit.maybe_anchor().seq == 4  # 3 behind: due
    grow(1, start=4)
    later = timezone.now() + timedelta(seconds=settings.AUDIT_ANCHOR_EVERY + 1)
    assert audit.maybe_anchor() is None  # 1 behind, fresh
    assert audit.maybe_anchor(now=later).seq == 5  # older than the interval: due
    assert audit.maybe_anchor(now=later) is None  # the end has not moved
    assert [a.seq for a in audit.read_anchors()] == [1, 4, 5]


@pytest.mark.django_db(transaction=True)
def test_real_commits_with_the_default_settings_anchor_every_write(caplog):
    """The finding's set-up: nothing but the process doing the writes."""
    caplog.set_level(logging.INFO, logger="chanrong.core.audit")
    for i in range(3):
        audit.record("test.commit", object_type="test", object_id=str(i))  # each commits
    assert [a.seq for a in audit.read_anchors()] == [1, 2, 3]
    newest = AuditEntry.objects.get(seq=3)
    assert f"audit anchor seq=3 hash={newest.hash}" in caplog.text  # the log's copy
    AuditEntry.objects.filter(seq=3).delete()
    with pytest.raises(CommandError, match="BROKEN at seq 3: 链止于第 2 条"):
        command("verify")


def test_serve_anchors_at_start():
    grow(2)
    assert audit.anchor_at_start().seq == 2
    assert [a.seq for a in audit.read_anchors()] == [2]


# --- retention -----------------------------------------------------------------------


def aged(n: int, days: int) -> None:
    """n entries created `days` ago, sealed onto the chain."""
    for i in range(n):
        item = audit.entry("test.aged", object_type="test", object_id=f"{days}-{i}")
        item.created_at = timezone.now() - timedelta(days=days)
        item.save(force_insert=True)
    audit.seal()


def test_retention_is_at_least_180_days(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    assert retention.retention_days() == 180
    assert retention.latest_purge_date(date(2026, 12, 5)) == date(2026, 6, 8)


def test_purge_refuses_entries_younger_than_the_retention():
    aged(2, days=10)
    too_recent = timezone.localdate() - timedelta(days=100)
    with pytest.raises(CommandError, match="REFUSED: 审计日志至少保留 180 天"):
        command("purge", "--before", too_recent.isoformat())
    assert AuditEntry.objects.count() == 2


def test_purge_removes_only_the_old_prefix_and_the_chain_still_verifies():
    aged(3, days=400)
    aged(2, days=10)
    grow(1)
    command("anchor")  # anchors seq 6; an anchor of purged rows would be skipped
    before = timezone.localdate() - timedelta(days=200)
    out = command("purge", "--before", before.isoformat())
    assert out == "PURGED 3 entries (through seq 3); retention 180 days"
    assert not AuditEntry.objects.filter(seq__lte=3).exists()
    assert AuditEntry.objects.filter(seq__gte=4).count() == 4  # 2 aged, 1 grown, the purge entry
    purge = AuditEntry.objects.get(action="audit.purge")
    assert purge.changes["rows"] == 3 and purge.changes["through_seq"] == 3
    assert command("verify") == "OK: 4 entries, 1 anchors (latest seq 6)"
    # Rows cut from the start without going through purge are still caught.
    AuditEntry.objects.filter(seq=4).delete()
    with pytest.raises(CommandError, match="BROKEN at seq 5"):
        command("verify")
