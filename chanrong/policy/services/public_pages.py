"""What the public side shows: programmes in force and recently ended, one
programme's parameters, conditions and remaining budget in plain Chinese,
and a per-address limit on objections to the 公示 (anyone may object, no
login, so the form must not become a way to flood the reviewers).

Visibility stays `Programme.objects.visible_to(user)`: an anonymous visitor
sees published and closed programmes, never a draft.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils.translation import gettext as _

from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Region

from .. import rules, wording
from ..models import POOL_KINDS, BudgetYear, Pool, Programme, ProgrammeState
from .programmes import check

#: How long after its end a programme is still listed as "近期结束".
RECENTLY_CLOSED_DAYS = 180
DEFAULT_OBJECTIONS_PER_HOUR = 10


def _region_filter(region: Region) -> Q:
    """Programmes that apply in `region`: its own and its subtree's, and
    those of the regions above it (a provincial programme covers 嘉善 too)."""
    above = []
    node = region.parent
    while node is not None:
        above.append(node.code)
        node = node.parent
    return Q(region__code__startswith=region.prefix) | Q(region_id__in=above)


def programmes_in_force(user, today: date, *, kind: str = "", region: Region | None = None):
    queryset = Programme.objects.visible_to(user).in_force(today)
    return _filtered(queryset, kind, region).select_related("agency", "region")


def recently_closed(user, today: date, *, kind: str = "", region: Region | None = None):
    """Closed, or past their end date, within the last RECENTLY_CLOSED_DAYS."""
    since = today - timedelta(days=RECENTLY_CLOSED_DAYS)
    queryset = (
        Programme.objects.visible_to(user)
        .filter(
            Q(state=ProgrammeState.CLOSED, ends_on__gte=since)
            | Q(state=ProgrammeState.PUBLISHED, ends_on__lt=today, ends_on__gte=since)
        )
        .order_by("-ends_on", "name")
    )
    return _filtered(queryset, kind, region).select_related("agency", "region")


def _filtered(queryset, kind: str, region: Region | None):
    if kind:
        queryset = queryset.filter(kind=kind)
    if region is not None:
        queryset = queryset.filter(_region_filter(region))
    return queryset


def region_choices(user) -> list[tuple[str, str]]:
    """The regions of the published programmes and the regions above them,
    as (code, full name), for the filter."""
    codes = set(
        Programme.objects.visible_to(user)
        .exclude(state=ProgrammeState.DRAFT)
        .values_list("region_id", flat=True)
        .distinct()
    )
    regions = {r.code: r for r in Region.objects.filter(pk__in=codes).select_related("parent")}
    wanted = set(regions)
    for region in list(regions.values()):
        node = region.parent
        while node is not None:
            wanted.add(node.code)
            node = node.parent
    rows = Region.objects.filter(pk__in=wanted).order_by("code")
    return [(r.code, r.name) for r in rows]


@dataclass
class Overview:
    """One programme, said plainly."""

    params: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    award_items: list[tuple[str, str]] = field(default_factory=list)  # (code, text)
    #: (year, appropriation, remaining) per budget year, latest first.
    budgets: list[tuple[int, Decimal, Decimal]] = field(default_factory=list)
    pool_balance: Decimal | None = None
    broken: bool = False  # the stored parameters no longer parse (never for a published one)


def overview(programme: Programme, today: date) -> Overview:
    try:
        checked = check(programme)
    except ValidationFailed:
        return Overview(broken=True)
    out = Overview(
        params=wording.describe_params(checked.params),
        conditions=rules.describe(checked.conditions),
    )
    items = getattr(checked.params, "items", None)
    if items:
        out.award_items = [(item.code, wording.award_item_text(item)) for item in items]
    if programme.kind in POOL_KINDS:
        pool = Pool.objects.filter(programme=programme).first()
        out.pool_balance = pool.balance if pool is not None else None
    else:
        out.budgets = [
            (b.year, b.appropriation, b.available)
            for b in BudgetYear.objects.filter(programme=programme).order_by("-year")
        ]
    return out


class Throttled(ValidationFailed):
    """Too many objections from one address (HTTP 429 on the page)."""

    def __init__(self):
        super().__init__({"text": _("提交过于频繁，请一小时后再试")}, message=_("提交过于频繁"))
        self.code, self.status = "throttled", 429


def objections_per_hour() -> int:
    return int(getattr(settings, "CHANRONG_OBJECTIONS_PER_HOUR", DEFAULT_OBJECTIONS_PER_HOUR))


def note_objection_attempt(ip: str | None) -> None:
    """Count one objection from `ip` (this hour) and refuse, with a message
    on the form, when it is over the limit. The count lives in Django's
    cache: per process with the default local-memory cache, shared when
    CACHES points at Redis or the database."""
    key = f"policy:objections:{ip or 'unknown'}"
    limit = objections_per_hour()
    if cache.add(key, 1, timeout=3600):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=3600)
            count = 1
    if count > limit:
        raise Throttled()
