"""Indicator plans (指标计划) and their targets: creating a plan for a
region and a span of years, setting targets per indicator and year (every
row checked before anything is written), the plan as a table (screen,
print, xlsx and the round-trip test share it), and importing a 定量指标表 as
printed in an 实施方案.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Region

from ..models import CATEGORY_ORDER, IndicatorDefinition, IndicatorPlan, IndicatorTarget, SecondKind
from .access import can_manage_region, can_view_indicators
from .values import MAX_YEAR, MIN_YEAR, format_number, parse_number, places_of

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
