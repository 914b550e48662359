"""Kept figures (数据截至): the part every kind shares, a government user's
request to compute them again now.

A kept-figures row (insights' `FigureSnapshot`, risk's `GroupSplitSnapshot`)
declares `computed_at`, `requested_at` and `requested_by` itself and mixes in
`RefreshRequest` for the rule that says whether a request is still pending.
`mark_requested` records a request on a row the caller holds locked, and
audits it, unless one is pending: a button pressed twice, or by two clerks,
enqueues the work once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from . import audit


class RefreshRequest:
    """Mixed into a kept-figures model (plain class: it adds no field)."""

    #: A request no worker has answered within this time is taken as lost
    #: (no worker running, a crash): it may be asked for again.
    REQUEST_LAPSES = timedelta(hours=1)

    @property
    def refresh_pending(self) -> bool:
        if self.requested_at is None or self.requested_at < timezone.now() - self.REQUEST_LAPSES:
            return False
        return self.computed_at is None or self.requested_at > self.computed_at


def mark_requested(
    snapshot, actor, *, action: str, object_repr: str, changes: dict[str, Any], now=None
) -> bool:
    """Record `actor`'s request on `snapshot` (locked by the caller, inside
    its transaction) and audit it as `action`; False, writing nothing, while
    an earlier request is pending."""
    if snapshot.refresh_pending:
        return False
    snapshot.requested_at = now or timezone.now()
    snapshot.requested_by = actor if getattr(actor, "is_authenticated", False) else None
    snapshot.save(update_fields=["requested_at", "requested_by"])
    audit.record(action, actor=actor, obj=snapshot, object_repr=object_repr, changes=changes)
    return True
