"""Audit anchors: the chain's end written down outside the database catches
what the chain alone cannot — rows removed from its end, and a chain edited
and hashed again from some row on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from chanrong.core import audit, tasks
from chanrong.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def grow(n: int) -> None:
    for i in range(n):
        audit.record("test.grow", object_type="test", object_id=str(i), changes={"i": i})


def command(*args: str) -> str:
    out = StringIO()
    call_command("audit", *args, stdout=out)
    return out.getvalue().strip()


def rehash_from(seq: int, **edit) -> None:
    """What someone with the database can do: edit a row, then recompute its
    hash and every later row's link and hash, so the chain verifies again."""
    entries = list(AuditEntry.objects.filter(seq__gte=seq).order_by("seq"))
    prev = AuditEntry.objects.get(seq=seq - 1).hash if seq > 1 else audit.GENESIS
    for item in entries:
        if item.seq == seq:
            for field, value in edit.items():
                setattr(item, field, value)
        item.prev_hash = prev
        item.hash = prev = audit.compute_hash(item)
        AuditEntry.objects.filter(pk=item.pk).update(
            prev_hash=item.prev_hash, hash=item.hash, **(edit if item.seq == seq else {})
        )


def test_anchor_writes_the_chain_end_once_per_move():
    assert command("anchor") == "EMPTY: 审计日志为空，无需锚定"
    grow(3)
    out = command("anchor")
    last = AuditEntry.objects.order_by("-seq").first()
    assert out.startswith(f"ANCHOR seq {last.seq} {last.hash} at ")
    assert command("anchor").startswith(f"ANCHOR seq {last.seq} ")  # unchanged: not repeated
    lines = settings.AUDIT_ANCHOR_FILE.read_text().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["seq"] == last.seq
    grow(2)
    tasks.anchor_audit_log.call()
    assert [a.seq for a in audit.read_anchors()] == [last.seq, last.seq + 2]


def test_verify_checks_the_anchors():
    grow(4)
    command("anchor")
    grow(2)
    assert command("verify") == "OK: 6 entries, 1 anchors (latest seq 4)"
    assert command("verify", "--no-anchors") == "OK: 6 entries"


def test_removing_the_newest_rows_is_caught():
    grow(5)
    command("anchor")
    AuditEntry.objects.filter(seq__gte=4).delete()
    # The chain alone still verifies ...
    assert command("verify", "--no-anchors") == "OK: 3 entries"
    # ... the anchor does not.
    with pytest.raises(CommandError) as excinfo:
        command("verify")
    assert str(excinfo.value).startswith("BROKEN at seq 4: 链止于第 3 条，而 ")
    assert "锚点在第 5 条（末尾的记录已被删除）" in str(excinfo.value)


def test_a_rewritten_and_rehashed_chain_is_caught_at_the_anchor():
    grow(6)
    command("anchor")
    rehash_from(2, action="test.forged")
    assert command("verify", "--no-anchors") == "OK: 6 entries"
    with pytest.raises(CommandError) as excinfo:
        command("verify")
    assert str(excinfo.value).startswith("BROKEN at seq 6: ")
    assert "锚点不符" in str(excinfo.value)


def test_rows_after_the_last_anchor_are_not_covered_yet():
    """The limit, stated: what was appended since the last anchor can still be
    removed unnoticed; anchoring every ten minutes bounds that window."""
    grow(3)
    command("anchor")
    grow(2)
    AuditEntry.objects.filter(seq=5).delete()
    assert command("verify") == "OK: 4 entries, 1 anchors (latest seq 3)"


def test_a_copy_of_the_anchors_elsewhere(tmp_path):
    grow(3)
    command("anchor")
    copy = tmp_path / "copy.jsonl"
    copy.write_text(settings.AUDIT_ANCHOR_FILE.read_text())
    settings.AUDIT_ANCHOR_FILE.unlink()  # whoever truncated the log also removed the file
    AuditEntry.objects.filter(seq=3).delete()
    # No anchor at all for a non-empty log is itself a failure (issue 15, finding 3) ...
    with pytest.raises(CommandError, match="ANCHORS: 审计日志有 2 条记录，却没有任何锚点"):
        command("verify")
    # ... and the copy says what was removed.
    with pytest.raises(CommandError, match="BROKEN at seq 3"):
        command("verify", "--anchors", str(copy))
    with pytest.raises(CommandError, match="ANCHORS: 锚点文件 .* 不存在"):
        command("verify", "--anchors", str(tmp_path / "missing.jsonl"))


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        '{"seq": 1}',
        '{"seq": 0, "hash": "' + "a" * 64 + '", "at": "x"}',
        '{"seq": 1, "hash": "zz", "at": "x"}',
    ],
)
def test_an_unreadable_anchor_file_is_reported_by_line(line):
    grow(1)
    settings.AUDIT_ANCHOR_FILE.write_text(
        '{"seq": 1, "hash": "' + "0" * 64 + '", "at": "x"}\n' + line + "\n"
    )
    with pytest.raises(CommandError, match="ANCHORS: .* 第 2 行"):
        command("verify")


def test_the_anchor_file_is_appended_and_the_time_is_utc(tmp_path):
    path = tmp_path / "a" / "anchors.jsonl"
    grow(1)
    first = audit.write_anchor(path, now=datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    grow(1)
    audit.write_anchor(path)
    assert first.at == "2026-11-24T09:30:00+00:00"
    assert len(path.read_text().splitlines()) == 2


def test_default_path_is_per_database(settings):
    settings.AUDIT_ANCHOR_FILE = None
    path = audit.anchor_path()
    assert path.parent == settings.VAR_DIR
    assert path.name.startswith("audit-anchors.") and path.suffix == ".jsonl"


def test_an_unchanged_end_is_not_written_again_in_a_long_file():
    grow(2)
    lines = [json.dumps({"seq": 1, "hash": "a" * 64, "at": "2026-01-01T00:00:00+00:00"})] * 200
    settings.AUDIT_ANCHOR_FILE.write_text(
        "\n".join(lines) + "\n"
    )  # ≈ 20 kB: longer than the tail read
    first = audit.write_anchor()
    assert audit.write_anchor() == first
    assert len(audit.read_anchors()) == 201
