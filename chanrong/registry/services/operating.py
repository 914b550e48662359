"""Operating data (工业运行数据): monthly or quarterly figures of an enterprise.

Figures (output value, revenue, profit, tax, headcount, electricity) are
stored whatever they are, with plausibility flags (negative values, profit
above revenue, a year-on-year move beyond CHANRONG_YOY_BOUND) that send them
to a government reviewer, who confirms or corrects them through the
OPERATING_REVIEW state machine. Also the chart of one enterprise's figures.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.money import AmountError, parse_amount, to_halfwidth
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import apply_transition

from .. import signals as registry_signals
from ..models import Enterprise, OperatingRecord, PeriodType, ReviewStatus
from ..workflows import OPERATING_REVIEW, can_review_operating_data
from .access import can_edit_enterprise
from .fields import MAX_AMOUNT, WAN, _Absent, _amount_field, _blank, _integer_field, _present, _text

DEFAULT_YOY_BOUND = Decimal("3.0")
OPERATING_AMOUNTS = ("output_value", "revenue", "profit", "tax_paid")
OPERATING_FIELDS = ("output_value", "revenue", "profit", "tax_paid", "employees", "electricity_kwh")
#: Input keys: amounts in 万元 (numbers, or text with a unit), the rest as counted.
OPERATING_INPUT = (
    "output_value_wan",
    "revenue_wan",
    "profit_wan",
    "tax_paid_wan",
    "employees",
    "electricity_kwh",
)
OPERATING_LABELS = {
    "output_value": _lazy("工业总产值"),
    "revenue": _lazy("营业收入"),
    "profit": _lazy("利润总额"),
    "tax_paid": _lazy("实缴税金"),
    "employees": _lazy("从业人员"),
    "electricity_kwh": _lazy("用电量"),
}
_QUARTER_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


@dataclass(frozen=True)
class Period:
    period_type: str  # PeriodType
    start: date

    @property
    def code(self) -> str:
        if self.period_type == PeriodType.QUARTER:
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    def year_before(self) -> Period:
        return Period(self.period_type, self.start.replace(year=self.start.year - 1))

    def year_after(self) -> Period:
        return Period(self.period_type, self.start.replace(year=self.start.year + 1))


def parse_period(value: Any, period_type: str | None = None) -> Period:
    """A month ("2025-03", "2025/3", "2025年3月", "202503", a date) or a
    quarter ("2025Q1", "2025-Q1", "2025年第一季度", "2025年1季度"). A date
    is a month unless `period_type` says quarter (then its quarter).
    Raises ValidationFailed naming the value."""
    if isinstance(value, Period):
        return value
    if isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
        if period_type == PeriodType.QUARTER:
            return Period(PeriodType.QUARTER, date(day.year, (day.month - 1) // 3 * 3 + 1, 1))
        return Period(PeriodType.MONTH, date(day.year, day.month, 1))
    text = to_halfwidth(str(value or "")).strip().upper().replace(" ", "")
    match = re.fullmatch(r"(\d{4})[-/.]?Q([1-4])", text) or re.fullmatch(
        r"(\d{4})年第?([一二三四1-4])季度?", text
    )
    if match:
        quarter = _QUARTER_WORDS[match.group(2)]
        period = Period(PeriodType.QUARTER, date(int(match.group(1)), quarter * 3 - 2, 1))
    else:
        match = re.fullmatch(r"(\d{4})(?:[-/.年](\d{1,2})月?|(\d{2}))", text)
        month = int(match.group(2) or match.group(3)) if match else 0
        if not match or not 1 <= month <= 12:
            raise ValidationFailed(
                {
                    "period": _("无法识别的统计期：%(value)s（月度如 2025-03，季度如 2025Q1）")
                    % {"value": value}
                }
            )
        period = Period(PeriodType.MONTH, date(int(match.group(1)), month, 1))
    if period_type and period.period_type != period_type:
        raise ValidationFailed({"period": _("统计期与周期类型不符：%(value)s") % {"value": value}})
    if not 2000 <= period.start.year <= timezone.localdate().year:
        raise ValidationFailed({"period": _("统计期应在 2000 年至今年之间")})
    if period.start > timezone.localdate():
        raise ValidationFailed({"period": _("统计期尚未开始")})
    return period


def clean_operating_values(data: dict[str, Any]) -> dict[str, Any]:
    """Model values for the figures present in `data`. Negative amounts are
    accepted here on purpose: they are flagged for review, not refused."""
    errors: list[FieldError] = []
    for key in sorted(set(data) - set(OPERATING_INPUT)):
        errors.append(FieldError(key, _("不允许的字段")))
    out = {
        field: _amount_field(data, f"{field}_wan", errors, allow_negative=True)
        for field in OPERATING_AMOUNTS
    }
    out["employees"] = _integer_field(
        data,
        "employees",
        errors,
        low=-10_000_000,
        high=10_000_000,
        message=_("从业人员应为整数（人）"),
    )
    kwh = _quantity_field(data, "electricity_kwh", errors)
    out["electricity_kwh"] = kwh
    if errors:
        raise ValidationFailed(errors)
    return _present(out)


def _quantity_field(data: dict[str, Any], key: str, errors: list[FieldError]):
    """A count such as kWh: a plain number (grouping and full-width digits
    allowed), no currency unit."""
    if key not in data:
        return _Absent
    value = data[key]
    if _blank(value):
        return None
    if isinstance(value, bool) or (isinstance(value, str) and re.search(r"[元万亿]", value)):
        errors.append(FieldError(key, _("用电量应为千瓦时数（不带单位的数字）")))
        return _Absent
    try:
        number = parse_amount(value, default_unit="元")
    except AmountError:
        errors.append(FieldError(key, _("用电量应为千瓦时数（不带单位的数字）")))
        return _Absent
    if number is not None and abs(number) > MAX_AMOUNT:
        errors.append(FieldError(key, _("数值过大")))
        return _Absent
    return number


def yoy_bound() -> Decimal:
    """CHANRONG_YOY_BOUND: how far a figure may move year on year before it is
    flagged; 3.0 means up by more than 300% (over 4×), or down to less than a
    quarter (1 / 4) of the same period last year."""
    raw = getattr(settings, "CHANRONG_YOY_BOUND", None)
    if raw in (None, ""):
        raw = os.environ.get("CHANRONG_YOY_BOUND", DEFAULT_YOY_BOUND)
    try:
        bound = Decimal(str(raw))
    except InvalidOperation:
        return DEFAULT_YOY_BOUND
    return bound if bound.is_finite() and bound > 0 else DEFAULT_YOY_BOUND


def _show(field: str, value: Decimal | int) -> str:
    if field in OPERATING_AMOUNTS:
        return _("%(n)s 万元") % {"n": f"{Decimal(value) / WAN:,.2f}"}
    if field == "employees":
        return _("%(n)s 人") % {"n": value}
    return _("%(n)s 千瓦时") % {"n": f"{Decimal(value):,.0f}"}


def plausibility_flags(
    values: dict[str, Any], last_year: dict[str, Any] | None, bound: Decimal | None = None
) -> list[dict[str, str]]:
    """Why the figures look wrong, one {"field", "reason"} per finding; empty
    if nothing does. Pure (no database), so importers can preview it.

    - Negative output, revenue, tax, headcount or electricity cannot be right.
      A negative profit is an ordinary loss and is not flagged.
    - A profit larger than the revenue of the same period is flagged.
    - Year on year against the same period of last year: a rise beyond the
      bound (default +300%) or a fall below 1/(1+bound) of last year (default
      a quarter; a drop to zero included). Profit is compared only when both
      years made one: across a loss, or from near zero, its ratio means
      nothing. A figure with no (or zero) value last year has no baseline.
    """
    bound = bound if bound is not None else yoy_bound()
    flags: list[dict[str, str]] = []
    for field in OPERATING_FIELDS:
        value = values.get(field)
        if value is None or field == "profit":
            continue
        if value < 0:
            flags.append(
                {
                    "field": field,
                    "reason": _("%(label)s为负数（%(value)s）")
                    % {"label": OPERATING_LABELS[field], "value": _show(field, value)},
                }
            )
    profit, revenue = values.get("profit"), values.get("revenue")
    if profit is not None and revenue is not None and revenue >= 0 and profit > revenue:
        flags.append(
            {
                "field": "profit",
                "reason": _("利润总额（%(profit)s）高于同期营业收入（%(revenue)s）")
                % {"profit": _show("profit", profit), "revenue": _show("revenue", revenue)},
            }
        )
    if not last_year:
        return flags
    flagged = {f["field"] for f in flags}
    factor = 1 + bound
    for field in OPERATING_FIELDS:
        value, before = values.get(field), last_year.get(field)
        if value is None or before is None or field in flagged or before <= 0 or value < 0:
            continue
        if field == "profit" and value <= 0:
            continue
        ratio = Decimal(value) / Decimal(before)
        change = ((ratio - 1) * 100).quantize(Decimal("0.1"))
        figures = {
            "label": OPERATING_LABELS[field],
            "before": _show(field, before),
            "value": _show(field, value),
            "change": change,
            "limit": format((bound * 100).normalize(), "f"),
            "floor": format(factor.normalize(), "f"),
        }
        if ratio > factor:
            reason = (
                _(
                    "%(label)s比去年同期增长 %(change)s%%（去年同期 %(before)s，本期 %(value)s），"
                    "超过 %(limit)s%% 的合理范围"
                )
                % figures
            )
        elif ratio < 1 / factor:
            figures["change"] = -change
            reason = (
                _(
                    "%(label)s比去年同期下降 %(change)s%%（去年同期 %(before)s，本期 %(value)s），"
                    "不足去年同期的 1/%(floor)s"
                )
                % figures
            )
        else:
            continue
        flags.append({"field": field, "reason": reason})
    return flags


def _figures(record: OperatingRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {field: getattr(record, field) for field in OPERATING_FIELDS}


def _recheck(record: OperatingRecord, bound: Decimal) -> bool:
    """Derive flags and status from the figures; True if either changed. A
    confirmed record stays confirmed while its flags stay the same."""
    last = OperatingRecord.objects.filter(
        enterprise_id=record.enterprise_id,
        period_type=record.period_type,
        period_start=record.period_start.replace(year=record.period_start.year - 1),
    ).first()
    flags = plausibility_flags(_figures(record), _figures(last), bound)
    flags = json.loads(json.dumps(flags, ensure_ascii=False, default=str))
    before = (list(record.flags or []), record.review_status)
    if not flags:
        status = ReviewStatus.OK
    elif record.review_status == ReviewStatus.CONFIRMED and flags == before[0]:
        status = ReviewStatus.CONFIRMED
    else:
        status = ReviewStatus.FLAGGED
    record.flags, record.review_status = flags, status
    return (flags, status) != before


def can_enter_operating_data(actor, enterprise: Enterprise) -> bool:
    return can_edit_enterprise(actor, enterprise)


def record_operating_data(
    actor,
    enterprise: Enterprise,
    period: Any,
    values: dict[str, Any],
    *,
    period_type: str | None = None,
    note: str = "",
) -> OperatingRecord:
    """Enter (or update) one period's figures for an enterprise and return the
    row with its plausibility flags and review status. Implausible figures are
    stored and flagged for review, never refused or silently accepted. The
    same period's record a year later is re-checked too (its baseline moved).

    `period`: "2025-03", "2025Q1", a date or a Period; `values`: the keys of
    OPERATING_INPUT that are given (amounts in 万元, or text with a unit)."""
    if not can_enter_operating_data(actor, enterprise):
        raise NotAllowed(_("无权填报该企业的经营数据"))
    errors: list[FieldError] = []
    try:
        when = parse_period(period, period_type)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
        when = None
    try:
        figures = clean_operating_values(values)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
        figures = {}
    if errors:
        raise ValidationFailed(errors)
    bound = yoy_bound()
    reviewer = scope_of(actor).kind in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM)
    with transaction.atomic():
        Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        record, created = OperatingRecord.objects.get_or_create(
            enterprise=enterprise,
            period_type=when.period_type,
            period_start=when.start,
            defaults={"entered_by": actor},
        )
        before = _figures(record) if not created else {}
        for field, value in figures.items():
            setattr(record, field, value)
        after = _figures(record)
        changes = audit.diff(before or {}, after)
        if not created and not changes:
            return record
        # Sent once after commit with every enterprise of the transaction (an
        # import of many rows tells the risk app once).
        registry_signals.operating_data_changed.send_after_commit([enterprise.pk])
        previous_status = record.review_status
        record.entered_by = actor
        _recheck(record, bound)
        if reviewer and not created:
            record.reviewed_by = actor
            record.reviewed_at = timezone.now()
            if note:
                record.review_note = " ".join(note.split())[:500]
        record.save()
        audit.record(
            "operating.create" if created else "operating.update",
            actor=actor,
            obj=record,
            changes={
                "period": when.code,
                **changes,
                "review_status": [None if created else previous_status, record.review_status],
                "flags": [f["field"] for f in record.flags],
            },
        )
        following = OperatingRecord.objects.filter(
            enterprise=enterprise,
            period_type=when.period_type,
            period_start=when.year_after().start,
        ).first()
        if following is not None and _recheck(following, bound):
            following.save(update_fields=["flags", "review_status", "updated_at"])
    return record


#: The name the import helper and the brief use.
upsert_operating_data = record_operating_data


def confirm_operating_record(actor, record: OperatingRecord, *, note: str = "") -> OperatingRecord:
    """A reviewer has checked flagged figures with the enterprise: they stand."""
    errors: list[FieldError] = []
    text = _text({"note": note}, "note", errors, 500, required=True)
    if errors:
        raise ValidationFailed(errors, message=_("核实时须填写核实意见"))
    return apply_transition(
        OPERATING_REVIEW,
        record,
        "confirm",
        actor,
        changes={"review_note": text, "reviewed_by": actor, "reviewed_at": timezone.now()},
    )


def correct_operating_record(
    actor, record: OperatingRecord, values: dict[str, Any], *, note: str
) -> OperatingRecord:
    """A reviewer replaces wrong figures (after checking with the enterprise);
    the flags are derived again from the corrected figures."""
    if not can_review_operating_data(actor, record):
        raise NotAllowed(_("只有政府审核人员可以更正经营数据"))
    errors: list[FieldError] = []
    text = _text({"note": note}, "note", errors, 500, required=True)
    if errors:
        raise ValidationFailed(errors, message=_("更正时须填写核实意见"))
    return record_operating_data(
        actor,
        record.enterprise,
        Period(record.period_type, record.period_start),
        values,
        note=text,
    )


def get_visible_operating_record(actor, enterprise: Enterprise, pk: int) -> OperatingRecord:
    found = OperatingRecord.objects.visible_to(actor).filter(enterprise=enterprise, pk=pk).first()
    if found is None:
        raise NotFound(_("经营数据不存在"))
    return found


def operating_chart_option(records: list[OperatingRecord]) -> dict[str, Any]:
    """An ECharts option for one enterprise's figures (one period type):
    amounts in 万元 on the left axis, electricity (万千瓦时) on the right;
    flagged points drawn in red."""
    flagged_colour = "#d4380d"

    def point(record, value, scale):
        if value is None:
            return None
        number = round(float(Decimal(value) / scale), 2)
        if record.review_status == ReviewStatus.FLAGGED:
            return {"value": number, "itemStyle": {"color": flagged_colour}}
        return number

    periods = [r.period_code for r in records]
    series = [
        {
            "name": str(_("工业总产值")),
            "type": "bar",
            "data": [point(r, r.output_value, WAN) for r in records],
        },
        *[
            {
                "name": str(OPERATING_LABELS[field]),
                "type": "line",
                "data": [point(r, getattr(r, field), WAN) for r in records],
            }
            for field in ("revenue", "profit", "tax_paid")
        ],
        {
            "name": str(_("用电量（万千瓦时）")),
            "type": "line",
            "yAxisIndex": 1,
            "lineStyle": {"type": "dashed"},
            "data": [point(r, r.electricity_kwh, WAN) for r in records],
        },
    ]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 60, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": periods},
        "yAxis": [
            {"type": "value", "name": str(_("万元"))},
            {"type": "value", "name": str(_("万千瓦时"))},
        ],
        "series": series,
    }
