"""Computed against reported: for an indicator the platform computes, the
figure an agency reported for the same year (统计部门、人民银行 …) is kept beside
it — both stored, with the difference and a written explanation — because
the two rarely agree and officials must be able to say why:

- coverage: the platform sees the loans, enterprises and deals recorded on
  it (and the loans banks report to it), not every loan in the region;
- 口径: e.g. 普惠型 uses the registry's enterprise size and the loans on the
  book as the 授信; the PBOC uses each bank's credit lines;
- timing: a reported year-end figure is fixed when published; the platform's
  figure for a past date changes when late repayments or reclassifications
  are reported afterwards (the stored computed value is what was compared).

A comparison is one IndicatorActual of period "year" for a computed
indicator, carrying `computed_value` (the platform's figure when the
comparison was recorded), the reporting body, document and date, and the
note. It never replaces the computed figure in the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Region

from ..models import IndicatorActual, IndicatorDefinition, PeriodType
from .access import can_manage_region, can_view_indicators
from .definitions import is_computed
from .figures import indicator_value
from .values import MAX_YEAR, MIN_YEAR, format_number, parse_number


@dataclass(frozen=True)
class Comparison:
    definition: IndicatorDefinition
    year: int
    computed: Decimal | None  # now
    computed_then: Decimal | None  # when the reported figure was recorded
    reported: Decimal | None
    note: str
    source_body: str
    source_document: str
    source_date: date | None
    actual_id: int | None = None

    @property
    def difference(self) -> Decimal | None:
        if self.computed is None or self.reported is None:
            return None
        return self.computed - self.reported

    @property
    def difference_text(self) -> str:
        d = self.difference
        if d is None:
            return ""
        return ("+" if d > 0 else "") + format_number(d)


def _check_actor(actor, region: Region) -> None:
    if not can_manage_region(actor, region):
        if can_view_indicators(actor):
            raise NotFound(_("未找到该地区"))
        raise NotAllowed(_("只有政府部门可以填报指标"))


def record_comparison(
    actor,
    *,
    region: Region,
    definition: IndicatorDefinition,
    year: Any,
    value: Any,
    source_body: str = "",
    source_document: str = "",
    source_date: date | None = None,
    note: str = "",
) -> IndicatorActual:
    """Record (or correct) the reported year figure of a computed indicator
    beside the platform's own; the computed figure at this moment is stored
    with it."""
    _check_actor(actor, region)
    errors: dict[str, str] = {}
    if not is_computed(definition):
        errors["definition"] = _("该指标不由平台计算，请直接填报")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationFailed({"year": _("年份应为整数")}) from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        errors["year"] = _("年份应在 %(min_year)s–%(max_year)s 之间") % {
            "min_year": MIN_YEAR,
            "max_year": MAX_YEAR,
        }
    source_body = (source_body or "").strip()
    if not source_body:
        errors["source_body"] = _("请填写报送单位")
    elif len(source_body) > 100:
        errors["source_body"] = _("不超过 100 字")
    if len(source_document or "") > 200:
        errors["source_document"] = _("不超过 200 字")
    if len(note or "") > 2000:
        errors["note"] = _("不超过 2000 字")
    if errors:
        raise ValidationFailed(errors)
    amount = parse_number(value, "value")
    if amount is None:
        raise ValidationFailed({"value": _("请填写数值")})
    if definition.unit == "%" and amount > 100:
        raise ValidationFailed({"value": _("百分比不能超过 100")})
    start, end = date(year, 1, 1), date(year, 12, 31)
    computed = indicator_value(definition, region, start, end).value
    with transaction.atomic():
        actual, created = IndicatorActual.objects.select_for_update().get_or_create(
            region=region,
            definition=definition,
            period_type=PeriodType.YEAR,
            year=year,
            number=1,
            defaults={"period_start": start, "period_end": end, "value": amount},
        )
        before = {} if created else {"value": str(actual.value), "note": actual.note}
        actual.value = amount
        actual.computed_value = computed
        actual.source_body = source_body
        actual.source_document = (source_document or "").strip()
        actual.source_date = source_date
        actual.note = (note or "").strip()
        actual.reported_by = actor if getattr(actor, "is_authenticated", False) else None
        actual.save()
        audit.record(
            "insights.actual.compare",
            actor=actor,
            obj=actual,
            object_repr=f"{region.name} {definition.name} {year}",
            changes=audit.diff(
                before,
                {
                    "value": str(amount),
                    "computed_value": str(computed),
                    "source": f"{source_body} {source_document}".strip(),
                    "note": actual.note,
                },
            ),
        )
    return actual


def comparisons(region: Region, year: int) -> list[Comparison]:
    """Every computed indicator for `region` and `year`: the platform's figure
    now, the reported one (if any) with the figure computed when it was
    recorded, the difference and the note."""
    definitions = [d for d in IndicatorDefinition.objects.all() if is_computed(d)]
    reported = {
        a.definition_id: a
        for a in IndicatorActual.objects.filter(
            region=region, definition__in=definitions, period_type=PeriodType.YEAR, year=year
        )
    }
    start, end = date(year, 1, 1), date(year, 12, 31)
    from .figures import FigureBook

    book = FigureBook(region, definitions)
    rows = []
    for d in definitions:
        a = reported.get(d.pk)
        rows.append(
            Comparison(
                definition=d,
                year=year,
                computed=book.actual(d, start, end).value,
                computed_then=a.computed_value if a else None,
                reported=a.value if a else None,
                note=a.note if a else "",
                source_body=a.source_body if a else "",
                source_document=a.source_document if a else "",
                source_date=a.source_date if a else None,
                actual_id=a.pk if a else None,
            )
        )
    return rows
