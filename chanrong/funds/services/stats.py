"""Statistics of equity financing (股权融资统计): fund investments by year,
industry (GB/T 4754 门类 of the invested enterprise), round and fund kind,
and the fund figures the indicator system reads (sources.py).

Scope: the investments a user may see (`FundInvestment.visible_to`): a
government user its region's subtree (enterprise or fund there), a fund
manager its own funds' investments, platform admins everything. Counted by
the investment date (`invested_on`) within [start, end], both included.
Amounts are summed in 元 as stored (two decimals, no rounding); charts show
万元 rounded half-up to two decimals, once, at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core.errors import FieldError, ValidationFailed
from chanrong.core.models import Industry

from ..models import GOVERNMENT_KINDS, Fund, FundInvestment, FundKind, InvestmentRound

#: The default period: this year and the four before it.
DEFAULT_YEARS = 5


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    count: int
    amount: Decimal


@dataclass
class EquityStats:
    start: date
    end: date
    count: int = 0
    amount: Decimal = Decimal("0.00")
    by_year: list[Row] = field(default_factory=list)
    by_industry: list[Row] = field(default_factory=list)
    by_round: list[Row] = field(default_factory=list)
    by_fund_kind: list[Row] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def rows(items: list[Row]) -> list[dict[str, Any]]:
            return [
                {"key": r.key, "label": r.label, "count": r.count, "amount": str(r.amount)}
                for r in items
            ]

        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "count": self.count,
            "amount": str(self.amount),
            "by_year": rows(self.by_year),
            "by_industry": rows(self.by_industry),
            "by_round": rows(self.by_round),
            "by_fund_kind": rows(self.by_fund_kind),
        }


def default_period(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return date(today.year - DEFAULT_YEARS + 1, 1, 1), today


def parse_period(params, today: date | None = None) -> tuple[date, date]:
    """`start` / `end` (YYYY-MM-DD) from a query; missing ones take the default."""
    start, end = default_period(today)
    errors: list[FieldError] = []
    values = {"start": start, "end": end}
    for name in ("start", "end"):
        raw = (params.get(name) or "").strip() if hasattr(params, "get") else ""
        if raw:
            try:
                values[name] = date.fromisoformat(raw)
            except ValueError:
                errors.append(FieldError(name, _("日期格式应为 YYYY-MM-DD")))
    if not errors and values["start"] > values["end"]:
        errors.append(FieldError("end", _("结束日期不能早于开始日期")))
    if errors:
        raise ValidationFailed(errors)
    return values["start"], values["end"]


def _money(value) -> Decimal:
    return (value or Decimal("0")).quantize(Decimal("0.01"))


def _rows(qs, key: str, labels: dict[str, str]) -> list[Row]:
    out = [
        Row(str(r[key]), labels.get(str(r[key]), str(r[key])), r["n"], _money(r["s"]))
        for r in qs.values(key).annotate(n=Count("pk"), s=Sum("amount")).order_by(key)
    ]
    return sorted(out, key=lambda r: (-r.amount, r.key))


def summarise(user, start: date, end: date) -> EquityStats:
    qs = FundInvestment.objects.visible_to(user).filter(invested_on__range=(start, end))
    total = qs.aggregate(n=Count("pk"), s=Sum("amount"))
    stats = EquityStats(start=start, end=end, count=total["n"] or 0, amount=_money(total["s"]))
    years = {
        r["invested_on__year"]: r
        for r in qs.values("invested_on__year").annotate(n=Count("pk"), s=Sum("amount"))
    }
    stats.by_year = [
        Row(
            str(y),
            str(y),
            years[y]["n"] if y in years else 0,
            _money(years[y]["s"]) if y in years else Decimal("0.00"),
        )
        for y in range(start.year, end.year + 1)
    ]
    # The 门类 (section letter) of the enterprise's industry code.
    sections = dict(Industry.objects.filter(level="section").values_list("code", "name"))
    by_code: dict[str, list] = {}
    for r in qs.values("enterprise__industry_id").annotate(n=Count("pk"), s=Sum("amount")):
        code = (r["enterprise__industry_id"] or "")[:1] or "?"
        slot = by_code.setdefault(code, [0, Decimal("0")])
        slot[0] += r["n"]
        slot[1] += r["s"] or 0
    stats.by_industry = sorted(
        (
            Row(code, sections.get(code, _("未知行业") if code == "?" else code), n, _money(s))
            for code, (n, s) in by_code.items()
        ),
        key=lambda r: (-r.amount, r.key),
    )
    stats.by_round = _rows(qs, "round", {k: str(v) for k, v in InvestmentRound.choices})
    stats.by_fund_kind = _rows(qs, "fund__kind", {k: str(v) for k, v in FundKind.choices})
    return stats


def _wan(amount: Decimal) -> float:
    return float((amount / Decimal(10000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def year_chart(stats: EquityStats) -> dict[str, Any] | None:
    if not stats.count:
        return None
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 60, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": [r.label for r in stats.by_year]},
        "yAxis": [
            {"type": "value", "name": _("投资金额（万元）")},
            {"type": "value", "name": _("笔数")},
        ],
        "series": [
            {"name": _("投资金额"), "type": "bar", "data": [_wan(r.amount) for r in stats.by_year]},
            {
                "name": _("投资笔数"),
                "type": "line",
                "yAxisIndex": 1,
                "data": [r.count for r in stats.by_year],
            },
        ],
    }


def group_chart(rows: list[Row], name: str) -> dict[str, Any] | None:
    rows = [r for r in rows if r.amount][:15][::-1]
    if not rows:
        return None
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 160, "right": 40, "top": 20, "bottom": 30},
        "xAxis": {"type": "value", "name": _("万元")},
        "yAxis": {"type": "category", "data": [r.label for r in rows]},
        "series": [{"name": name, "type": "bar", "data": [_wan(r.amount) for r in rows]}],
    }


# --- for the indicator system (sources.py) ------------------------------------------------


def fund_totals(prefix: str, end: date, *, government_only: bool = False) -> tuple[int, Decimal]:
    """(count, paid-in size in 元) of the funds registered in the region
    subtree `prefix` that are active on `end` (set up by then, not wound up)."""
    qs = Fund.objects.active_on(end)
    if prefix:
        qs = qs.filter(region__code__startswith=prefix)
    if government_only:
        qs = qs.filter(kind__in=GOVERNMENT_KINDS)
    agg = qs.aggregate(n=Count("pk"), s=Sum("paid_in_size"))
    return int(agg["n"] or 0), _money(agg["s"])


def investment_amount(prefix: str, start: date | None, end: date) -> Decimal:
    """元 invested by funds in enterprises of the region subtree `prefix`,
    dated in [start, end] (start None: everything up to end)."""
    where = Q(invested_on__lte=end)
    if start is not None:
        where &= Q(invested_on__gte=start)
    if prefix:
        where &= Q(enterprise__region__code__startswith=prefix)
    return _money(FundInvestment.objects.filter(where).aggregate(s=Sum("amount"))["s"])
