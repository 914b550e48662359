"""Evaluation of the pilots: each visible pilot's indicators against the
year's targets (via chanrong.insights.services.completion), lagging ones
first, and the same as an .xlsx export."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from chanrong.core import audit
from chanrong.core.errors import NotFound
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.insights import services as insights_services

from ..models import Application, Batch, ProgressReport, ReportState
from .common import today
from .publication import pilots_of


@dataclass
class LagRow:
    application: Application
    year: int
    rows: list[Any]  # insights.services.CompletionRow
    behind: list[Any]
    met: int
    reports: int

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
            )
        )
    out.sort(key=lambda r: (-len(r.behind), r.application.region_id))
    return out


def export_evaluation(actor, *, year: int | None = None, batch: Batch | None = None) -> bytes:
    """The evaluation summary as .xlsx (openpyxl): one sheet of pilots, one of
    every indicator's completion."""
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
    for sheet in (summary, detail):
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
