"""Green financing by catalogue category: the financing demands of what is
in the published library, by first-level category and region, with the
chart and the .xlsx export.

Rules (shown on the page):
- the subjects are the applications in the published library today
  (approved, their version published and in force) that the user sees;
- a demand counts once: under the category of its project when that project
  is in the library, else under its enterprise's own entry; demands of
  neither are not green financing here;
- demands in 草稿 (never published) are left out; every other state counts
  (a demand's amount is what was asked);
- 采纳方案金额 is the amount of the accepted offer, 授信 and 放款 the
  amounts recorded as outcomes;
- a subject in several lists (the county's and the city's) counts once,
  under its earliest approved application;
- region is the enterprise's registered region; sums are exact in 元 (every
  amount is stored to the fen), shown in 万元 rounded to two places once, at
  display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from chanrong.core.exporting import ExportColumn, write_xlsx
from chanrong.core.models import Region
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.demands.models import Demand, DemandState

from ..models import LibraryApplication

MEASURES = ("demands", "amount", "accepted", "granted", "disbursed")
ZERO = Decimal("0.00")


def may_view_stats(user) -> bool:
    return scope_of(user).kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT)


@dataclass
class Row:
    category_code: str
    category_name: str
    region_code: str
    region_name: str
    subjects: int = 0
    demands: int = 0
    amount: Decimal = ZERO
    accepted: Decimal = ZERO
    granted: Decimal = ZERO
    disbursed: Decimal = ZERO


@dataclass
class Summary:
    rows: list[Row] = field(default_factory=list)
    by_category: list[Row] = field(default_factory=list)
    total: Row = field(default_factory=lambda: Row("", "", "", ""))


def library_subjects(actor) -> dict[tuple[int, int | None], tuple[str, str, str]]:
    """(enterprise id, project id or None) → (category code, name, region code),
    earliest approved application first."""
    rows = (
        LibraryApplication.objects.published_to(actor)
        .filter(pk__in=LibraryApplication.objects.visible_to(actor).values("pk"))
        .order_by("reviewed_at", "pk")
        .values_list(
            "enterprise_id",
            "project_id",
            "category__code",
            "category__name",
            "enterprise__region_id",
        )
    )
    out: dict[tuple[int, int | None], tuple[str, str, str]] = {}
    for enterprise_id, project_id, code, name, region in rows:
        out.setdefault((enterprise_id, project_id), (code, name, region))
    return out


def summarise(actor) -> Summary:
    subjects = library_subjects(actor)
    enterprises = {e for e, _p in subjects}
    cells: dict[tuple[str, str], Row] = {}
    regions = {region for _code, _name, region in subjects.values()}
    for (_e, _p), (code, name, region) in subjects.items():
        row = cells.setdefault((code, region), Row(code, name, region, ""))
        row.subjects += 1
    demands = (
        Demand.objects.visible_to(actor)
        .filter(enterprise_id__in=enterprises)
        .exclude(state=DemandState.DRAFT)
        .values("enterprise_id", "project_id")
        .annotate(
            n=Count("pk"),
            amount=Sum("amount"),
            accepted=Sum("accepted_offer__amount"),
            granted=Sum("granted_amount"),
            disbursed=Sum("disbursed_amount"),
        )
        .order_by()
    )
    for d in demands:
        key = (d["enterprise_id"], d["project_id"])
        found = subjects.get(key) if d["project_id"] else None
        if found is None:
            found = subjects.get((d["enterprise_id"], None))
        if found is None:
            continue
        code, name, region = found
        row = cells.setdefault((code, region), Row(code, name, region, ""))
        row.demands += d["n"]
        for measure in ("amount", "accepted", "granted", "disbursed"):
            setattr(row, measure, getattr(row, measure) + (d[measure] or ZERO))
    names = dict(Region.objects.filter(pk__in=list(regions)).values_list("pk", "name"))
    summary = Summary()
    summary.rows = sorted(cells.values(), key=lambda r: (int(r.category_code), r.region_code))
    by_category: dict[str, Row] = {}
    for row in summary.rows:
        row.region_name = names.get(row.region_code, row.region_code)
        top = by_category.setdefault(
            row.category_code, Row(row.category_code, row.category_name, "", "")
        )
        for target in (top, summary.total):
            target.subjects += row.subjects
            target.demands += row.demands
            for measure in ("amount", "accepted", "granted", "disbursed"):
                setattr(target, measure, getattr(target, measure) + getattr(row, measure))
    summary.by_category = [by_category[k] for k in sorted(by_category, key=int)]
    return summary


def _wan(amount: Decimal) -> float:
    return float((amount / 10000).quantize(Decimal("0.01")))


def chart(summary: Summary) -> dict[str, Any] | None:
    """ECharts option: demand amount, granted and disbursed (万元) by category."""
    if not summary.by_category:
        return None
    labels = [f"{r.category_code} {r.category_name}" for r in summary.by_category]
    series = [
        (_("需求金额（万元）"), "amount"),
        (_("授信金额（万元）"), "granted"),
        (_("放款金额（万元）"), "disbursed"),
    ]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "bottom": 8, "top": 36, "containLabel": True},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "data": labels, "inverse": True},
        "series": [
            {
                "name": str(name),
                "type": "bar",
                "data": [_wan(getattr(r, key)) for r in summary.by_category],
            }
            for name, key in series
        ],
    }


def columns() -> tuple[ExportColumn, ...]:
    return (
        ExportColumn(_("一级分类代码"), lambda r: r.category_code, 10),
        ExportColumn(_("一级分类"), lambda r: r.category_name, 18),
        ExportColumn(_("行政区划代码"), lambda r: r.region_code, 12),
        ExportColumn(_("地区"), lambda r: r.region_name, 16),
        ExportColumn(_("入库企业/项目数"), lambda r: r.subjects, 12, "integer"),
        ExportColumn(_("融资需求笔数"), lambda r: r.demands, 12, "integer"),
        ExportColumn(_("需求金额（元）"), lambda r: r.amount, 16, "amount"),
        ExportColumn(_("采纳方案金额（元）"), lambda r: r.accepted, 16, "amount"),
        ExportColumn(_("授信金额（元）"), lambda r: r.granted, 16, "amount"),
        ExportColumn(_("放款金额（元）"), lambda r: r.disbursed, 16, "amount"),
    )


def export_stats(user, params) -> tuple[Any, int]:
    """The page's table as .xlsx (registered in green.imports; audited by
    core.export_policy like every export). Nothing for other roles."""
    rows = summarise(user).rows if may_view_stats(user) else []
    return write_xlsx(columns(), rows, sheet_name="绿色融资统计")
