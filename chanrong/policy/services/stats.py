"""Statistics of the programmes (统计分析): money and counts by programme,
kind, region, industry, enterprise size and bank, per year and per month,
read from the policy tables themselves.

What is counted, for a period [start, end] (both ends included):

- 申请 (filed): applications submitted in the period (by `submitted_at`,
  Asia/Shanghai); 免申即享 proposals not yet confirmed are not filings.
- 已拨付 (paid, 拨付): applications paid in the period (by `paid_on`), with
  their amounts — the money that left the budget.
- 已承诺 (committed): applications that passed 财政复核 in the period (by
  `notice_starts_on`) and are still held by the ledger, in 公示 or waiting
  for payment — the commitments not yet paid.
- 转贷应急 (bridge): draws paid out in the period (by `drawn_on`), whatever
  happened to them later.
- 风险补偿 (compensation): loss claims the pool paid in the period (by
  `paid_on`), with the compensation paid.

Who sees what is `visible_to` of each family (an agency sees the programmes
of its region's subtree, platform admins all); nobody else sees statistics.
The region of a row is the enterprise's (one level below the viewer's own
region, or the region itself at the bottom), its industry the GB/T 4754
section (门类) of the enterprise, its bank the lending (or awarded)
institution; awards to banks have no enterprise and count under
"（金融机构）" by region, industry and size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotFound, ValidationFailed
from chanrong.core.exporting import ExportColumn, write_xlsx
from chanrong.core.models import Industry, Region
from chanrong.core.money import WAN
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.finance import eligibility as el
from chanrong.finance.models import FinancialInstitution

from ..models import (
    Application,
    ApplicationState,
    BridgeDraw,
    BridgeState,
    ClaimState,
    LossClaim,
    Programme,
    ProgrammeKind,
)

ZERO = Decimal(0)
FEN = Decimal("0.01")

GROUPS: dict[str, Any] = {
    "programme": gettext_lazy("政策项目"),
    "kind": gettext_lazy("政策类型"),
    "region": gettext_lazy("地区"),
    "industry": gettext_lazy("行业门类"),
    "size": gettext_lazy("企业规模"),
    "bank": gettext_lazy("金融机构"),
}

#: The path to each dimension from each family's model.
_PATHS = {
    "app": {
        "programme": "programme_id",
        "kind": "programme__kind",
        "region": "enterprise__region_id",
        "industry": "enterprise__industry_id",
        "size": "enterprise__size",
        "bank": "institution_id",
    },
    "bridge": {
        "programme": "programme_id",
        "kind": "programme__kind",
        "region": "enterprise__region_id",
        "industry": "enterprise__industry_id",
        "size": "enterprise__size",
        "bank": "loan__institution_id",
    },
    "claim": {
        "programme": "registration__programme_id",
        "kind": "registration__programme__kind",
        "region": "registration__loan__enterprise__region_id",
        "industry": "registration__loan__enterprise__industry_id",
        "size": "registration__loan__enterprise__size",
        "bank": "registration__loan__institution_id",
    },
}
#: The date each measure is counted on.
_FILED = "submitted_at__date"
_COMMITTED_STATES = (ApplicationState.NOTICE, ApplicationState.APPROVED)
_DRAWN_STATES = (BridgeState.DRAWN, BridgeState.REPAID)
NONE_KEY = ""


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    group_by: str = "programme"
    kind: str = ""  # one programme kind, or "" for all

    def as_query(self) -> dict[str, str]:
        query = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        query["group_by"] = self.group_by
        if self.kind:
            query["kind"] = self.kind
        return query


def default_filters(today: date | None = None) -> Filters:
    """Last year and this year to date: two budget years side by side."""
    day = today or timezone.localdate()
    return Filters(date(day.year - 1, 1, 1), day)


def parse_filters(data, *, today: date | None = None) -> Filters:
    """Filters from a query string; every error by field (ValidationFailed),
    nothing guessed. Blank fields take the defaults."""
    base = default_filters(today)
    errors: list[FieldError] = []

    def day(name: str, default: date) -> date:
        raw = (data.get(name) or "").strip() if data else ""
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors.append(FieldError(name, _("日期格式应为 YYYY-MM-DD")))
            return default

    start, end = day("start", base.start), day("end", base.end)
    if errors:
        pass  # an unreadable date: its own error is enough
    elif start > end:
        errors.append(FieldError("end", _("截止日期早于起始日期")))
    elif (end - start).days > 366 * 10:
        errors.append(FieldError("end", _("统计区间不能超过十年")))
    group_by = (data.get("group_by") if data else "") or base.group_by
    if group_by not in GROUPS:
        errors.append(FieldError("group_by", _("未知的分组方式")))
    kind = (data.get("kind") if data else "") or ""
    if kind and kind not in ProgrammeKind.values:
        errors.append(FieldError("kind", _("未知的政策类型")))
    if errors:
        raise ValidationFailed(errors, message=_("统计条件有误"))
    return Filters(start, end, group_by, kind)


@dataclass
class Row:
    key: str
    label: str
    filed: int = 0
    paid_count: int = 0
    paid_amount: Decimal = ZERO
    committed_count: int = 0
    committed_amount: Decimal = ZERO
    bridge_count: int = 0
    bridge_amount: Decimal = ZERO
    compensation_count: int = 0
    compensation_amount: Decimal = ZERO

    def add(self, other: Row) -> None:
        for name in _MEASURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in _MEASURES)

    @property
    def support(self) -> Decimal:
        """Money out of the budgets and pools: paid subsidies and compensation."""
        return self.paid_amount + self.compensation_amount


_MEASURES = (
    "filed",
    "paid_count",
    "paid_amount",
    "committed_count",
    "committed_amount",
    "bridge_count",
    "bridge_amount",
    "compensation_count",
    "compensation_amount",
)


@dataclass
class Period:
    """One month or one year of the period: paid per kind and pool movements."""

    label: str
    paid_by_kind: dict[str, Decimal] = field(default_factory=dict)
    committed: Decimal = ZERO
    bridge: Decimal = ZERO
    bridge_count: int = 0
    compensation: Decimal = ZERO

    @property
    def paid(self) -> Decimal:
        return sum(self.paid_by_kind.values(), ZERO)


@dataclass
class Stats:
    filters: Filters
    scope_name: str
    rows: list[Row]
    total: Row
    months: list[Period]
    years: list[Period]

    @property
    def group_label(self) -> str:
        return str(GROUPS[self.filters.group_by])


# --- scope -------------------------------------------------------------------------------


def can_view(user) -> bool:
    return scope_of(user).kind in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM)


def _scope_region(user) -> Region | None:
    scope = scope_of(user)
    if scope.kind == ScopeKind.GOVERNMENT and scope.region_prefix:
        return Region.objects.filter(prefix=scope.region_prefix).order_by("code").first()
    return None


def querysets(user, filters: Filters) -> tuple[QuerySet, QuerySet, QuerySet]:
    """Applications, bridge draws and loss claims the viewer may count."""
    if not can_view(user):
        raise NotFound(_("未找到"))
    apps = Application.objects.visible_to(user)
    draws = BridgeDraw.objects.visible_to(user)
    scope = scope_of(user)
    claims = LossClaim.objects.all()
    if scope.kind == ScopeKind.GOVERNMENT:
        claims = claims.filter(
            registration__programme__region__code__startswith=scope.region_prefix
        )
    if filters.kind:
        apps = apps.filter(programme__kind=filters.kind)
        draws = draws.filter(programme__kind=filters.kind)
        claims = claims.filter(registration__programme__kind=filters.kind)
    return apps, draws, claims


def _measures(apps: QuerySet, draws: QuerySet, claims: QuerySet, start: date, end: date):
    """(family, measure, queryset, amount field) of every figure counted."""
    return (
        ("app", "filed", apps.filter(**{f"{_FILED}__range": (start, end)}), None),
        (
            "app",
            "paid",
            apps.filter(state=ApplicationState.PAID, paid_on__range=(start, end)),
            "amount",
        ),
        (
            "app",
            "committed",
            apps.filter(state__in=_COMMITTED_STATES, notice_starts_on__range=(start, end)),
            "amount",
        ),
        (
            "bridge",
            "bridge",
            draws.filter(state__in=_DRAWN_STATES, drawn_on__range=(start, end)),
            "amount",
        ),
        (
            "claim",
            "compensation",
            claims.filter(state=ClaimState.PAID, paid_on__range=(start, end)),
            "compensation",
        ),
    )


# --- the figures -------------------------------------------------------------------------


def summarise(user, filters: Filters) -> Stats:
    """The viewer's statistics for the period, grouped as asked."""
    apps, draws, claims = querysets(user, filters)
    region = _scope_region(user)
    grouper = _Grouper(filters.group_by, region)
    rows: dict[str, Row] = {}
    for family, measure, qs, amount in _measures(apps, draws, claims, filters.start, filters.end):
        path = _PATHS[family][filters.group_by]
        annotations = {"n": Count("pk")}
        if amount:
            annotations["a"] = Sum(amount)
        for item in qs.values(path).annotate(**annotations).order_by():
            key = grouper.key(item[path])
            row = rows.setdefault(key, Row(key, ""))
            _put(row, measure, item["n"], item.get("a"))
    for key, row in rows.items():
        row.label = grouper.label(key)
    ordered = sorted(rows.values(), key=lambda r: (-r.support, -r.bridge_amount, -r.filed, r.label))
    total = Row("", _("合计"))
    for row in ordered:
        total.add(row)
    months, years = _series(apps, draws, claims, filters)
    return Stats(
        filters=filters,
        scope_name=region.name if region is not None else _("全国"),
        rows=ordered,
        total=total,
        months=months,
        years=years,
    )


def _cents(amount) -> Decimal:
    """A database sum as Decimal 元 to the fen (SQLite sums in floating decimals)."""
    return Decimal(amount or 0).quantize(FEN, rounding=ROUND_HALF_UP)


def _put(row: Row, measure: str, count: int, amount) -> None:
    amount = _cents(amount)
    if measure == "filed":
        row.filed += count
    elif measure == "paid":
        row.paid_count += count
        row.paid_amount += amount
    elif measure == "committed":
        row.committed_count += count
        row.committed_amount += amount
    elif measure == "bridge":
        row.bridge_count += count
        row.bridge_amount += amount
    else:
        row.compensation_count += count
        row.compensation_amount += amount


class _Grouper:
    """Maps a raw dimension value (a region code, an industry code …) to the
    row it belongs to, and names that row."""

    def __init__(self, group_by: str, region: Region | None):
        self.group_by = group_by
        self.children: list[Region] = []
        if group_by == "region":
            children = (
                Region.objects.filter(parent=region)
                if region
                else Region.objects.filter(parent__isnull=True)
            )
            self.children = sorted(children, key=lambda r: -len(r.prefix))
            self.region = region
        self._labels: dict[str, str] = {}

    def key(self, raw) -> str:
        if raw in (None, ""):
            return NONE_KEY
        raw = str(raw)
        if self.group_by == "region":
            for child in self.children:
                if raw.startswith(child.prefix):
                    return child.code
            return self.region.code if self.region is not None else raw
        if self.group_by == "industry":
            return raw[:1]
        return raw

    def label(self, key: str) -> str:
        if not self._labels:
            self._labels = self._load()
        if key == NONE_KEY:
            if self.group_by in ("region", "industry", "size"):
                return _("（金融机构）")
            return _("（无）")
        return self._labels.get(key, key)

    def _load(self) -> dict[str, str]:
        if self.group_by == "programme":
            return {str(pk): name for pk, name in Programme.objects.values_list("pk", "name")}
        if self.group_by == "kind":
            return {value: str(label) for value, label in ProgrammeKind.choices}
        if self.group_by == "region":
            return dict(Region.objects.values_list("code", "name"))
        if self.group_by == "industry":
            return {
                code: f"{code} {name}"
                for code, name in Industry.objects.filter(level="section").values_list(
                    "code", "name"
                )
            }
        if self.group_by == "size":
            return {k: str(_(v)) for k, v in el.SIZE_LABELS.items()}
        return {
            str(pk): short or name
            for pk, name, short in FinancialInstitution.objects.values_list(
                "pk", "name", "short_name"
            )
        }


def _series(apps, draws, claims, filters: Filters) -> tuple[list[Period], list[Period]]:
    """Month by month and year by year over the period."""
    months: dict[tuple[int, int], Period] = {}
    y, m = filters.start.year, filters.start.month
    while (y, m) <= (filters.end.year, filters.end.month):
        months[(y, m)] = Period(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    measures = _measures(apps, draws, claims, filters.start, filters.end)
    day_of = {"paid": "paid_on", "committed": "notice_starts_on", "bridge": "drawn_on"}
    for _family, measure, qs, amount in measures:
        if measure == "filed":
            continue
        day = day_of.get(measure, "paid_on")
        group = [f"{day}__year", f"{day}__month"]
        if measure == "paid":
            group.append("programme__kind")
        for item in qs.values(*group).annotate(n=Count("pk"), a=Sum(amount)).order_by():
            period = months.get((item[group[0]], item[group[1]]))
            if period is None:
                continue
            value = _cents(item["a"])
            if measure == "paid":
                kind = item["programme__kind"]
                period.paid_by_kind[kind] = period.paid_by_kind.get(kind, ZERO) + value
            elif measure == "committed":
                period.committed += value
            elif measure == "bridge":
                period.bridge += value
                period.bridge_count += item["n"]
            else:
                period.compensation += value
    years: dict[int, Period] = {}
    for (year, _month), period in months.items():
        total = years.setdefault(year, Period(str(year)))
        for kind, value in period.paid_by_kind.items():
            total.paid_by_kind[kind] = total.paid_by_kind.get(kind, ZERO) + value
        total.committed += period.committed
        total.bridge += period.bridge
        total.bridge_count += period.bridge_count
        total.compensation += period.compensation
    return list(months.values()), list(years.values())


# --- charts (ECharts options) -----------------------------------------------------------


def _wan(value: Decimal) -> float:
    return float((value / WAN).quantize(Decimal("0.01")))


PAID_KINDS = (ProgrammeKind.INTEREST, ProgrammeKind.GUARANTEE_FEE, ProgrammeKind.AWARD)


def month_chart(stats: Stats) -> dict[str, Any] | None:
    """Paid per kind by month (stacked bars, 万元), with 风险补偿 compensation
    beside them and 转贷应急 draws as a line on its own axis."""
    if not any(p.paid or p.compensation or p.bridge for p in stats.months):
        return None
    labels = [p.label for p in stats.months]
    series = [
        {
            "name": str(ProgrammeKind(kind).label),
            "type": "bar",
            "stack": "paid",
            "data": [_wan(p.paid_by_kind.get(kind, ZERO)) for p in stats.months],
        }
        for kind in PAID_KINDS
    ]
    series.append(
        {
            "name": _("风险补偿代偿"),
            "type": "bar",
            "stack": "paid",
            "data": [_wan(p.compensation) for p in stats.months],
        }
    )
    series.append(
        {
            "name": _("转贷应急出款"),
            "type": "line",
            "yAxisIndex": 1,
            "data": [_wan(p.bridge) for p in stats.months],
        }
    )
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 60, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": [
            {"type": "value", "name": _("拨付（万元）")},
            {"type": "value", "name": _("转贷（万元）")},
        ],
        "series": series,
    }


def group_chart(stats: Stats, limit: int = 15) -> dict[str, Any] | None:
    """The largest groups by money out (paid + compensation) and bridge
    draws, as horizontal bars (万元)."""
    rows = [r for r in stats.rows if r.support or r.bridge_amount or r.committed_amount][:limit]
    if not rows:
        return None
    rows = list(reversed(rows))
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 160, "right": 30, "top": 40, "bottom": 30},
        "xAxis": {"type": "value", "name": _("万元")},
        "yAxis": {"type": "category", "data": [r.label for r in rows]},
        "series": [
            {
                "name": _("已拨付"),
                "type": "bar",
                "stack": "money",
                "data": [_wan(r.paid_amount) for r in rows],
            },
            {
                "name": _("已承诺待拨付"),
                "type": "bar",
                "stack": "money",
                "data": [_wan(r.committed_amount) for r in rows],
            },
            {
                "name": _("风险补偿代偿"),
                "type": "bar",
                "stack": "money",
                "data": [_wan(r.compensation_amount) for r in rows],
            },
            {
                "name": _("转贷应急出款"),
                "type": "bar",
                "data": [_wan(r.bridge_amount) for r in rows],
            },
        ],
    }


# --- export ------------------------------------------------------------------------------


def _columns(group_label: str) -> tuple[ExportColumn, ...]:
    return (
        ExportColumn(group_label, lambda r: r.label, 30),
        ExportColumn(_("申请笔数"), lambda r: r.filed, 10, "integer"),
        ExportColumn(_("拨付笔数"), lambda r: r.paid_count, 10, "integer"),
        ExportColumn(_("拨付金额（元）"), lambda r: r.paid_amount, 16, "amount"),
        ExportColumn(_("已承诺笔数"), lambda r: r.committed_count, 10, "integer"),
        ExportColumn(_("已承诺待拨付金额（元）"), lambda r: r.committed_amount, 18, "amount"),
        ExportColumn(_("转贷应急笔数"), lambda r: r.bridge_count, 12, "integer"),
        ExportColumn(_("转贷应急金额（元）"), lambda r: r.bridge_amount, 16, "amount"),
        ExportColumn(_("风险补偿笔数"), lambda r: r.compensation_count, 12, "integer"),
        ExportColumn(_("风险补偿金额（元）"), lambda r: r.compensation_amount, 16, "amount"),
    )


def export(user, filters: Filters):
    """The statistics table (groups, then the total) as .xlsx; audited
    (who exported which figures)."""
    stats = summarise(user, filters)
    note = _("统计区间 %(a)s 至 %(b)s，范围：%(s)s") % {
        "a": filters.start,
        "b": filters.end,
        "s": stats.scope_name,
    }
    handle, count = write_xlsx(
        _columns(stats.group_label),
        [*stats.rows, stats.total],
        sheet_name=_("政策资金统计"),
        title_note=note,
    )
    audit.record(
        "policy.stats.export",
        actor=user,
        object_type="policy.stats",
        object_repr=note[:200],
        changes={**filters.as_query(), "rows": count},
    )
    return handle, count
