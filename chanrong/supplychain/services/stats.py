"""Statistics of 应收账款融资 (supply-chain financing): amounts and counts by
industry chain, core enterprise and bank, month by month, read from the
financing table itself.

What is counted, for a period [start, end] (both ends included): every
financing a bank made in the period (by `financed_on`), whatever happened to
it later — the amount lent (`amount`), the receivable backing it
(`backing`), and what is still outstanding today (active or overdue).

- By **chain**: a financing counts under every chain its supplier (the
  receivable's creditor) is on, as a member or as the 链主 — so the chain
  rows may sum to more than the total (a supplier on two chains is counted
  in both); suppliers on no chain are under "（未入链）". Only chains the
  viewer may see are named.
- By **core enterprise**: the receivable's debtor — the core enterprise (or
  the 政采 purchasing body) that confirmed it.
- By **bank**: the financing institution.

Who sees what is `Financing.objects.visible_to`: an agency those whose
supplier is in its region's subtree (and the 政采 contracts it purchased),
a platform admin everything; nobody else sees statistics.

`period_totals` answers the indicator system (supplychain.sources) for a
region subtree without a viewer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core.errors import FieldError, ValidationFailed
from chanrong.core.models import Region
from chanrong.core.money import WAN
from chanrong.core.scope import ScopeKind, scope_of

from ..models import Chain, ChainMember, Financing, FinancingState

ZERO = Decimal(0)
FEN = Decimal("0.01")
OUTSTANDING = (FinancingState.ACTIVE, FinancingState.OVERDUE)
#: Longest period a page may ask for (keeps the month axis readable).
MAX_DAYS = 366 * 10


@dataclass
class Row:
    key: str
    label: str
    count: int = 0
    amount: Decimal = ZERO
    backing: Decimal = ZERO
    outstanding: Decimal = ZERO

    def add(self, count: int, amount, backing, outstanding) -> None:
        self.count += int(count or 0)
        self.amount += Decimal(amount or 0)
        self.backing += Decimal(backing or 0)
        self.outstanding += Decimal(outstanding or 0)


@dataclass
class Stats:
    scope_name: str
    start: date
    end: date
    total: Row
    by_chain: list[Row] = field(default_factory=list)
    by_core: list[Row] = field(default_factory=list)
    by_bank: list[Row] = field(default_factory=list)
    months: list[Row] = field(default_factory=list)


def can_view(user) -> bool:
    return scope_of(user).kind in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM)


def default_period(today: date | None = None) -> tuple[date, date]:
    day = today or timezone.localdate()
    return date(day.year, 1, 1), day


def parse_period(query, *, today: date | None = None) -> tuple[date, date]:
    """(start, end) from ?start=YYYY-MM-DD&end=YYYY-MM-DD; ValidationFailed by field."""
    default_start, default_end = default_period(today)
    errors: list[FieldError] = []
    values = {}
    for key, default in (("start", default_start), ("end", default_end)):
        text = str(query.get(key) or "").strip()
        if not text:
            values[key] = default
            continue
        try:
            values[key] = date.fromisoformat(text)
        except ValueError:
            errors.append(FieldError(key, _("日期格式应为 YYYY-MM-DD")))
            values[key] = default
    if not errors and values["start"] > values["end"]:
        errors.append(FieldError("start", _("开始日期不能晚于结束日期")))
    elif not errors and (values["end"] - values["start"]).days > MAX_DAYS:
        errors.append(FieldError("start", _("统计区间最长 10 年")))
    if errors:
        raise ValidationFailed(errors)
    return values["start"], values["end"]


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(FEN, rounding=ROUND_HALF_UP)


def _sums():
    return {
        "n": Count("pk"),
        "s": Sum("amount"),
        "b": Sum("backing"),
        "o": Sum("amount", filter=Q(state__in=OUTSTANDING)),
    }


def _window(qs: QuerySet, start: date | None, end: date) -> QuerySet:
    qs = qs.filter(financed_on__lte=end)
    return qs if start is None else qs.filter(financed_on__gte=start)


def _scope_name(user) -> str:
    scope = scope_of(user)
    if scope.kind == ScopeKind.GOVERNMENT and scope.region_prefix:
        region = Region.objects.filter(prefix=scope.region_prefix).order_by("code").first()
        if region is not None:
            return region.name
    return _("全国")


def _sorted(rows) -> list[Row]:
    out = list(rows)
    for r in out:
        r.amount, r.backing, r.outstanding = (
            _money(r.amount),
            _money(r.backing),
            _money(r.outstanding),
        )
    return sorted(out, key=lambda r: (-r.amount, -r.count, r.label, r.key))


def summarise(user, start: date | None = None, end: date | None = None) -> Stats:
    """Totals and the three breakdowns of the financings `user` may see."""
    if start is None or end is None:
        start, end = default_period()
    qs = _window(Financing.objects.visible_to(user), start, end)
    total = Row("total", _("合计"))
    agg = qs.aggregate(**_sums())
    total.add(agg["n"], agg["s"], agg["b"], agg["o"])
    total = _sorted([total])[0]

    banks = {}
    for bank_id, name, short, n, s, b, o in (
        qs.values_list("bank_id", "bank__name", "bank__short_name").annotate(**_sums()).order_by()
    ):
        banks[bank_id] = Row(f"bank:{bank_id}", short or name)
        banks[bank_id].add(n, s, b, o)

    cores: dict[str, Row] = {}
    for uscc, name, agency_id, agency, n, s, b, o in (
        qs.values_list(
            "receivable__debtor_uscc",
            "receivable__debtor_name",
            "receivable__purchaser_agency_id",
            "receivable__purchaser_agency__name",
        )
        .annotate(**_sums())
        .order_by()
    ):
        key = f"agency:{agency_id}" if agency_id else f"uscc:{uscc}"
        row = cores.setdefault(key, Row(key, agency or name))
        row.add(n, s, b, o)

    by_creditor = defaultdict(lambda: Row("", ""))
    for creditor_id, n, s, b, o in (
        qs.values_list("receivable__creditor_id").annotate(**_sums()).order_by()
    ):
        by_creditor[creditor_id].add(n, s, b, o)
    chains_of: dict[int, set[int]] = defaultdict(set)
    creditors = sorted(by_creditor)
    for i in range(0, len(creditors), 5000):
        part = creditors[i : i + 5000]
        for eid, chain_id in ChainMember.objects.filter(enterprise_id__in=part).values_list(
            "enterprise_id", "chain_id"
        ):
            chains_of[eid].add(chain_id)
        for chain_id, lead_id in Chain.objects.filter(lead_id__in=part).values_list(
            "pk", "lead_id"
        ):
            chains_of[lead_id].add(chain_id)
    visible = dict(
        Chain.objects.visible_to(user)
        .filter(pk__in={c for cs in chains_of.values() for c in cs})
        .values_list("pk", "name")
    )
    chains: dict[str, Row] = {}
    for creditor_id, part_row in by_creditor.items():
        named = [c for c in chains_of.get(creditor_id, ()) if c in visible]
        keys = [(f"chain:{c}", visible[c]) for c in named] or [("chain:none", _("（未入链）"))]
        for key, label in keys:
            chains.setdefault(key, Row(key, label)).add(
                part_row.count, part_row.amount, part_row.backing, part_row.outstanding
            )

    months = []
    for month, n, s, b, o in (
        qs.annotate(m=TruncMonth("financed_on")).values_list("m").annotate(**_sums()).order_by("m")
    ):
        label = f"{month.year}-{month.month:02d}"
        row = Row(label, label)
        row.add(n, s, b, o)
        months.append(row)
    _sorted(months)  # rounds; months stay in date order

    return Stats(
        scope_name=_scope_name(user),
        start=start,
        end=end,
        total=total,
        by_chain=_sorted(chains.values()),
        by_core=_sorted(cores.values()),
        by_bank=_sorted(banks.values()),
        months=months,
    )


def _wan(amount: Decimal) -> float:
    return float((Decimal(amount) / WAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def month_chart(stats: Stats) -> dict[str, Any] | None:
    """Amount lent per month (bars, 万元) and the number of financings (line)."""
    if not stats.months:
        return None
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 60, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": [m.label for m in stats.months]},
        "yAxis": [
            {"type": "value", "name": _("融资金额（万元）")},
            {"type": "value", "name": _("笔数")},
        ],
        "series": [
            {
                "name": _("融资金额"),
                "type": "bar",
                "data": [_wan(m.amount) for m in stats.months],
            },
            {
                "name": _("融资笔数"),
                "type": "line",
                "yAxisIndex": 1,
                "data": [m.count for m in stats.months],
            },
        ],
    }


def group_chart(rows: list[Row], name: str) -> dict[str, Any] | None:
    """The largest rows as horizontal bars (万元)."""
    rows = [r for r in rows if r.amount][:15]
    if not rows:
        return None
    rows = rows[::-1]
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 160, "right": 40, "top": 20, "bottom": 30},
        "xAxis": {"type": "value", "name": _("万元")},
        "yAxis": {"type": "category", "data": [r.label for r in rows]},
        "series": [{"name": name, "type": "bar", "data": [_wan(r.amount) for r in rows]}],
    }


# --- for the indicator system -----------------------------------------------------------


def period_totals(prefix: str, start: date | None, end: date) -> tuple[int, Decimal]:
    """(count, amount in 元) of the financings made in [start, end] to suppliers
    located in the region subtree `prefix` ("" = everywhere)."""
    qs = _window(Financing.objects.all(), start, end)
    if prefix:
        qs = qs.filter(receivable__creditor__region__code__startswith=prefix)
    agg = qs.aggregate(n=Count("pk"), s=Sum("amount"))
    return int(agg["n"] or 0), _money(agg["s"])
