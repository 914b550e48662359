"""Evaluation of the pilots: each visible pilot's indicators against the
year's targets (via chanrong.insights.services.completion), lagging ones
first, and the same as an .xlsx export."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import NotFound
from chanrong.core.money import WAN, YI
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.insights import services as insights_services
from chanrong.insights.received import INDICATOR_ACTUALS, ReceivedTotal, received_figures, totals
from chanrong.insights.services.definitions import source_keys
from chanrong.insights.services.values import format_number
from chanrong.insights.sources import registered

from ..models import Application, Batch, ProgressReport, ReportState
from .common import today

if TYPE_CHECKING:
    from openpyxl import Workbook
from .publication import pilots_of


@dataclass
class ReceivedBeside:
    """A figure the pilot city's own platform reported (互联互通), shown beside
    the indicator this deployment computes itself, never in place of it."""

    label: str  # the plan's indicator it corresponds to, else the reported label
    value_text: str
    unit: str
    own_text: str  # this deployment's actual for that indicator ("—": none)
    total: ReceivedTotal


@dataclass
class LagRow:
    application: Application
    year: int
    rows: list[Any]  # insights.services.CompletionRow
    behind: list[Any]
    met: int
    reports: int
    received: list[ReceivedBeside] = field(default_factory=list)

    @property
    def lagging(self) -> bool:
        return bool(self.behind)


def evaluation_year_for(application: Application, year: int | None) -> int:
    """The year to evaluate: the one asked for, clamped into the period."""
    start = application.start_year or today().year
    end = application.end_year or start
    year = year or today().year
    return min(max(year, start), end)


def lagging(actor, *, year: int | None = None, batch: Batch | None = None) -> list[LagRow]:
    """For each visible pilot city, its indicators against the year's target
    (via chanrong.insights.services.completion): which are behind."""
    if scope_of(actor).kind not in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        raise NotFound(_("未找到"))
    out: list[LagRow] = []
    report_counts = dict(
        ProgressReport.objects.filter(state=ReportState.SUBMITTED)
        .values("application")
        .annotate(n=Count("pk"))
        .values_list("application", "n")
    )
    for application in pilots_of(actor):
        if batch is not None and application.batch_id != batch.pk:
            continue
        the_year = evaluation_year_for(application, year)
        rows = (
            insights_services.completion(application.indicator_plan, the_year)
            if application.indicator_plan is not None
            else []
        )
        behind = [r for r in rows if r.status == "behind"]
        out.append(
            LagRow(
                application=application,
                year=the_year,
                rows=rows,
                behind=behind,
                met=sum(1 for r in rows if r.status == "met"),
                reports=report_counts.get(application.pk, 0),
                received=received_beside(actor, application, the_year, rows),
            )
        )
    out.sort(key=lambda r: (-len(r.behind), r.application.region_id))
    return out


def received_beside(actor, application: Application, year: int, rows) -> list[ReceivedBeside]:
    """The year's indicator actuals the pilot's own deployment reported (the
    months received: flows added up, levels at the last month), matched to
    the plan's indicator computed from the same source where there is one."""
    figures = received_figures(
        actor,
        application.region.prefix,
        kind=INDICATOR_ACTUALS,
        period_from=f"{year}-01",
        period_to=f"{year}-12",
    )
    if not figures:
        return []
    sources = registered()
    stock = {key for key, source in sources.items() if source.kind == "stock"}
    by_key = {}
    for row in rows:
        keys = source_keys(row.definition)
        if len(keys) == 1:
            by_key.setdefault(keys[0], row)
    out = []
    for total in totals(figures, stock_keys=stock):
        row = by_key.get(total.key)
        if row is not None:
            unit = row.definition.unit
            value = total.value / YI if total.unit == "元" and unit == "亿元" else total.value
            value = value / WAN if total.unit == "元" and unit == "万元" else value
            label, own = row.definition.name, row.actual_text or "—"
        else:
            unit = "万元" if total.unit == "元" else total.unit
            value = total.value / WAN if total.unit == "元" else total.value
            label, own = total.label, "—"
        out.append(ReceivedBeside(label, format_number(value), unit, own, total))
    return out


def _received_sheet(book: Workbook, rows: list[LagRow]):
    received = book.create_sheet("下级平台报送")
    received.append(
        [
            "试点城市（区）",
            "评估年度",
            "指标",
            "报送值",
            "单位",
            "本平台数据",
            "报告期",
            "来源平台",
            "批次",
            "接收日期",
        ]
    )
    for row in rows:
        for item in row.received:
            latest = item.total.latest
            received.append(
                [
                    row.application.region.name,
                    row.year,
                    item.label,
                    item.value_text,
                    item.unit,
                    item.own_text,
                    item.total.period_text,
                    item.total.source_name,
                    f"#{latest.batch_sequence} {latest.batch_id}" if latest else "",
                    timezone.localdate(latest.received_at).isoformat() if latest else "",
                ]
            )
    return received


def export_evaluation(actor, *, year: int | None = None, batch: Batch | None = None) -> bytes:
    """The evaluation summary as .xlsx (openpyxl): one sheet of pilots, one of
    every indicator's completion."""
    from openpyxl import Workbook  # at use: not in every process's URLconf
    from openpyxl.styles import Font

    rows = lagging(actor, year=year, batch=batch)
    book = Workbook()
    summary = book.active
    summary.title = "试点评估汇总"
    header = [
        "批次",
        "试点城市（区）",
        "推荐单位",
        "实施期",
        "评估年度",
        "指标数",
        "已完成",
        "未完成",
        "已报送进展报告",
        "未完成指标",
    ]
    summary.append(header)
    for row in rows:
        a = row.application
        summary.append(
            [
                a.batch.name,
                a.region.name,
                a.review_region.name,
                a.period_label,
                row.year,
                len(row.rows),
                row.met,
                len(row.behind),
                row.reports,
                "；".join(r.definition.name for r in row.behind),
            ]
        )
    detail = book.create_sheet("指标完成情况")
    detail.append(
        ["试点城市（区）", "评估年度", "指标", "指标类型", "目标值", "实际值", "完成率", "状态"]
    )
    labels = getattr(insights_services, "STATUS_LABELS", {})
    for row in rows:
        for r in row.rows:
            detail.append(
                [
                    row.application.region.name,
                    row.year,
                    r.definition.name,
                    str(r.definition.get_kind_display()),
                    r.target_text,
                    r.actual_text,
                    r.percent,
                    str(labels.get(r.status, r.status)),
                ]
            )
    sheets = [summary, detail]
    if any(row.received for row in rows):
        # Figures the pilots' own platforms reported (互联互通), beside ours.
        sheets.append(_received_sheet(book, rows))
    for sheet in sheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width * 2))
    buffer = io.BytesIO()
    book.save(buffer)
    audit.record(
        "pilots.evaluation.export",
        actor=actor,
        changes={"year": year, "batch": batch.pk if batch else None, "pilots": len(rows)},
    )
    return buffer.getvalue()
