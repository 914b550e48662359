"""Indicator plans, targets, reported actuals, completion; the financing fact
table and its rollup; dashboard figures.

Who may do what: government users act for their region's subtree (a plan or
a report for a region outside it is a 404 for them, like anything they cannot
see); platform admins act everywhere. Enterprises and institutions neither
see nor write indicators.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Region
from chanrong.core.money import YI, to_halfwidth
from chanrong.core.scope import ScopeKind, scope_of

from .. import aggregate
from ..models import (
    CATEGORY_ORDER,
    FinancingRecord,
    FinancingRollup,
    IndicatorActual,
    IndicatorDefinition,
    IndicatorPlan,
    IndicatorTarget,
    Kind,
    PeriodType,
    SecondKind,
)
from ..sources import get_source

MIN_YEAR, MAX_YEAR = 2000, 2100
_MAX_VALUE = Decimal("1e15")

# --------------------------------------------------------------------------
# permissions


def can_manage_region(actor, region: Region) -> bool:
    """Government users (staff or admin) manage plans and reports of their
    subtree; platform admins everywhere."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return scope.kind == ScopeKind.GOVERNMENT and region.code.startswith(scope.region_prefix)


def can_view_indicators(actor) -> bool:
    return scope_of(actor).kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT)


def visible_region_prefix(actor) -> str | None:
    """The subtree of figures an actor may see; None = no indicator access."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return ""
    if scope.kind == ScopeKind.GOVERNMENT:
        return scope.region_prefix
    return None


def get_visible_plan(actor, plan_id: Any) -> IndicatorPlan:
    try:
        return IndicatorPlan.objects.visible_to(actor).select_related("region").get(pk=int(plan_id))
    except (IndicatorPlan.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("未找到该指标计划")) from None


# --------------------------------------------------------------------------
# numbers


def parse_number(value: Any, field_name: str, *, allow_negative: bool = False) -> Decimal | None:
    """A figure as typed ("714", "4.90", "１２", "") -> Decimal, keeping the
    written precision; None for blank. Raises ValidationFailed."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationFailed({field_name: _("应为数字")})
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        text = to_halfwidth(str(value)).strip().replace(",", "")
        if text == "":
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValidationFailed(
                {field_name: _("无法识别的数值：%(value)s") % {"value": value}}
            ) from None
    if not number.is_finite():
        raise ValidationFailed({field_name: _("无法识别的数值：%(value)s") % {"value": value}})
    if abs(number) >= _MAX_VALUE:
        raise ValidationFailed({field_name: _("数值过大")})
    if number < 0 and not allow_negative:
        raise ValidationFailed({field_name: _("不能为负数")})
    if number.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValidationFailed({field_name: _("最多保留 4 位小数")})
    return number


def places_of(number: Decimal | None) -> int | None:
    if number is None:
        return None
    exponent = number.as_tuple().exponent
    return max(0, -int(exponent))  # type: ignore[arg-type]


def format_number(number: Decimal | None, places: int | None = None) -> str:
    """Targets print with the places they were written with; computed figures
    with at most two decimals and no trailing zeros."""
    if number is None:
        return ""
    if places is not None:
        return f"{number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"
    rounded = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# --------------------------------------------------------------------------
# plans and targets


def create_plan(actor, region: Region, title: str, start_year: int, end_year: int) -> IndicatorPlan:
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("请填写名称")
    elif len(title) > 200:
        errors["title"] = _("名称不超过 200 字")
    try:
        start_year, end_year = int(start_year), int(end_year)
    except (TypeError, ValueError):
        raise ValidationFailed({"start_year": _("年份应为整数")}) from None
    if not MIN_YEAR <= start_year <= MAX_YEAR:
        errors["start_year"] = _("年份应在 %(min_year)s–%(max_year)s 之间") % {
            "min_year": MIN_YEAR,
            "max_year": MAX_YEAR,
        }
    if not MIN_YEAR <= end_year <= MAX_YEAR:
        errors["end_year"] = _("年份应在 %(min_year)s–%(max_year)s 之间") % {
            "min_year": MIN_YEAR,
            "max_year": MAX_YEAR,
        }
    elif end_year < start_year:
        errors["end_year"] = _("截止年份不能早于起始年份")
    elif end_year - start_year > 9:
        errors["end_year"] = _("计划期不超过 10 年")
    if errors:
        raise ValidationFailed(errors)
    if not can_manage_region(actor, region):
        if can_view_indicators(actor):
            raise NotFound(_("未找到该地区"))
        raise NotAllowed(_("只有政府部门可以制定指标计划"))
    with transaction.atomic():
        plan = IndicatorPlan.objects.create(
            region=region,
            title=title,
            start_year=start_year,
            end_year=end_year,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit.record(
            "insights.plan.create",
            actor=actor,
            obj=plan,
            changes={
                "region": region.code,
                "title": title,
                "start_year": start_year,
                "end_year": end_year,
            },
        )
    return plan


def _definition_from(value: Any, definitions: dict[str, IndicatorDefinition]):
    if isinstance(value, IndicatorDefinition):
        return definitions.get(value.code)
    if isinstance(value, int) and not isinstance(value, bool):
        return next((d for d in definitions.values() if d.pk == value), None)
    if isinstance(value, str):
        return definitions.get(value.strip())
    return None


def _places_for(row: dict, key: str, number: Decimal | None) -> int | None:
    """Decimal places to print a target with: as written when typed as text
    ("4.90" keeps two); an explicit `<key>_places` wins (for copying between
    plans); a number passed as such prints without trailing zeros, since a
    Decimal read back from the database carries the column's four places."""
    if number is None:
        return None
    explicit = row.get("value_places" if key == "value" else "second_places")
    if isinstance(explicit, int) and not isinstance(explicit, bool) and 0 <= explicit <= 4:
        return explicit
    if isinstance(row.get(key), str):
        return places_of(number)
    return places_of(number.normalize())


def set_targets(actor, plan: IndicatorPlan, rows: list[dict]) -> list[IndicatorTarget]:
    """Create or replace targets. Each row: {"definition": code | id | object,
    "year": int, "value": number | str | None, "second_value": …}. Every row
    is checked before anything is written; one bad row writes nothing."""
    if not can_manage_region(actor, plan.region):
        if can_view_indicators(actor):
            raise NotFound(_("未找到该指标计划"))
        raise NotAllowed(_("只有政府部门可以设置指标目标"))
    if not isinstance(rows, list):
        raise ValidationFailed({"rows": _("应为列表")})
    definitions = {d.code: d for d in IndicatorDefinition.objects.all()}
    errors: list[FieldError] = []
    cleaned: dict[tuple[int, int], dict[str, Any]] = {}
    for index, row in enumerate(rows):
        prefix = f"rows[{index}]"
        if not isinstance(row, dict):
            errors.append(FieldError(prefix, _("应为对象")))
            continue
        definition = _definition_from(row.get("definition"), definitions)
        if definition is None:
            errors.append(FieldError(f"{prefix}.definition", _("未知的指标")))
            continue
        year = row.get("year")
        if isinstance(year, bool) or not isinstance(year, int | str):
            errors.append(FieldError(f"{prefix}.year", _("年份应为整数")))
            continue
        try:
            year = int(year)
        except ValueError:
            errors.append(FieldError(f"{prefix}.year", _("年份应为整数")))
            continue
        if not plan.start_year <= year <= plan.end_year:
            errors.append(
                FieldError(
                    f"{prefix}.year",
                    _("年份应在 %(min_year)s–%(max_year)s 之间")
                    % {"min_year": plan.start_year, "max_year": plan.end_year},
                )
            )
            continue
        try:
            value = parse_number(row.get("value"), f"{prefix}.value")
            # Growth targets may be negative (a planned decline); counts and amounts not.
            second = parse_number(
                row.get("second_value"),
                f"{prefix}.second_value",
                allow_negative=definition.second_kind == SecondKind.GROWTH,
            )
        except ValidationFailed as exc:
            errors.extend(exc.errors)
            continue
        if second is not None and not definition.has_second:
            errors.append(FieldError(f"{prefix}.second_value", _("该指标没有第二项数值")))
            continue
        if definition.unit == "%" and value is not None and value > 100:
            errors.append(FieldError(f"{prefix}.value", _("百分比不能超过 100")))
            continue
        key = (definition.pk, year)
        if key in cleaned:
            errors.append(FieldError(prefix, _("同一指标同一年份重复")))
            continue
        cleaned[key] = {
            "definition": definition,
            "year": year,
            "value": value,
            "second": second,
            "value_places": _places_for(row, "value", value),
            "second_places": _places_for(row, "second_value", second),
        }
    if errors:
        raise ValidationFailed(errors)
    saved: list[IndicatorTarget] = []
    changes: dict[str, Any] = {}
    with transaction.atomic():
        existing = {
            (t.definition_id, t.year): t
            for t in IndicatorTarget.objects.select_for_update().filter(plan=plan)
        }
        for (definition_id, year), row in cleaned.items():
            target = existing.get((definition_id, year)) or IndicatorTarget(
                plan=plan, definition=row["definition"], year=year
            )
            old = (format_number(target.value, target.value_places) if target.pk else None,)
            target.value = row["value"]
            target.second_value = row["second"]
            target.value_places = row["value_places"]
            target.second_places = row["second_places"]
            target.save()
            saved.append(target)
            new = format_number(row["value"], target.value_places)
            changes[f"{row['definition'].code}@{year}"] = [
                old[0],
                new
                + (
                    "/" + format_number(row["second"], target.second_places)
                    if row["second"] is not None
                    else ""
                ),
            ]
        audit.record("insights.plan.set_targets", actor=actor, obj=plan, changes=changes)
    return saved


# --------------------------------------------------------------------------
# the plan as a table (screen, print, xlsx and the round-trip test share it)


@dataclass
class TableCell:
    value: str = ""
    second: str = ""


@dataclass
class TableRow:
    category: str
    definition: IndicatorDefinition
    name: str
    kind_label: str
    cells: list[TableCell] = field(default_factory=list)


def plan_table(plan: IndicatorPlan) -> list[TableRow]:
    """Rows in catalogue order, only indicators the plan has targets for, one
    cell (value, second) per plan year."""
    targets = IndicatorTarget.objects.filter(plan=plan).select_related("definition")
    by_def: dict[int, dict[int, IndicatorTarget]] = defaultdict(dict)
    definitions: dict[int, IndicatorDefinition] = {}
    for t in targets:
        by_def[t.definition_id][t.year] = t
        definitions[t.definition_id] = t.definition
    ordered = sorted(
        definitions.values(),
        key=lambda d: (CATEGORY_ORDER.index(d.category), d.sort_order, d.code),
    )
    rows = []
    for d in ordered:
        cells = []
        for year in plan.years:
            t = by_def[d.pk].get(year)
            if t is None:
                cells.append(TableCell())
            else:
                cells.append(
                    TableCell(
                        format_number(t.value, t.value_places),
                        format_number(t.second_value, t.second_places),
                    )
                )
        rows.append(TableRow(d.category, d, d.name, d.get_kind_display(), cells))
    return rows


# --------------------------------------------------------------------------
# actuals


def period_bounds(period_type: str, year: int, number: int = 1) -> tuple[date, date]:
    if period_type == PeriodType.YEAR:
        return date(year, 1, 1), date(year, 12, 31)
    if period_type == PeriodType.QUARTER:
        first = 3 * (number - 1) + 1
        last = first + 2
        return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def report_actual(
    actor,
    *,
    region: Region,
    definition: IndicatorDefinition,
    period_type: str,
    year: int,
    number: int = 1,
    value: Any,
    second_value: Any = None,
) -> IndicatorActual:
    """Record (or correct) one reported figure. Indicators the platform
    computes itself cannot be typed in, nor can the growth of a 金额及增速
    indicator (it is computed from the previous period)."""
    if not can_manage_region(actor, region):
        if can_view_indicators(actor):
            raise NotFound(_("未找到该地区"))
        raise NotAllowed(_("只有政府部门可以填报指标"))
    errors: dict[str, str] = {}
    if period_type not in PeriodType.values:
        errors["period_type"] = _("报告期应为月度、季度或年度")
    try:
        year, number = int(year), int(number)
    except (TypeError, ValueError):
        raise ValidationFailed({"year": _("年份应为整数")}) from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        errors["year"] = _("年份应在 %(min_year)s–%(max_year)s 之间") % {
            "min_year": MIN_YEAR,
            "max_year": MAX_YEAR,
        }
    limit = {"month": 12, "quarter": 4, "year": 1}.get(period_type, 1)
    if not 1 <= number <= limit:
        errors["number"] = _("期号应在 1–%(limit)s 之间") % {"limit": limit}
    if definition.source:
        errors["definition"] = _("该指标由平台自动计算，无需填报")
    if errors:
        raise ValidationFailed(errors)
    amount = parse_number(value, "value")
    if amount is None:
        raise ValidationFailed({"value": _("请填写数值")})
    if definition.unit == "%" and amount > 100:
        raise ValidationFailed({"value": _("百分比不能超过 100")})
    second = parse_number(second_value, "second_value")
    if second is not None and definition.second_kind != SecondKind.MEASURE:
        message = (
            _("增速由系统根据上期数值计算，无需填报")
            if definition.second_kind == SecondKind.GROWTH
            else _("该指标没有第二项数值")
        )
        raise ValidationFailed({"second_value": message})
    start, end = period_bounds(period_type, year, number)
    with transaction.atomic():
        actual = (
            IndicatorActual.objects.select_for_update()
            .filter(
                region=region,
                definition=definition,
                period_type=period_type,
                year=year,
                number=number,
            )
            .first()
        )
        before = (
            {"value": str(actual.value), "second_value": str(actual.second_value)} if actual else {}
        )
        if actual is None:
            actual = IndicatorActual(
                region=region,
                definition=definition,
                period_type=period_type,
                year=year,
                number=number,
                period_start=start,
                period_end=end,
            )
        actual.value = amount
        actual.second_value = second
        actual.reported_by = actor if getattr(actor, "is_authenticated", False) else None
        actual.save()
        audit.record(
            "insights.actual.report",
            actor=actor,
            obj=actual,
            object_repr=f"{region.name} {definition.name} {year}-{period_type}{number}",
            changes=audit.diff(before, {"value": str(amount), "second_value": str(second)}),
        )
    return actual


# --------------------------------------------------------------------------
# figures


def _children_map(prefix: str) -> dict[str, list[str]]:
    children: dict[str, list[str]] = defaultdict(list)
    qs = Region.objects.filter(code__startswith=prefix) if prefix else Region.objects.all()
    for code, parent_id in qs.values_list("code", "parent_id"):
        if parent_id:
            children[parent_id].append(code)
    return children


def _region_code_for_prefix(prefix: str) -> str:
    return prefix.ljust(6, "0") if prefix else ""


@dataclass(frozen=True)
class Actual:
    value: Decimal | None
    second: Decimal | None  # growth (%) or second measure
    complete: bool = True
    computed: bool = False  # from a platform source
    note: str = ""


def _source_value(definition: IndicatorDefinition, region: Region, start: date, end: date):
    source = get_source(definition.source)
    if source is None:
        return None
    value = source.fn(region.prefix, None if definition.kind == Kind.STOCK else start, end)
    if value is None:
        return None
    value = Decimal(value)
    if source.money and definition.unit == "亿元":
        value = value / YI
    return value


class FigureBook:
    """Reported figures of one region subtree loaded once, then asked many
    questions (every indicator × year of a plan) without further queries."""

    def __init__(self, region: Region, definitions: list[IndicatorDefinition] | None = None):
        self.region = region
        self.children = _children_map(region.prefix)
        qs = IndicatorActual.objects.filter(region__code__startswith=region.prefix)
        if definitions is not None:
            qs = qs.filter(definition__in=definitions)
        self.reports: dict[int, dict[str, list[aggregate.Report]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for a in qs.values_list(
            "definition_id",
            "region_id",
            "period_type",
            "period_start",
            "period_end",
            "value",
            "second_value",
        ):
            did, code, ptype, start, end, value, second = a
            self.reports[did][code].append(aggregate.Report(code, ptype, start, end, value, second))

    def main(self, definition: IndicatorDefinition, start: date, end: date):
        """(value, second measure, complete) without growth."""
        if definition.source and get_source(definition.source) is not None:
            return _source_value(definition, self.region, start, end), None, True, True
        figure = aggregate.figure_for(
            self.reports.get(definition.pk, {}),
            self.region.code,
            self.children,
            kind=definition.kind,
            rate=definition.is_rate,
            start=start,
            end=end,
        )
        if figure is None:
            return None, None, True, False
        return figure.value, figure.second, figure.complete, False

    def actual(self, definition: IndicatorDefinition, start: date, end: date) -> Actual:
        value, second, complete, computed = self.main(definition, start, end)
        if definition.second_kind == SecondKind.GROWTH:
            prev_start = start.replace(year=start.year - 1)
            prev_end = _same_day_last_year(end)
            previous, _s, _c, _k = self.main(definition, prev_start, prev_end)
            second = aggregate.growth(value, previous)
        elif definition.second_kind == SecondKind.NONE:
            second = None
        return Actual(value, second, complete, computed)


def _same_day_last_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return date(d.year - 1, 2, 28)


def indicator_value(
    definition: IndicatorDefinition, region: Region, start: date, end: date
) -> Actual:
    """One indicator for one region: over [start, end] for a 时期指标, at `end`
    for a 时点指标, rolled up over the region tree."""
    return FigureBook(region, [definition]).actual(definition, start, end)


@dataclass
class CompletionRow:
    definition: IndicatorDefinition
    target: Decimal | None
    target_second: Decimal | None
    target_text: str
    target_second_text: str
    actual: Decimal | None
    actual_second: Decimal | None
    ratio: Decimal | None  # 1.00 = exactly on target
    status: str  # met | behind | in_progress | no_data | no_target
    computed: bool = False
    complete: bool = True

    @property
    def actual_text(self) -> str:
        return format_number(self.actual)

    @property
    def actual_second_text(self) -> str:
        return format_number(self.actual_second)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def percent(self) -> str:
        return "" if self.ratio is None else format_number(self.ratio * 100, 1) + "%"


STATUS_LABELS = {
    "met": gettext_lazy("已完成"),
    "behind": gettext_lazy("未完成"),
    "in_progress": gettext_lazy("进行中"),
    "no_data": gettext_lazy("暂无数据"),
    "no_target": gettext_lazy("未设目标"),
}


def completion(plan: IndicatorPlan, year: int, *, today: date | None = None) -> list[CompletionRow]:
    """Each indicator of the plan against its target for `year`. A year not
    yet over is compared year-to-date and marked in_progress unless already met."""
    today = today or timezone.localdate()
    start, end = date(year, 1, 1), date(year, 12, 31)
    running = today < end
    if running:
        end = min(end, today)
    targets = {
        t.definition_id: t
        for t in IndicatorTarget.objects.filter(plan=plan, year=year).select_related("definition")
    }
    definitions = sorted(
        {
            t.definition
            for t in IndicatorTarget.objects.filter(plan=plan).select_related("definition")
        },
        key=lambda d: (CATEGORY_ORDER.index(d.category), d.sort_order),
    )
    book = FigureBook(plan.region, definitions)
    rows = []
    for d in definitions:
        t = targets.get(d.pk)
        result = book.actual(d, start, end) if start <= end else Actual(None, None)
        target = t.value if t else None
        ratio = None
        if target is not None and result.value is not None:
            if d.lower_is_better:
                ratio = Decimal(1) if result.value == 0 else (target / result.value)
            elif target != 0:
                ratio = result.value / target
            else:
                ratio = Decimal(1)
            ratio = ratio.quantize(Decimal("0.0001"))
        if target is None:
            status = "no_target"
        elif result.value is None:
            status = "no_data"
        elif ratio is not None and ratio >= 1 and not (running and d.lower_is_better):
            status = "met"
        elif running:
            status = "in_progress"
        else:
            status = "behind"
        rows.append(
            CompletionRow(
                definition=d,
                target=target,
                target_second=t.second_value if t else None,
                target_text=format_number(target, t.value_places) if t else "",
                target_second_text=format_number(t.second_value, t.second_places) if t else "",
                actual=result.value,
                actual_second=result.second,
                ratio=ratio,
                status=status,
                computed=result.computed,
                complete=result.complete,
            )
        )
    return rows


# --------------------------------------------------------------------------
# financing facts and their rollup


def ancestor_prefixes(region: Region) -> list[str]:
    """Every node above and including `region`, as rollup keys ("" = country)."""
    out = [""]
    node: Region | None = region
    chain = []
    while node is not None:
        chain.append(node.prefix)
        node = node.parent
    for p in reversed(chain):
        if p not in out:
            out.append(p)
    return out


def rollup_keys(
    prefixes: list[str], section: str, institution_id: int
) -> list[tuple[str, str, int]]:
    """The cube cells one record adds to: per region node, every combination of
    (section or all) × (institution or all)."""
    keys = []
    for p in prefixes:
        for s in {section, ""}:
            for i in {institution_id, 0}:
                keys.append((p, s, i))
    return keys


def _rollup_table() -> str:
    return connection.ops.quote_name(FinancingRollup._meta.db_table)


def _apply_rollup(cells: list[tuple[str, str, int, date, int, Decimal]]) -> None:
    """Add (count, amount) to each cell, creating it if missing. One upsert
    statement per cell, valid on SQLite ≥ 3.24 and PostgreSQL alike."""
    table = _rollup_table()
    sql = (
        f"INSERT INTO {table} (region, section, institution_id, month, count, amount) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (region, section, institution_id, month) DO UPDATE SET "
        f"count = {table}.count + excluded.count, amount = {table}.amount + excluded.amount"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(r, s, i, m, c, str(a)) for r, s, i, m, c, a in cells])


def on_financing_disbursed(sender, signal=None, **facts) -> FinancingRecord:
    """Receiver of `chanrong.demands.signals.financing_disbursed`."""
    return record_financing(**facts)


def record_financing(
    *,
    region: Region,
    institution,
    amount: Any,
    on: date,
    industry=None,
    enterprise=None,
    source_ref: str | None = None,
    actor=None,
) -> FinancingRecord:
    """Record one financing outcome and add it to the rollup in the same
    transaction, so dashboards never lag or drift from the facts. Idempotent
    on `source_ref`: recording the same outcome twice returns the first."""
    amount = parse_number(amount, "amount")
    if amount is None or amount <= 0:
        raise ValidationFailed({"amount": _("金额应大于 0")})
    if not isinstance(on, date):
        raise ValidationFailed({"on": _("日期无效")})
    section = ""
    if industry is not None:
        section = industry.code[0]
    with transaction.atomic():
        if source_ref:
            existing = FinancingRecord.objects.filter(source_ref=source_ref).first()
            if existing is not None:
                return existing
        record = FinancingRecord.objects.create(
            region=region,
            industry=industry,
            section=section,
            institution=institution,
            enterprise=enterprise,
            date=on,
            amount=amount,
            source_ref=source_ref or None,
        )
        month = on.replace(day=1)
        _apply_rollup(
            [
                (p, s, i, month, 1, amount)
                for p, s, i in rollup_keys(ancestor_prefixes(region), section, institution.pk)
            ]
        )
        audit.record(
            "insights.financing.record",
            actor=actor,
            obj=record,
            object_repr=f"{region.name} {amount}",
            changes={
                "region": region.code,
                "institution": institution.pk,
                "amount": str(amount),
                "date": on.isoformat(),
                "source_ref": source_ref,
            },
        )
    return record


def rebuild_rollups() -> int:
    """Recompute FinancingRollup from FinancingRecord: a repair tool and the
    path for bulk loads (normal writes are incremental). The records are first
    grouped once by (region, section, institution, month) into a temporary
    table; every region level and cube face is then rolled up from that much
    smaller table. Returns the number of rollup rows."""
    table = _rollup_table()
    records = connection.ops.quote_name(FinancingRecord._meta.db_table)
    regions = connection.ops.quote_name(Region._meta.db_table)
    postgres = connection.vendor == "postgresql"
    month_expr = (
        "CAST(date_trunc('month', date) AS date)" if postgres else "date(date, 'start of month')"
    )
    r0 = f"JOIN {regions} r0 ON r0.code = b.region_id"
    r1 = f"{r0} JOIN {regions} r1 ON r1.code = r0.parent_id"
    r2 = f"{r1} JOIN {regions} r2 ON r2.code = r1.parent_id"
    # A record sits at a county (usually), so its nodes are r0, r1, r2 and the
    # country; a record at a prefecture simply has no r2 row.
    levels = [("r0.prefix", r0), ("r1.prefix", r1), ("r2.prefix", r2), ("''", "")]
    upsert = (
        "ON CONFLICT (region, section, institution_id, month) DO UPDATE SET "
        f"count = {table}.count + excluded.count, amount = {table}.amount + excluded.amount"
    )
    columns = f"INSERT INTO {table} (region, section, institution_id, month, count, amount) "
    with transaction.atomic(), connection.cursor() as cursor:
        # TRUNCATE locks the rollup until commit: dashboards wait for a rebuild
        # rather than read a half-built table.
        cursor.execute(
            f"TRUNCATE {table}" if postgres else f"DELETE FROM {table}"  # noqa: S608
        )
        cursor.execute("DROP TABLE IF EXISTS chanrong_rollup_base")
        cursor.execute(
            "CREATE TEMPORARY TABLE chanrong_rollup_base AS "  # noqa: S608
            f"SELECT region_id, section, institution_id, {month_expr} AS month, "
            f"COUNT(*) AS c, SUM(amount) AS a FROM {records} GROUP BY 1, 2, 3, 4"
        )
        if postgres:
            # One statement: per region level a CUBE over (section, institution)
            # gives the four faces; the outer GROUP BY merges what coincides (a
            # real blank section with "all sections", a node reached from two
            # levels), so a plain INSERT suffices — no per-row upsert.
            parts = [
                f"SELECT {node} AS node, "  # noqa: S608
                "CASE WHEN GROUPING(b.section) = 1 THEN '' ELSE b.section END AS sec, "
                "CASE WHEN GROUPING(b.institution_id) = 1 THEN 0 ELSE b.institution_id END "
                "AS inst, b.month, SUM(b.c) AS c, SUM(b.a) AS a "
                f"FROM chanrong_rollup_base b {joins} "
                "GROUP BY 1, b.month, CUBE(b.section, b.institution_id)"
                for node, joins in levels
            ]
            union = " UNION ALL ".join(parts)
            sql = f"{columns} SELECT node, sec, inst, month, SUM(c), SUM(a) FROM ({union}) x "  # noqa: S608
            # Bulk-load manners: secondary indexes are rebuilt after the load and
            # rows arrive in key order, which keeps the unique index's inserts cheap.
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.tablename = %s AND NOT EXISTS ("
                "SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [FinancingRollup._meta.db_table],
            )
            secondary = cursor.fetchall()
            for name, _definition in secondary:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            cursor.execute(sql + "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4")
            for _name, definition in secondary:
                cursor.execute(definition)
        else:
            for node, joins in levels:
                for section_expr, inst_expr in (
                    ("b.section", "b.institution_id"),
                    ("b.section", "0"),
                    ("''", "b.institution_id"),
                    ("''", "0"),
                ):
                    # "WHERE true" lets SQLite parse ON CONFLICT after a SELECT.
                    cursor.execute(
                        columns
                        + f"SELECT {node}, {section_expr}, {inst_expr}, b.month, SUM(b.c), SUM(b.a) "  # noqa: S608
                        f"FROM chanrong_rollup_base b {joins} WHERE true GROUP BY 1, 2, 3, 4 {upsert}"
                    )
        cursor.execute("DROP TABLE chanrong_rollup_base")
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        return cursor.fetchone()[0]


def financing_totals(prefix: str, start: date | None = None, end: date | None = None):
    """(count, amount in 元) of financing in a subtree, read from the rollup."""
    qs = FinancingRollup.objects.filter(region=prefix, section="", institution_id=0)
    if start is not None:
        qs = qs.filter(month__gte=start.replace(day=1))
    if end is not None:
        qs = qs.filter(month__lte=end)
    row = qs.aggregate(n=Sum("count"), a=Sum("amount"))
    return int(row["n"] or 0), Decimal(row["a"] or 0)


def _financing_amount_source(prefix: str, start: date | None, end: date) -> Decimal:
    # The rollup is monthly: spans are whole months (indicator periods always are).
    return financing_totals(prefix, start, end)[1]


def _financing_count_source(prefix: str, start: date | None, end: date) -> Decimal:
    return Decimal(financing_totals(prefix, start, end)[0])


def register_default_sources() -> None:
    """Platform financing from insights' own FinancingRecord table. The demands
    app may register its own under the same keys with replace=True — or,
    better, write each outcome through record_financing so that dashboards and
    indicators read one set of facts."""
    from ..catalogue import SOURCE_PLATFORM_AMOUNT, SOURCE_PLATFORM_COUNT
    from ..sources import register_source

    register_source(
        SOURCE_PLATFORM_AMOUNT,
        _financing_amount_source,
        label="平台融资记录（insights.FinancingRecord）",
        money=True,
    )
    register_source(
        SOURCE_PLATFORM_COUNT,
        _financing_count_source,
        label="平台融资记录笔数（insights.FinancingRecord）",
    )


# --------------------------------------------------------------------------
# dashboard


@dataclass
class Summary:
    region_prefix: str
    region_name: str
    enterprises: int
    institutions: int
    financing_count: int
    financing_amount: Decimal  # 元

    def as_dict(self) -> dict[str, Any]:
        return {
            "region_code": _region_code_for_prefix(self.region_prefix),
            "region_name": self.region_name,
            "enterprises": self.enterprises,
            "institutions": self.institutions,
            "financing_count": self.financing_count,
            "financing_amount": str(self.financing_amount),
            "financing_amount_yi": format_number(self.financing_amount / YI),
        }


def resolve_scope_region(actor, region_code: str | None) -> tuple[str, Region | None]:
    """The subtree a dashboard shows: the requested region if inside the
    actor's scope, else the actor's own scope. Raises NotFound outside it."""
    base = visible_region_prefix(actor)
    if base is None:
        raise NotFound(_("未找到"))
    if not region_code:
        if not base:
            return "", None
        region = Region.objects.filter(prefix=base).order_by("code").first()
        return base, region
    region = Region.objects.filter(code=str(region_code)).first()
    if region is None or not region.code.startswith(base):
        raise NotFound(_("未找到该地区"))
    return region.prefix, region


def summary(actor, region_code: str | None = None) -> Summary:
    """入驻企业数, 入驻金融机构数, 累计融资笔数, 累计融资额 for a subtree (厦门's
    plan counts these cumulatively)."""
    from chanrong.finance.models import FinancialInstitution
    from chanrong.registry.models import Enterprise

    prefix, region = resolve_scope_region(actor, region_code)
    enterprises = Enterprise.objects.all()
    institutions = FinancialInstitution.objects.all()
    if prefix:
        enterprises = enterprises.filter(region__code__startswith=prefix)
        # An institution is 入驻 in a region when it is based there or has a branch there.
        institutions = institutions.filter(
            Q(region__code__startswith=prefix) | Q(branches__region__code__startswith=prefix)
        )
    count, amount = financing_totals(prefix)
    return Summary(
        region_prefix=prefix,
        region_name=region.name if region else _("全国"),
        enterprises=enterprises.count(),
        institutions=institutions.distinct().count(),
        financing_count=count,
        financing_amount=amount,
    )


def financing_by_month(prefix: str, *, section: str = "", institution_id: int = 0):
    rows = (
        FinancingRollup.objects.filter(
            region=prefix, section=section, institution_id=institution_id
        )
        .order_by("month")
        .values_list("month", "count", "amount")
    )
    return list(rows)


def financing_by_child_region(prefix: str, *, section: str = "", institution_id: int = 0):
    """Drill-down one level: each child node's totals."""
    if prefix:
        parent = Region.objects.filter(prefix=prefix).order_by("code").first()
        children = list(Region.objects.filter(parent=parent)) if parent else []
    else:
        children = list(Region.objects.filter(parent__isnull=True))
    names = {c.prefix: c for c in children}
    rows = (
        FinancingRollup.objects.filter(
            region__in=list(names), section=section, institution_id=institution_id
        )
        .values("region")
        .annotate(n=Sum("count"), a=Sum("amount"))
        .order_by("-a")
    )
    return [(names[r["region"]], int(r["n"]), r["a"]) for r in rows]


def financing_by_section(prefix: str, *, institution_id: int = 0):
    rows = (
        FinancingRollup.objects.filter(region=prefix, institution_id=institution_id)
        .exclude(section="")
        .values("section")
        .annotate(n=Sum("count"), a=Sum("amount"))
        .order_by("-a")
    )
    return [(r["section"], int(r["n"]), r["a"]) for r in rows]


def financing_by_institution(prefix: str, *, section: str = ""):
    rows = (
        FinancingRollup.objects.filter(region=prefix, section=section)
        .exclude(institution_id=0)
        .values("institution_id")
        .annotate(n=Sum("count"), a=Sum("amount"))
        .order_by("-a")
    )
    return [(r["institution_id"], int(r["n"]), r["a"]) for r in rows]


def counts_by_category() -> dict[str, int]:
    return dict(
        IndicatorDefinition.objects.values("category")
        .annotate(n=Count("pk"))
        .values_list("category", "n")
    )


# --------------------------------------------------------------------------
# importing a printed 定量指标表


def import_plan_table(
    actor, region: Region, text: str, *, title: str | None = None
) -> IndicatorPlan:
    """Create a plan from a 定量指标表 as printed in an 实施方案 (see tables.py).
    The category and 指标类型 printed for each row must agree with the
    catalogue: a plan that calls a stock a flow is refused, not silently
    re-typed."""
    from ..tables import KIND_LABELS, TableError, parse_table

    try:
        table = parse_table(text)
    except TableError as exc:
        raise ValidationFailed({"table": str(exc)}) from None
    definitions = {d.code: d for d in IndicatorDefinition.objects.all()}
    errors: list[FieldError] = []
    rows: list[dict[str, Any]] = []
    for row in table.rows:
        d = definitions.get(row.code)
        if d is None:
            errors.append(FieldError("table", _("未知的指标：%(name)s") % {"name": row.name}))
            continue
        if d.category != row.category:
            errors.append(
                FieldError(
                    "table",
                    _("%(name)s：类别应为「%(category)s」")
                    % {"name": row.name, "category": d.category},
                )
            )
        if d.kind != KIND_LABELS[row.kind_label]:
            errors.append(
                FieldError(
                    "table",
                    _("%(name)s：指标类型应为「%(kind)s」")
                    % {"name": row.name, "kind": d.get_kind_display()},
                )
            )
        for year, (value, second) in zip(table.years, row.cells, strict=True):
            rows.append(
                {"definition": d.code, "year": year, "value": value, "second_value": second}
            )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        plan = create_plan(
            actor,
            region,
            title or table.title or f"{region.name}定量指标",
            min(table.years),
            max(table.years),
        )
        set_targets(actor, plan, rows)
    return plan
