"""Indicator values as dashboards and completion tables read them: a
region subtree's reports loaded once (`FigureBook`) and rolled up over the
region tree, summed over a period for a 时期指标 and taken at the period's
end for a 时点指标, or read from a platform source; growth against the same
period a year before; and a plan's completion against its targets.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Region
from chanrong.core.money import YI

from .. import aggregate
from ..models import (
    CATEGORY_ORDER,
    IndicatorActual,
    IndicatorDefinition,
    IndicatorPlan,
    IndicatorTarget,
    Kind,
    SecondKind,
)
from ..sources import get_source
from .definitions import has_computed_second, is_computed, source_keys
from .values import format_number


def _children_map(prefix: str) -> dict[str, list[str]]:
    children: dict[str, list[str]] = defaultdict(list)
    qs = Region.objects.filter(code__startswith=prefix) if prefix else Region.objects.all()
    for code, parent_id in qs.values_list("code", "parent_id"):
        if parent_id:
            children[parent_id].append(code)
    return children


@dataclass(frozen=True)
class Actual:
    value: Decimal | None
    second: Decimal | None  # growth (%) or second measure
    complete: bool = True
    computed: bool = False  # from a platform source
    note: str = ""


class LiveSources:
    """Asks each computed source itself (`source.fn`): the live computation.
    `services.snapshots` gives a reader with the same `value` that answers
    from a kept snapshot instead."""

    def value(self, key: str, prefix: str, start: date | None, end: date):
        source = get_source(key)
        return None if source is None else source.fn(prefix, start, end)


LIVE = LiveSources()


def _one_source(key: str, kind: str, unit: str, prefix: str, start: date, end: date, sources=LIVE):
    source = get_source(key)
    if source is None:
        return None
    value = sources.value(key, prefix, None if kind == Kind.STOCK else start, end)
    if value is None:
        return None
    value = Decimal(value)
    if source.money and unit == "亿元":
        value = value / YI
    return value


def _source_value(
    definition: IndicatorDefinition, region: Region, start: date, end: date, sources=LIVE
):
    """The main figure: the source's value, plus each added source's (a part
    with no figure counts as none; all parts none: no figure)."""
    parts = [
        _one_source(key, definition.kind, definition.unit, region.prefix, start, end, sources)
        for key in source_keys(definition)
    ]
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return sum(present, Decimal(0))


def _second_source_value(
    definition: IndicatorDefinition, region: Region, start: date, end: date, sources=LIVE
):
    return _one_source(
        definition.second_source,
        definition.kind,
        definition.second_unit,
        region.prefix,
        start,
        end,
        sources,
    )


class FigureBook:
    """Reported figures of one region subtree loaded once, then asked many
    questions (every indicator × year of a plan) without further queries.
    Computed figures are asked of `sources` (default: the sources themselves;
    a snapshot's reader answers from kept figures)."""

    def __init__(
        self,
        region: Region,
        definitions: list[IndicatorDefinition] | None = None,
        *,
        sources=LIVE,
    ):
        self.region = region
        self.sources = sources
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
        if is_computed(definition):
            second = None
            if has_computed_second(definition):
                second = _second_source_value(definition, self.region, start, end, self.sources)
            elif definition.second_kind == SecondKind.MEASURE:
                reported = self._reported(definition, start, end)
                second = reported.second if reported is not None else None
            value = _source_value(definition, self.region, start, end, self.sources)
            return value, second, True, True
        figure = self._reported(definition, start, end)
        if figure is None:
            return None, None, True, False
        return figure.value, figure.second, figure.complete, False

    def _reported(self, definition: IndicatorDefinition, start: date, end: date):
        return aggregate.figure_for(
            self.reports.get(definition.pk, {}),
            self.region.code,
            self.children,
            kind=definition.kind,
            rate=definition.is_rate,
            start=start,
            end=end,
        )

    def reported(self, definition: IndicatorDefinition, start: date, end: date):
        """The reported figure only (for a computed indicator: the figure kept
        for comparison), ignoring any source."""
        return self._reported(definition, start, end)

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


@dataclass(frozen=True)
class ReportSource:
    """Where the reported figure of a year comes from: the plan region's own
    latest report in the year (the one a 时点 figure is read from, the last
    month of a 时期 sum), as its reporter wrote it down."""

    body: str
    document: str
    day: date | None
    reporter: str
    period_end: date

    @property
    def text(self) -> str:
        parts = [p for p in (self.body, self.document) if p]
        if self.day:
            parts.append(_("报送 %(day)s") % {"day": self.day.isoformat()})
        if self.reporter:
            parts.append(_("填报人 %(user)s") % {"user": self.reporter})
        return "，".join(parts)


def report_sources(
    region: Region, definitions: list[IndicatorDefinition], start: date, end: date
) -> dict[int, ReportSource]:
    """{definition id: ReportSource} of the region's own reports ending in
    [start, end] (the latest per indicator), in one query; figures rolled up
    from lower regions only have no source of their own here."""
    found: dict[int, ReportSource] = {}
    for did, body, document, day, username, period_end in (
        IndicatorActual.objects.filter(
            region=region,
            definition__in=definitions,
            period_end__gte=start,
            period_end__lte=end,
        )
        .order_by("period_end", "reported_at", "pk")
        .values_list(
            "definition_id",
            "source_body",
            "source_document",
            "source_date",
            "reported_by__username",
            "period_end",
        )
    ):
        found[did] = ReportSource(body, document, day, username or "", period_end)
    return found


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
    source: ReportSource | None = None  # where a reported figure comes from

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


def completion(
    plan: IndicatorPlan, year: int, *, today: date | None = None, sources=LIVE
) -> list[CompletionRow]:
    """Each indicator of the plan against its target for `year`. A year not
    yet over is compared year-to-date and marked in_progress unless already met.
    Computed figures come from `sources` (default: computed now; see
    services.snapshots for the kept ones, read with `today` = their date)."""
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
    book = FigureBook(plan.region, definitions, sources=sources)
    reported_from = report_sources(
        plan.region, [d for d in definitions if not is_computed(d)], start, end
    )
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
                source=None if result.computed else reported_from.get(d.pk),
            )
        )
    return rows


AGGREGATIONS = ("sum", "end")


def aggregate_over_time(
    definition: IndicatorDefinition, region: Region, start: date, end: date, how: str = "end"
) -> Actual:
    """The indicator over [start, end]: `how="sum"` adds a 时期 indicator over
    the span (a 时点 one is refused: a level is never summed over time);
    `how="end"` is the ordinary reading (flow over the span, level at end)."""
    if how not in AGGREGATIONS:
        raise ValidationFailed({"aggregate": _("汇总方式应为 sum 或 end")})
    if how == "sum" and definition.kind == Kind.STOCK:
        raise ValidationFailed(
            {
                "aggregate": _("%(name)s 是时点指标，不能跨期累加；请取期末值")
                % {"name": definition.name}
            }
        )
    if how == "sum" and definition.unit == "%":
        raise ValidationFailed({"aggregate": _("比率指标不能累加")})
    return indicator_value(definition, region, start, end)
