"""Kept figures (数据截至): what every kind shares.

Several pages show figures too costly to compute on every view at county
or province scale (the 督办看板, 风险监测, 群体统计, the indicator plans'
完成情况), so each keeps them, computed ahead by a periodic task, and says
when (数据截至). Each kind has a snapshot row — `KeptSnapshot` below: the
date the figures are as of, when and how fast they were computed, and a
government user's pending request to compute them again now — and its own
rows of figures. This module holds the parts that are the same for all:

- `KeptSnapshot`, the abstract snapshot model (a kind adds its key);
- `RefreshRequest.refresh_pending`, whether a request is still waiting;
- `may_request`: who may ask for a recomputation;
- `mark_requested` / `request_on`: record a request on a locked snapshot
  and audit it, unless one is pending (a button pressed twice, or by two
  clerks, enqueues the work once);
- `refresh_button`: the body of the page's 重新计算 POST view.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .errors import NotAllowed
from .scope import ScopeKind, scope_of
from .tasking import enqueue_on_commit


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


class KeptSnapshot(RefreshRequest, models.Model):
    """One set of kept figures: the day they are as of, when they were
    computed (empty until the first computation has finished), how long it
    took, and a government user's pending request to compute them again."""

    as_of = models.DateField("数据截至日", null=True, blank=True)
    computed_at = models.DateTimeField("计算完成时间", null=True, blank=True)
    seconds = models.FloatField("计算耗时（秒）", default=0)
    requested_at = models.DateTimeField("申请刷新时间", null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


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


def may_request(actor) -> bool:
    """Who may ask for kept figures to be computed again: government users
    and platform admins (the figures are the same for everyone who may see
    them, and a recomputation costs the worker seconds)."""
    return scope_of(actor).kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT)


def request_on(model: type[KeptSnapshot], actor, *, action: str, key: str) -> bool:
    """`mark_requested` on the snapshot of `model` whose `key` is `key`
    (created empty if there is none yet), locked for the time of it."""
    with transaction.atomic():
        snapshot, _created = model.objects.select_for_update().get_or_create(key=key)
        return mark_requested(
            snapshot,
            actor,
            action=action,
            object_repr=key,
            changes={"as_of": snapshot.as_of.isoformat() if snapshot.as_of else None},
        )


def refresh_button(request, ask: Callable[[Any], bool], task, *args: Any) -> bool:
    """What a page's 重新计算 button does once the view has checked the user
    may see the page: `ask(user)` (the kind's request_refresh: True when the
    work should be enqueued; NotAllowed becomes a 403) and, if so, `task`
    enqueued when the request commits; a message says which happened.
    Returns whether the work was enqueued."""
    try:
        with transaction.atomic():
            enqueue = ask(request.user)
            if enqueue:
                enqueue_on_commit(task, *args)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    if enqueue:
        messages.success(request, _("已提交刷新，后台计算完成后页面将显示新数据。"))
    else:
        messages.info(request, _("刷新已在进行中，请稍后查看。"))
    return enqueue
