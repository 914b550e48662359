"""Reported actuals: the period a report covers (month, quarter, year)
and recording or correcting one reported figure. Indicators the platform
computes itself, and the growth of a 金额及增速 indicator, are never typed in.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Region

from ..models import IndicatorActual, IndicatorDefinition, PeriodType, SecondKind
from .access import can_manage_region, can_view_indicators
from .definitions import is_computed
from .values import MAX_YEAR, MIN_YEAR, parse_number


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
    source_body: str = "",
    source_document: str = "",
    source_date: date | None = None,
    require_source: bool = False,
) -> IndicatorActual:
    """Record (or correct) one reported figure. Indicators the platform
    computes itself cannot be typed in, nor can the growth of a 金额及增速
    indicator (it is computed from the previous period).

    Where the figure comes from is kept with it: the user who entered it
    (always, from `actor`), the 填报单位/人 as written, the document it was
    taken from (文号 or title) and the date it was reported. The web form and
    the API ask for all three (`require_source`), so that a figure in the
    table can be traced to its document; the report date can be neither in
    the future nor before the period it reports begins."""
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
    if is_computed(definition):
        errors["definition"] = _("该指标由平台自动计算，无需填报")
    source_body = (source_body or "").strip()
    source_document = (source_document or "").strip()
    if len(source_body) > 100:
        errors["source_body"] = _("不超过 100 字")
    elif require_source and not source_body:
        errors["source_body"] = _("请填写填报单位或填报人")
    if len(source_document) > 200:
        errors["source_document"] = _("不超过 200 字")
    elif require_source and not source_document:
        errors["source_document"] = _("请填写依据文件的文号或名称")
    if source_date is None:
        if require_source:
            errors["source_date"] = _("请填写报送日期")
    elif source_date > timezone.localdate():
        errors["source_date"] = _("报送日期不能晚于今天")
    elif "period_type" not in errors and "number" not in errors and "year" not in errors:
        first_day = period_bounds(period_type, year, number)[0]
        if source_date < first_day:
            errors["source_date"] = _("报送日期不能早于报告期开始（%(day)s）") % {
                "day": first_day.isoformat()
            }
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
            {"value": str(actual.value), "second_value": str(actual.second_value)}
            | _source_text(actual.source_body, actual.source_document, actual.source_date)
            if actual
            else {}
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
        actual.source_body = source_body
        actual.source_document = source_document
        actual.source_date = source_date
        actual.reported_by = actor if getattr(actor, "is_authenticated", False) else None
        actual.save()
        audit.record(
            "insights.actual.report",
            actor=actor,
            obj=actual,
            object_repr=f"{region.name} {definition.name} {year}-{period_type}{number}",
            changes=audit.diff(
                before,
                {"value": str(amount), "second_value": str(second)}
                | _source_text(source_body, source_document, source_date),
            ),
        )
    return actual


def _source_text(body: str, document: str, day: date | None) -> dict[str, str]:
    """The source as one audited field, left out when there is none (so a
    figure entered without one audits as before)."""
    text = " ".join(x for x in (body, document, day.isoformat() if day else "") if x)
    return {"source": text} if text else {}
