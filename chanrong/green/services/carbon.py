"""Carbon reports: who may report for whom, validation by field, accounting
through the engine (`carbon_engine`, arrays only) with the factors of the
report's year and province (`carbon_factors.FactorBook`), writing the report
and its lines in one transaction, and the line-by-line explanation.

Rounding: the engine computes in double precision; each line's t CO2 and
each total is rounded half away from zero to 0.0001 t (0.1 kg) once, so a
total may differ from the sum of its rounded lines in the last digit.
Intensity: total t CO2 ÷ revenue in 万元 (rounded to 0.000001), and total ÷
output when an output is reported.

Revenue comes from the registry: the period's operating records (a month's
record, or a year's twelve months or four quarters), else — for a yearly
report — the enterprise's 营业收入 in its profile; the report says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.registry.models import Enterprise, OperatingRecord, PeriodType

from ..models import CarbonLine, CarbonReport, EmissionFactor, FactorCategory, ReportSource
from . import carbon_engine as engine
from .carbon_factors import FactorBook
from .carbon_items import ITEMS

FIRST_YEAR = 2005
MAX_LINES = 40
#: Ceiling of a line's quantity in its factor's unit (10¹⁰ MWh, t, GJ …: more
#: than the country uses in a year), so that no figure outgrows its column.
MAX_BASE = Decimal("1e10")
#: Intensities at or above this are not stored (a revenue of a few 元).
MAX_INTENSITY = 1e11
WAN = Decimal(10000)


# --- who ------------------------------------------------------------------------


def can_report(actor, enterprise: Enterprise) -> bool:
    """The enterprise for itself, government of its region, platform admins;
    never an institution."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    if scope.kind == ScopeKind.ENTERPRISE:
        return scope.enterprise_id == enterprise.pk
    if scope.kind == ScopeKind.GOVERNMENT:
        return enterprise.region_id.startswith(scope.region_prefix)
    return False


def visible_report(actor, pk: int) -> CarbonReport:
    report = (
        CarbonReport.objects.visible_to(actor)
        .select_related("enterprise__region", "enterprise__industry")
        .filter(pk=pk)
        .first()
    )
    if report is None:
        raise NotFound(_("未找到该碳排放报告"))
    return report


def visible_enterprise(actor, pk: int) -> Enterprise:
    enterprise = Enterprise.objects.visible_to(actor).filter(pk=pk).first()
    if enterprise is None:
        raise NotFound(_("企业不存在"))
    return enterprise


# --- validation -------------------------------------------------------------------


@dataclass
class CleanLine:
    item: str
    quantity: Decimal
    unit: str
    quantity_base: Decimal


@dataclass
class CleanReport:
    year: int
    month: int | None
    lines: list[CleanLine]
    output_quantity: Decimal | None = None
    output_unit: str = ""
    errors: list[FieldError] = field(default_factory=list)


def _decimal(raw: Any) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError from None
    if not value.is_finite():
        raise ValueError
    return value


def clean_report(
    data: dict[str, Any], *, today: date | None = None, across_lines: bool = True
) -> CleanReport:
    """Every problem by field (`year`, `lines[2].unit` …), all at once.
    Returns the cleaned report with `errors` empty, or with the errors.
    Without `across_lines`, the rules between lines are left out (an import
    checks each row alone first, the report's rows together later)."""
    today = today or timezone.localdate()
    errors: list[FieldError] = []
    year = month = None
    try:
        year = int(data.get("year"))
        if not FIRST_YEAR <= year <= today.year:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(
            FieldError(
                "year", _("年度须在 %(a)s 至 %(b)s 之间") % {"a": FIRST_YEAR, "b": today.year}
            )
        )
        year = None
    raw_month = data.get("month")
    if raw_month not in (None, "", 0, "0"):
        try:
            month = int(raw_month)
            if not 1 <= month <= 12:
                raise ValueError
            if year is not None and (year, month) > (today.year, today.month):
                errors.append(FieldError("month", _("不能填报未来月份")))
        except (TypeError, ValueError):
            errors.append(FieldError("month", _("月份须为 1–12，全年报告留空")))
            month = None
    output = None
    try:
        output = _decimal(data.get("output_quantity"))
        if output is not None and not 0 < output < MAX_BASE:
            raise ValueError
    except ValueError:
        errors.append(FieldError("output_quantity", _("产量须为正数且不超过 10¹⁰")))
    output_unit = str(data.get("output_unit") or "").strip()
    if output is not None and not output_unit:
        errors.append(FieldError("output_unit", _("请填写产量单位，如 t 水泥")))
    if len(output_unit) > 20:
        errors.append(FieldError("output_unit", _("产量单位不超过 20 个字")))

    lines: list[CleanLine] = []
    raw_lines = [line for line in (data.get("lines") or []) if not _blank_line(line)]
    if not raw_lines:
        errors.append(FieldError("lines", _("至少填写一项能源或物料消耗")))
    if len(raw_lines) > MAX_LINES:
        errors.append(FieldError("lines", _("一份报告最多 %(n)s 行") % {"n": MAX_LINES}))
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_lines[:MAX_LINES]):
        line = _clean_line(i, raw, errors)
        if line is None:
            continue
        if line.item in seen:
            errors.append(FieldError(f"lines[{i}].item", _("同一品种只能填一行，请合并")))
            continue
        seen[line.item] = i
        lines.append(line)
    by_item = {line.item: line for line in lines}
    green = by_item.get("green_electricity")
    if green is not None and across_lines:
        grid = by_item.get("grid_electricity")
        if grid is None or green.quantity_base > grid.quantity_base:
            errors.append(
                FieldError(
                    f"lines[{seen['green_electricity']}].quantity",
                    _("绿色电力是外购电力的一部分，不能大于外购电力"),
                )
            )
    return CleanReport(year or 0, month, lines, output, output_unit, errors)


def _blank_line(raw: dict[str, Any]) -> bool:
    return all(raw.get(k) in (None, "") for k in ("item", "quantity"))


def _clean_line(i: int, raw: dict[str, Any], errors: list[FieldError]) -> CleanLine | None:
    code = str(raw.get("item") or "").strip()
    item = ITEMS.get(code)
    ok = True
    if item is None:
        errors.append(FieldError(f"lines[{i}].item", _("未知的能源或物料品种")))
        ok = False
    try:
        quantity = _decimal(raw.get("quantity"))
        if quantity is None:
            errors.append(FieldError(f"lines[{i}].quantity", _("请填写数量")))
            ok = False
        elif quantity < 0:
            errors.append(FieldError(f"lines[{i}].quantity", _("消耗量不能为负数")))
            ok = False
    except ValueError:
        errors.append(FieldError(f"lines[{i}].quantity", _("请填写数字")))
        ok = False
        quantity = None
    unit = str(raw.get("unit") or "").strip()
    if item is not None and unit not in item.units:
        errors.append(
            FieldError(
                f"lines[{i}].unit",
                _("%(item)s的计量单位应为 %(units)s 之一")
                % {"item": item.label, "units": "、".join(item.units)},
            )
        )
        ok = False
    if not ok:
        return None
    base = quantity * item.units[unit]
    if base > MAX_BASE:
        errors.append(FieldError(f"lines[{i}].quantity", _("数量过大，请检查计量单位")))
        return None
    return CleanLine(code, quantity, unit, base)


# --- revenue from the registry ------------------------------------------------------


def revenue_for(enterprise: Enterprise, year: int, month: int | None) -> tuple[Decimal | None, str]:
    """(revenue in 元, where it came from) for the period, or (None, reason)."""
    records = OperatingRecord.objects.filter(
        enterprise=enterprise, period_start__year=year, revenue__isnull=False
    )
    if month is not None:
        row = records.filter(period_type=PeriodType.MONTH, period_start__month=month).first()
        if row is not None:
            return row.revenue, _("名录库经营数据（%(year)s年%(month)s月）") % {
                "year": year,
                "month": month,
            }
        return None, _("名录库无该月营业收入")
    for period_type, needed in ((PeriodType.MONTH, 12), (PeriodType.QUARTER, 4)):
        agg = records.filter(period_type=period_type).aggregate(n=Count("pk"), s=Sum("revenue"))
        if agg["n"] == needed:
            return agg["s"], _("名录库经营数据（%(year)s年%(what)s合计）") % {
                "year": year,
                "what": _("12个月") if needed == 12 else _("4个季度"),
            }
    if enterprise.revenue is not None:
        return enterprise.revenue, _("企业档案营业收入")
    return None, _("名录库无该年度营业收入")


# --- accounting --------------------------------------------------------------------------


class Accounted:
    """One report's results. The figures are kept as exact scaled integers
    (t CO2 × 10⁴, intensities × 10⁶) shared by the whole batch and turned
    into Decimals only when read, so accounting 300,000 reports does not
    build millions of Decimals nobody stores."""

    __slots__ = ("_batch", "_r", "_start", "_clean")

    def __init__(self, batch: dict[str, Any], r: int, start: int, clean: CleanReport):
        self._batch, self._r, self._start, self._clean = batch, r, start, clean

    def _get(self, name: str, places: int) -> Decimal | None:
        value = self._batch[name][self._r]
        return None if value is None else Decimal(value).scaleb(-places)

    @property
    def scope1(self) -> Decimal:
        return self._get("scope1", 4)

    @property
    def scope2(self) -> Decimal:
        return self._get("scope2", 4)

    @property
    def total(self) -> Decimal:
        return self._get("total", 4)

    @property
    def intensity_revenue(self) -> Decimal | None:
        return self._get("by_revenue", 6)

    @property
    def intensity_output(self) -> Decimal | None:
        return self._get("by_output", 6)

    @property
    def lines(self) -> list[tuple[CleanLine, EmissionFactor, Decimal]]:
        b, k = self._batch, self._start
        return [
            (line, b["factors"][b["fac"][k + j]], Decimal(b["co2"][k + j]).scaleb(-4))
            for j, line in enumerate(self._clean.lines)
        ]


def factor_table(factors: Sequence[EmissionFactor]) -> engine.FactorTable:
    """The engine's arrays for these factors, in this order."""

    def col(name: str) -> np.ndarray:
        return np.array([float(getattr(f, name) or 0) for f in factors], dtype=float)

    scope = {FactorCategory.ELECTRICITY: 2, FactorCategory.HEAT: 2}
    return engine.FactorTable(
        kind=np.array([engine.FUEL if f.is_fuel else engine.DIRECT for f in factors], np.int8),
        ncv=col("ncv"),
        cc=col("carbon_content"),
        of=col("oxidation"),
        ef=col("factor"),
        scope=np.array([scope.get(f.category, 1) for f in factors], np.int8),
    )


def account(
    reports: Sequence[CleanReport],
    provinces: Sequence[str],
    revenues: Sequence[Decimal | None],
    book: FactorBook,
) -> list[Accounted | list[FieldError]]:
    """Account many cleaned reports at once through the engine; a report
    whose item has no factor for its year comes back as its field errors.

    The Python part is one pass to build the arrays (each (item, year,
    province) resolved once) and one to hand back Decimals; the arithmetic
    is the engine's."""
    factors: list[EmissionFactor] = []
    index: dict[int, int] = {}
    # (year, province) -> {item: (factor row, sign) or None when there is none}.
    resolved: dict[tuple[int, str], dict[str, tuple[int, float] | None]] = {}
    rep: list[int] = []
    fac: list[int] = []
    qty: list[float] = []
    sign: list[float] = []
    starts: list[int] = []
    problems: dict[int, list[FieldError]] = {}
    for r, (report, province) in enumerate(zip(reports, provinces, strict=True)):
        starts.append(len(rep))
        cache = resolved.get((report.year, province))
        if cache is None:
            cache = resolved[(report.year, province)] = {}
        for i, line in enumerate(report.lines):
            hit = cache.get(line.item, False)
            if hit is False:
                item = ITEMS[line.item]
                chosen = book.choose(item.factor_code, report.year, province)
                if chosen is None:
                    hit = None
                else:
                    if chosen.factor.pk not in index:
                        index[chosen.factor.pk] = len(factors)
                        factors.append(chosen.factor)
                    hit = (index[chosen.factor.pk], -1.0 if item.deducted else 1.0)
                cache[line.item] = hit
            if hit is None:
                problems.setdefault(r, []).append(
                    FieldError(f"lines[{i}].item", _("该品种没有可用的排放因子"))
                )
                continue
            rep.append(r)
            fac.append(hit[0])
            qty.append(float(line.quantity_base))
            sign.append(hit[1])
    revenue_wan = np.array([np.nan if v is None else float(v) / 10_000 for v in revenues])
    output = np.array(
        [np.nan if r.output_quantity is None else float(r.output_quantity) for r in reports]
    )
    result = engine.account(
        factor_table(factors) if factors else _empty_table(),
        report=np.array(rep, dtype=np.int64),
        factor=np.array(fac, dtype=np.int64),
        quantity=np.array(qty, dtype=float),
        sign=np.array(sign, dtype=float),
        n_reports=len(reports),
        revenue_wan=revenue_wan,
        output=output,
    )
    batch = {
        "factors": factors,
        "fac": fac,
        "co2": _scaled(result.line_co2, 4),
        "scope1": _scaled(result.scope1, 4),
        "scope2": _scaled(result.scope2, 4),
        "total": _scaled(result.total, 4),
        "by_revenue": _scaled(_storable(result.intensity_revenue), 6),
        "by_output": _scaled(_storable(result.intensity_output), 6),
    }
    return [
        problems[r] if r in problems else Accounted(batch, r, starts[r], report)
        for r, report in enumerate(reports)
    ]


def _storable(values: np.ndarray) -> np.ndarray:
    return np.where(np.abs(values) < MAX_INTENSITY, values, np.nan)


def _scaled(values: np.ndarray, places: int) -> list[int | None]:
    """Round half away from zero to `places` once, as exact integers scaled
    by 10**places (None for NaN); exact below 2**53, far beyond any emission
    here."""
    scaled = np.nan_to_num(values, nan=0.0) * 10.0**places
    units = (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)).astype(np.int64).tolist()
    if not np.isnan(values).any():
        return units
    return [
        None if gone else unit for unit, gone in zip(units, np.isnan(values).tolist(), strict=True)
    ]


def _empty_table() -> engine.FactorTable:
    empty = np.zeros(0)
    return engine.FactorTable(empty.astype(np.int8), empty, empty, empty, empty, empty)


# --- writing ----------------------------------------------------------------------------


def save_report(
    actor, enterprise: Enterprise, data: dict[str, Any], *, source: str = ReportSource.ENTERPRISE
) -> CarbonReport:
    """Validate, account and store one report (replacing the period's lines
    if it was reported before); recompute the year's grades of the
    enterprise's industry. Raises ValidationFailed by field, nothing written."""
    if not can_report(actor, enterprise):
        raise NotAllowed(_("无权为该企业填报碳排放数据"))
    cleaned = clean_report(data)
    if cleaned.errors:
        raise ValidationFailed(cleaned.errors)
    (report,) = save_cleaned(actor, [(enterprise, cleaned)], source=source)
    return report


def save_cleaned(
    actor, rows: Sequence[tuple[Enterprise, CleanReport]], *, source: str
) -> list[CarbonReport]:
    """Account and write cleaned reports in one transaction (all or none)."""
    book = FactorBook()
    revenues = [revenue_for(e, c.year, c.month) for e, c in rows]
    results = account(
        [c for _e, c in rows],
        [e.region_id[:2] + "0000" for e, _c in rows],
        [rev for rev, _basis in revenues],
        book,
    )
    errors = [r for r in results if isinstance(r, list)]
    if errors:
        raise ValidationFailed([e for group in errors for e in group])
    saved: list[CarbonReport] = []
    with transaction.atomic():
        for (enterprise, cleaned), (revenue, basis), accounted in zip(
            rows, revenues, results, strict=True
        ):
            saved.append(_write(actor, enterprise, cleaned, accounted, revenue, basis, source))
        from .grades import recompute

        for year in sorted({c.year for _e, c in rows}):
            divisions = {e.industry_id[:3] for e, c in rows if c.year == year}
            recompute(year, divisions=divisions)
    return saved


def _write(actor, enterprise, cleaned, accounted, revenue, basis, source) -> CarbonReport:
    report = CarbonReport.objects.filter(
        enterprise=enterprise, year=cleaned.year, month=cleaned.month
    ).first()
    before = None if report is None else {"total": str(report.total), "lines": report.lines.count()}
    values = {
        "revenue": revenue,
        "revenue_basis": basis,
        "output_quantity": cleaned.output_quantity,
        "output_unit": cleaned.output_unit,
        "scope1": accounted.scope1,
        "scope2": accounted.scope2,
        "total": accounted.total,
        "intensity_revenue": accounted.intensity_revenue,
        "intensity_output": accounted.intensity_output,
        "source": source,
        "entered_by": actor,
    }
    if report is None:
        report = CarbonReport.objects.create(
            enterprise=enterprise, year=cleaned.year, month=cleaned.month, **values
        )
    else:
        for name, value in values.items():
            setattr(report, name, value)
        report.save()
        report.lines.all().delete()
    CarbonLine.objects.bulk_create(
        CarbonLine(
            report=report,
            position=i,
            item=line.item,
            quantity=line.quantity,
            unit=line.unit,
            quantity_base=line.quantity_base,
            factor=factor,
            co2=co2,
        )
        for i, (line, factor, co2) in enumerate(accounted.lines)
    )
    audit.record(
        "green.carbon_report.create" if before is None else "green.carbon_report.update",
        actor=actor,
        obj=report,
        changes={
            "before": before,
            "after": {"total": str(report.total), "lines": len(accounted.lines)},
            "source": source,
        },
    )
    return report


# --- explanation -----------------------------------------------------------------------


def _num(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def explain(report: CarbonReport) -> dict[str, Any]:
    """The report line by line, as the page and the API show it: each line's
    formula with its numbers, its result and its factor's source."""
    rows = []
    for line in report.lines.select_related("factor", "factor__region").order_by("position"):
        item = ITEMS.get(line.item)
        factor = line.factor
        label = str(item.label) if item else line.item
        quantity = f"{_num(line.quantity)} {line.unit}"
        if line.unit != factor.unit:
            quantity += f"（= {_num(line.quantity_base)} {factor.unit}）"
        if factor.is_fuel:
            formula = (
                f"{quantity} × {_num(factor.ncv)} GJ/{factor.unit} × "
                f"{_num(factor.carbon_content)} tC/GJ × {_num(factor.oxidation * 100)}% × 44/12"
            )
        else:
            formula = f"{quantity} × {_num(factor.factor)} tCO2/{factor.unit}"
        if item is not None and item.deducted:
            formula = "−（" + formula + "）"
        rows.append(
            {
                "item": line.item,
                "label": label,
                "scope": item.scope if item else 1,
                "quantity": line.quantity,
                "unit": line.unit,
                "formula": formula,
                "co2": line.co2,
                "factor_year": factor.year,
                "factor_region": factor.region.name if factor.region_id else _("全国"),
                "source": factor.source,
                "note": _factor_note(factor, report),
            }
        )
    intensity = []
    if report.intensity_revenue is not None:
        intensity.append(
            _(
                "万元营业收入排放 = %(total)s tCO2 ÷ %(rev)s 万元 = %(x)s tCO2/万元（营业收入来源：%(basis)s）"
            )
            % {
                "total": _num(report.total),
                "rev": _num((report.revenue / WAN).quantize(Decimal("0.01"))),
                "x": _num(report.intensity_revenue),
                "basis": report.revenue_basis,
            }
        )
    else:
        intensity.append(
            _("未计算万元营业收入排放：%(why)s") % {"why": report.revenue_basis or _("无营业收入")}
        )
    if report.intensity_output is not None:
        intensity.append(
            _("单位产品排放 = %(total)s tCO2 ÷ %(q)s %(unit)s = %(x)s tCO2/%(unit)s")
            % {
                "total": _num(report.total),
                "q": _num(report.output_quantity),
                "unit": report.output_unit,
                "x": _num(report.intensity_output),
            }
        )
    return {
        "lines": rows,
        "scope1": report.scope1,
        "scope2": report.scope2,
        "total": report.total,
        "totals": [
            _("范围一（直接排放：化石燃料燃烧与工业生产过程）= %(v)s tCO2")
            % {"v": _num(report.scope1)},
            _("范围二（间接排放：外购电力与热力，扣除绿色电力）= %(v)s tCO2")
            % {"v": _num(report.scope2)},
            _("排放总量 = 范围一 + 范围二 = %(v)s tCO2") % {"v": _num(report.total)},
        ],
        "intensity": intensity,
    }


def _factor_note(factor: EmissionFactor, report: CarbonReport) -> str:
    if (
        factor.category in (FactorCategory.ELECTRICITY, FactorCategory.HEAT)
        and factor.year != report.year
    ):
        return _("%(year)s年因子未发布，采用%(used)s年因子") % {
            "year": report.year,
            "used": factor.year,
        }
    return factor.note
