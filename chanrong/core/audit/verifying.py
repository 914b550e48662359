"""Walking the chain, and checking it against the anchors.

`verify()` alone checks what the chain can show (every row's sequence, link
and hash). With `strict=True` (what `chanrong audit verify` runs) it also
requires anchors that keep up with the chain: a log with entries and no
anchor, or whose newest anchor is older than AUDIT_ANCHOR_STALE behind the
newest entry, fails — otherwise removing the newest rows, or the anchor
file with them, would go unnoticed (issue 15, finding 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from ..models import AuditEntry
from .anchors import Anchor, anchor_stale
from .chain import GENESIS, UNSEALED_GRACE, compute_hash
from .retention import chain_start


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    unsealed: int = 0  # entries not sealed for longer than UNSEALED_GRACE
    anchors: int = 0  # anchors checked
    kind: str = ""  # "broken" | "anchors" | "unsealed" when not ok


def overdue_unsealed(now: datetime | None = None) -> tuple[int, int | None]:
    """(how many, first id) of entries left unsealed longer than UNSEALED_GRACE.

    Their own commit seals them within moments; one still unsealed after
    minutes either had its sealing fail or had its seal cleared by hand (a
    sealed row edited and set back to "unsealed" would otherwise be chained
    again, edit included). `chanrong audit verify` checks this before it
    seals anything."""
    cutoff = (now or timezone.now()) - UNSEALED_GRACE
    stale = AuditEntry.objects.filter(seq__isnull=True, created_at__lt=cutoff)
    count = stale.count()
    first = stale.order_by("id").values_list("id", flat=True).first() if count else None
    return count, first


def _unsealed_reason(count: int, first: int | None) -> str:
    minutes = int(UNSEALED_GRACE.total_seconds() // 60)
    return f"{count} 条记录超过 {minutes} 分钟仍未封存（最早 id {first}）"


def verify(
    batch_size: int = 5000,
    *,
    now: datetime | None = None,
    anchors: Sequence[Anchor] = (),
    strict: bool = False,
) -> VerifyResult:
    """Walk the sealed chain in `seq` order; report the first row whose
    sequence, link or hash is wrong, or that no longer carries the hash an
    anchor wrote down; then a chain that stops short of its latest anchor;
    with `strict`, missing or stale anchors; else entries left unsealed for
    longer than UNSEALED_GRACE (their sealing failed)."""
    # A chain purged under the retention rules starts after the purged part
    # (`retention.purge` recorded where); any other missing start is caught.
    start = chain_start()
    expected_seq, expected_prev = start or (1, GENESIS)
    checked = 0
    newest_at: datetime | None = None
    anchored: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        if anchor.seq >= expected_seq:  # anchors of purged rows have nothing left to check
            anchored.setdefault(anchor.seq, []).append(anchor)
    qs = AuditEntry.objects.filter(seq__isnull=False).order_by("seq")
    for item in qs.iterator(chunk_size=batch_size):
        if item.seq != expected_seq:
            return VerifyResult(
                False, checked, item.seq, f"序号不连续：期望 {expected_seq}", kind="broken"
            )
        if item.prev_hash != expected_prev:
            return VerifyResult(False, checked, item.seq, "与上一条记录的哈希不衔接", kind="broken")
        if compute_hash(item) != item.hash:
            return VerifyResult(
                False, checked, item.seq, "记录内容与其哈希不符（已被修改）", kind="broken"
            )
        for anchor in anchored.get(item.seq, ()):
            if anchor.hash != item.hash:
                return VerifyResult(
                    False,
                    checked,
                    item.seq,
                    f"与 {anchor.at} 记下的锚点不符（此处或之前的记录被改写并重算了哈希）",
                    kind="broken",
                )
        expected_prev = item.hash
        expected_seq += 1
        checked += 1
        newest_at = item.created_at if newest_at is None else max(newest_at, item.created_at)
    if anchors:
        latest = max(anchors, key=lambda a: a.seq)
        if latest.seq >= expected_seq:
            return VerifyResult(
                False,
                checked,
                expected_seq,
                f"链止于第 {expected_seq - 1} 条，而 {latest.at} 记下的锚点在第 {latest.seq} 条"
                f"（末尾的记录已被删除）",
                anchors=len(anchors),
                kind="broken",
            )
    if strict and checked:
        problem = _anchor_problem(anchors, checked, newest_at)
        if problem:
            return VerifyResult(
                False, checked, reason=problem, anchors=len(anchors), kind="anchors"
            )
    count, first = overdue_unsealed(now)
    if count:
        return VerifyResult(
            False,
            checked,
            reason=_unsealed_reason(count, first),
            unsealed=count,
            anchors=len(anchors),
            kind="unsealed",
        )
    return VerifyResult(True, checked, anchors=len(anchors))


def _anchor_problem(anchors: Sequence[Anchor], checked: int, newest_at: datetime | None) -> str:
    """Why the anchors do not cover a chain of `checked` entries, or ""."""
    if not anchors:
        return (
            f"审计日志有 {checked} 条记录，却没有任何锚点（锚点文件缺失、被清空，或从未写入）："
            "无法发现末尾记录被删除。核实链完好后，可运行 `chanrong audit anchor` 重新锚定"
        )
    latest = max(anchors, key=lambda a: a.seq)
    latest_at = latest.moment
    if latest_at is None:
        return f"锚点的时间无法读取：{latest.at}"
    stale = anchor_stale()
    if newest_at is not None and newest_at - latest_at > stale:
        minutes = int(stale.total_seconds() // 60)
        return (
            f"最新的锚点（第 {latest.seq} 条，{latest.at}）比最新的记录（{newest_at.isoformat()}）"
            f"早了超过 {minutes} 分钟：锚点没有随日志更新，其后的记录无法证明未被删除"
        )
    return ""
