"""Financing statistics: the one service behind the supervision board, the
/stats/summary API and, later, the indicator system.

Everything is computed over the demands the actor can see
(`Demand.objects.visible_to`) that were published in [start, end] (local
dates, inclusive), and over their dispatches the actor can see. Medians are
taken in Python over the selected durations, so the numbers are the same on
SQLite and PostgreSQL.

Definitions (per group and in total):

- demands / demand_amount: demands published, and the amounts asked (元);
- dispatches, claims: dispatches of those demands, and those claimed;
- financings / financing_amount: demands disbursed (已放款), amounts lent;
- claim_rate (接单率) = claims / dispatches;
- success_rate (获得率) = financings / demands;
- median_claim_hours: dispatch → claim, over claimed dispatches;
- median_disburse_days: publication → disbursement date, over financings;
- compliance (按期接单率) = dispatches claimed by their claim deadline / dispatches.

Grouped by institution, a demand counts for every institution it was
dispatched to, and a financing for the institution that lent.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chanrong.core.errors import ValidationFailed

from .models import Demand, DemandKind, DemandState, Dispatch

GROUPS = {
    "region": gettext_lazy("地区"),
    "industry": gettext_lazy("行业"),
    "size": gettext_lazy("企业规模"),
    "institution": gettext_lazy("金融机构"),
    "kind": gettext_lazy("融资类型"),
}
MAX_SPAN_DAYS = 3660


@dataclass
class StatRow:
    key: str
    label: str
    demands: int = 0
    demand_amount: Decimal = Decimal(0)
    dispatches: int = 0
    claims: int = 0
    claimed_in_time: int = 0
    financings: int = 0
    financing_amount: Decimal = Decimal(0)
    claim_hours: list[float] = field(default_factory=list, repr=False)
    disburse_days: list[int] = field(default_factory=list, repr=False)

    @property
    def claim_rate(self) -> float | None:
        return _ratio(self.claims, self.dispatches)

    @property
    def success_rate(self) -> float | None:
        return _ratio(self.financings, self.demands)

    @property
    def compliance(self) -> float | None:
        return _ratio(self.claimed_in_time, self.dispatches)

    @property
    def median_claim_hours(self) -> float | None:
        return round(statistics.median(self.claim_hours), 2) if self.claim_hours else None

    @property
    def median_disburse_days(self) -> float | None:
        return statistics.median(self.disburse_days) if self.disburse_days else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "demands": self.demands,
            "demand_amount": self.demand_amount,
            "dispatches": self.dispatches,
            "claims": self.claims,
            "claimed_in_time": self.claimed_in_time,
            "financings": self.financings,
            "financing_amount": self.financing_amount,
            "claim_rate": self.claim_rate,
            "success_rate": self.success_rate,
            "compliance": self.compliance,
            "median_claim_hours": self.median_claim_hours,
            "median_disburse_days": self.median_disburse_days,
        }


@dataclass
class DemandStats:
    start: dt.date
    end: dt.date
    group_by: str
    total: StatRow
    rows: list[StatRow]

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "group_by": self.group_by,
            "total": self.total.as_dict(),
            "rows": [row.as_dict() for row in self.rows],
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def clean_period(start: Any, end: Any, group_by: Any = "region") -> tuple[dt.date, dt.date, str]:
    """Parse the query's period and grouping; a bad one is a 422, never a 500."""
    errors: dict[str, str] = {}
    today = timezone.localdate()

    def day(value: Any, name: str, default: dt.date) -> dt.date | None:
        if value in (None, ""):
            return default
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            errors[name] = _("应为日期，如 2026-01-31")
            return None

    end_day = day(end, "end", today)
    start_day = day(start, "start", (end_day or today).replace(month=1, day=1))
    group = str(group_by or "region")
    if group not in GROUPS:
        errors["group_by"] = _("应为 region、industry、size、institution 或 kind")
    if start_day and end_day:
        if start_day > end_day:
            errors["start"] = _("开始日期不能晚于结束日期")
        elif (end_day - start_day).days > MAX_SPAN_DAYS:
            errors["start"] = _("统计区间最长 10 年")
    if errors:
        raise ValidationFailed(errors)
    return start_day, end_day, group


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    low = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
    high = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz)
    return low, high


def _labels(group_by: str, keys: Iterable[str]) -> dict[str, str]:
    keys = [k for k in keys if k]
    if group_by == "region":
        from chanrong.core.models import Region

        return dict(Region.objects.filter(code__in=keys).values_list("code", "name"))
    if group_by == "industry":
        from chanrong.core.models import Industry

        return dict(Industry.objects.filter(code__in=keys).values_list("code", "name"))
    if group_by == "institution":
        from chanrong.finance.models import FinancialInstitution

        found = FinancialInstitution.objects.filter(pk__in=[int(k) for k in keys])
        return {str(pk): name for pk, name in found.values_list("pk", "name")}
    # Choice labels are lazy: str() them, the rows go to the API schema and the chart's JSON.
    if group_by == "size":
        from chanrong.registry.models import EnterpriseSize

        return {value: str(label) for value, label in EnterpriseSize.choices}
    return {value: str(label) for value, label in DemandKind.choices}


def demand_stats(actor, *, start: dt.date, end: dt.date, group_by: str = "region") -> DemandStats:
    return demand_stats_by(actor, start=start, end=end, group_bys=(group_by,))[0]


def demand_stats_by(
    actor, *, start: dt.date, end: dt.date, group_bys: tuple[str, ...]
) -> list[DemandStats]:
    """`demand_stats` for each of `group_bys`, over ONE read of the period's
    demands and dispatches: the 督办看板 shows the split by region and by
    institution, and the two reads of every dispatch of a county (~150,000
    rows at demo scale 10) were most of its time."""
    checked = [clean_period(start, end, group_by) for group_by in group_bys]
    start, end = checked[0][0], checked[0][1]
    low, high = _bounds(start, end)
    demands = (
        Demand.objects.visible_to(actor)
        .exclude(state=DemandState.DRAFT)
        .filter(published_at__gte=low, published_at__lt=high)
    )
    demand_rows = list(
        demands.values_list(
            "pk",
            "amount",
            "state",
            "published_at",
            "disbursed_amount",
            "disbursed_on",
            "outcome_institution_id",
            "kind",
            "enterprise__region_id",
            "enterprise__industry_id",
            "enterprise__size",
        )
    )
    dispatch_rows = list(
        Dispatch.objects.visible_to(actor)
        .filter(demand__in=demands)
        .values_list("demand_id", "institution_id", "dispatched_at", "claimed_at", "claim_due_at")
    )
    return [
        _grouped(start, end, group_by, demand_rows, dispatch_rows) for _s, _e, group_by in checked
    ]


def _grouped(
    start: dt.date, end: dt.date, group_by: str, demand_rows: list, dispatch_rows: list
) -> DemandStats:
    def key_of(row) -> str:
        region, industry, size, kind = row[8], row[9], row[10], row[7]
        if group_by == "region":
            return region or ""
        if group_by == "industry":
            return (industry or "")[:1]
        if group_by == "size":
            return size or ""
        return kind

    total = StatRow("", _("合计"))
    groups: dict[str, StatRow] = {}

    def group(key: str) -> StatRow:
        if key not in groups:
            groups[key] = StatRow(key, "")
        return groups[key]

    demand_keys: dict[int, str] = {}
    dispatched_to: dict[int, set[str]] = {}
    for _d, institution_id, *_rest in dispatch_rows:
        dispatched_to.setdefault(_d, set()).add(str(institution_id))
    for row in demand_rows:
        pk, amount, state, published_at, disbursed_amount, disbursed_on, outcome = row[:7]
        disbursed = state == DemandState.DISBURSED and disbursed_amount is not None
        days = (
            (disbursed_on - timezone.localtime(published_at).date()).days
            if disbursed and disbursed_on
            else None
        )
        if group_by == "institution":
            demand_targets = [group(k) for k in sorted(dispatched_to.get(pk, ()))]
            lender = group(str(outcome)) if disbursed and outcome else None
        else:
            demand_keys[pk] = key_of(row)
            demand_targets = [group(demand_keys[pk])]
            lender = demand_targets[0] if disbursed else None
        for target in [total, *demand_targets]:
            target.demands += 1
            target.demand_amount += amount
        for target in [total, lender] if disbursed else []:
            if target is None:
                continue
            target.financings += 1
            target.financing_amount += disbursed_amount
            if days is not None:
                target.disburse_days.append(days)
    for demand_id, institution_id, dispatched_at, claimed_at, claim_due_at in dispatch_rows:
        key = str(institution_id) if group_by == "institution" else demand_keys.get(demand_id)
        targets = [total] + ([group(key)] if key is not None else [])
        for target in targets:
            target.dispatches += 1
            if claimed_at is not None:
                target.claims += 1
                target.claim_hours.append((claimed_at - dispatched_at).total_seconds() / 3600)
                if claimed_at <= claim_due_at:
                    target.claimed_in_time += 1
    labels = _labels(group_by, groups)
    for key, row in groups.items():
        row.label = labels.get(key) or key or _("未填写")
    rows = sorted(groups.values(), key=lambda r: (-r.demands, -r.dispatches, r.key))
    return DemandStats(start=start, end=end, group_by=group_by, total=total, rows=rows)


def chart_option(result: DemandStats, limit: int = 15) -> dict[str, Any]:
    """An ECharts option: demands, claims and financings per group (bars) and
    the amounts lent in 万元 (line, right axis)."""
    rows = result.rows[:limit]
    wan = Decimal(10000)
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "grid": {"left": 48, "right": 64, "bottom": 72, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": [row.label for row in rows],
            "axisLabel": {"interval": 0, "rotate": 30},
        },
        "yAxis": [
            {"type": "value", "name": _("笔数")},
            {"type": "value", "name": _("万元")},
        ],
        "series": [
            {"name": _("需求"), "type": "bar", "data": [row.demands for row in rows]},
            {"name": _("接单"), "type": "bar", "data": [row.claims for row in rows]},
            {"name": _("放款"), "type": "bar", "data": [row.financings for row in rows]},
            {
                "name": _("放款金额（万元）"),
                "type": "line",
                "yAxisIndex": 1,
                "data": [float(round(row.financing_amount / wan, 2)) for row in rows],
            },
        ],
    }
