"""How long audit entries are kept, and the only code that removes any.

GB/T 22239-2019 (等保 2.0, 第三级, 安全审计) and the 网络安全法 (art. 21:
network logs kept no less than six months) want the audit trail kept; the
platform keeps it at least `settings.AUDIT_RETENTION_DAYS` days, never
fewer than 180 (`MIN_RETENTION_DAYS`; settings clamps the variable).

No code path deletes audit rows except `purge()` (`chanrong audit purge
--before YYYY-MM-DD`), and it refuses any date that would remove an entry
younger than the retention. It removes a prefix of the chain only (lowest
`seq` first, stopping at the first entry not old enough), in one transaction
with an `audit.purge` entry that records where the removed part ended
(`through_seq`, `through_hash`): `verify()` then starts the walk at the
first remaining row and checks its link against that hash, so a purged
chain still verifies while rows cut from its start without a purge entry
are still caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import AuditEntry
from .chain import _try_lock, record, seal

MIN_RETENTION_DAYS = 180
PURGE_ACTION = "audit.purge"


class RetentionError(ValueError):
    """A purge that would remove entries younger than the retention period."""


@dataclass(frozen=True)
class PurgeResult:
    rows: int
    through_seq: int
    earliest_allowed: date


def retention_days() -> int:
    return max(MIN_RETENTION_DAYS, int(settings.AUDIT_RETENTION_DAYS))


def latest_purge_date(today: date | None = None) -> date:
    """The latest `before` date a purge accepts: entries created before it
    are at least `retention_days()` old."""
    today = today or timezone.localdate()
    return today - timedelta(days=retention_days())


def purge(before: date, *, actor=None, today: date | None = None) -> PurgeResult:
    """Remove the chain's oldest entries created before `before` (local
    date), refusing a date that would touch entries within the retention.
    One transaction: the rows go and the `audit.purge` entry is written, or
    neither."""
    allowed = latest_purge_date(today)
    if before > allowed:
        raise RetentionError(
            f"审计日志至少保留 {retention_days()} 天：只能清除 {allowed.isoformat()} 之前的记录，"
            f"拒绝清除 {before.isoformat()} 之前的记录"
        )
    cutoff = timezone.make_aware(datetime.combine(before, time.min))
    seal()
    with transaction.atomic():
        _try_lock()  # PostgreSQL: nobody seals while the start of the chain is cut
        chain = AuditEntry.objects.filter(seq__isnull=False)
        first_young = chain.filter(created_at__gte=cutoff).order_by("seq").first()
        old = chain.filter(created_at__lt=cutoff)
        if first_young is not None:
            old = old.filter(seq__lt=first_young.seq)
        last = old.order_by("-seq").first()
        if last is None:
            return PurgeResult(0, 0, allowed)
        rows = old.count()
        old.delete()  # this module's alone (see the module docstring)
        record(
            PURGE_ACTION,
            actor=actor,
            object_type="core.auditentry",
            object_id=str(last.seq),
            object_repr=f"≤ {last.seq}",
            changes={
                "before": before.isoformat(),
                "rows": rows,
                "through_seq": last.seq,
                "through_hash": last.hash,
                "retention_days": retention_days(),
            },
        )
    return PurgeResult(rows, last.seq, allowed)


def chain_start() -> tuple[int, str] | None:
    """Where a purged chain starts: (first seq, the hash its prev_hash must
    carry), from the newest `audit.purge` entry; None when never purged."""
    purged = (
        AuditEntry.objects.filter(action=PURGE_ACTION, seq__isnull=False).order_by("-seq").first()
    )
    if purged is None:
        return None
    try:
        through = int(purged.changes["through_seq"])
        through_hash = str(purged.changes["through_hash"])
    except (KeyError, TypeError, ValueError):
        return None
    return through + 1, through_hash
