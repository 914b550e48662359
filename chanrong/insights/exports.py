"""The 定量指标统计表 as .xlsx, laid out like the attachment of an 实施方案
(seed 004): a title row; a header row with 定量指标, 指标类型 and one
two-column group per year; the category written once in a cell merged down
its rows; compound indicators (金额及增速, two measures) use both columns of
each year, single-value indicators a merged year group.
"""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from .models import IndicatorPlan
from .services import plan_table
from .tables import KIND_NAMES

FIRST_YEAR_COLUMN = 4  # A category, B 定量指标, C 指标类型, then two per year

_thin = Side(style="thin", color="000000")
_BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)


def _number(text: str):
    """The cell value and its number format: numbers stay numbers (so the sheet
    can be summed) yet print with the places of the approved document."""
    if text == "":
        return None, None
    value = Decimal(text)
    places = max(0, -int(value.as_tuple().exponent))  # type: ignore[arg-type]
    number_format = "0" if places == 0 else "0." + "0" * places
    as_number = int(value) if places == 0 else float(value)
    return as_number, number_format


def plan_workbook(plan: IndicatorPlan) -> Workbook:
    rows = plan_table(plan)
    years = plan.years
    last_column = FIRST_YEAR_COLUMN + 2 * len(years) - 1
    wb = Workbook()
    ws = wb.active
    ws.title = "定量指标统计表"[:31]

    ws.cell(row=1, column=1, value=plan.title).font = Font(bold=True, size=14)
    ws.cell(row=1, column=1).alignment = _CENTER
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_column)

    header = {1: "", 2: "定量指标", 3: "指标类型"}
    for column, text in header.items():
        cell = ws.cell(row=2, column=column, value=text or None)
        cell.font = Font(bold=True)
    for i, year in enumerate(years):
        column = FIRST_YEAR_COLUMN + 2 * i
        ws.cell(row=2, column=column, value=f"{year} 年").font = Font(bold=True)
        ws.merge_cells(start_row=2, start_column=column, end_row=2, end_column=column + 1)

    row_index = 3
    group_start = row_index
    for n, row in enumerate(rows):
        ws.cell(row=row_index, column=1, value=row.category)
        ws.cell(row=row_index, column=2, value=row.name)
        # The document's own words (as the headers), not the user's language.
        ws.cell(row=row_index, column=3, value=KIND_NAMES[row.definition.kind])
        for i, cell in enumerate(row.cells):
            column = FIRST_YEAR_COLUMN + 2 * i
            value, fmt = _number(cell.value)
            target = ws.cell(row=row_index, column=column, value=value)
            if fmt:
                target.number_format = fmt
            if row.definition.has_second:
                second, fmt2 = _number(cell.second)
                extra = ws.cell(row=row_index, column=column + 1, value=second)
                if fmt2:
                    extra.number_format = fmt2
            else:
                ws.merge_cells(
                    start_row=row_index,
                    start_column=column,
                    end_row=row_index,
                    end_column=column + 1,
                )
        last_of_group = n + 1 == len(rows) or rows[n + 1].category != row.category
        if last_of_group:
            if row_index > group_start:
                ws.merge_cells(
                    start_row=group_start, start_column=1, end_row=row_index, end_column=1
                )
            group_start = row_index + 1
        row_index += 1

    for r in ws.iter_rows(min_row=2, max_row=row_index - 1, max_col=last_column):
        for cell in r:
            cell.border = _BORDER
            cell.alignment = _LEFT if cell.column == 2 else _CENTER
    ws.column_dimensions["A"].width = 10
    ws.column_dimensions["B"].width = 46
    ws.column_dimensions["C"].width = 11
    for column in range(FIRST_YEAR_COLUMN, last_column + 1):
        ws.column_dimensions[get_column_letter(column)].width = 9
    ws.freeze_panes = "D3"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0
    return wb


def plan_xlsx(plan: IndicatorPlan) -> bytes:
    buffer = io.BytesIO()
    plan_workbook(plan).save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------
# 定量指标统计表: actuals beside targets

COMPUTED_FONT = Font(color="1F4E9A", italic=True)
STAT_SHEET = "定量指标统计表"


def statistics_workbook(plan: IndicatorPlan, *, today=None) -> Workbook:
    """The plan's table with, per year, 目标 and 实际 side by side (each two
    columns wide: value and growth / second measure, merged for a
    single-value indicator), then 实际值来源 and 指标口径. Computed actuals
    are printed in blue italics with a comment "平台计算"; a year not yet over
    shows the figure so far."""
    from openpyxl.comments import Comment

    from .services import completion
    from .services.definitions import is_computed

    rows = plan_table(plan)
    years = plan.years
    per_year = {
        year: {r.definition.pk: r for r in completion(plan, year, today=today)} for year in years
    }
    source_column = FIRST_YEAR_COLUMN + 4 * len(years)
    definition_column = source_column + 1
    wb = Workbook()
    ws = wb.active
    ws.title = STAT_SHEET
    ws.cell(row=1, column=1, value=f"{plan.title}（目标与实际）").font = Font(bold=True, size=14)
    ws.cell(row=1, column=1).alignment = _CENTER
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=definition_column)
    for column, text in {
        2: "定量指标",
        3: "指标类型",
        source_column: "实际值来源",
        definition_column: "指标口径",
    }.items():
        ws.cell(row=2, column=column, value=text).font = Font(bold=True)
        ws.merge_cells(start_row=2, start_column=column, end_row=3, end_column=column)
    ws.merge_cells(start_row=2, start_column=1, end_row=3, end_column=1)
    for i, year in enumerate(years):
        column = FIRST_YEAR_COLUMN + 4 * i
        ws.cell(row=2, column=column, value=f"{year} 年").font = Font(bold=True)
        ws.merge_cells(start_row=2, start_column=column, end_row=2, end_column=column + 3)
        for offset, text in ((0, "目标"), (2, "实际")):
            ws.cell(row=3, column=column + offset, value=text).font = Font(bold=True)
            ws.merge_cells(
                start_row=3, start_column=column + offset, end_row=3, end_column=column + offset + 1
            )

    def put(row_index, column, text, *, computed=False):
        value, fmt = _number(text)
        cell = ws.cell(row=row_index, column=column, value=value)
        if fmt:
            cell.number_format = fmt
        if computed and value is not None:
            cell.font = COMPUTED_FONT
            cell.comment = Comment("平台计算", "chanrong")
        return cell

    row_index = 4
    group_start = row_index
    for n, row in enumerate(rows):
        d = row.definition
        computed = is_computed(d)
        ws.cell(row=row_index, column=1, value=row.category)
        ws.cell(row=row_index, column=2, value=row.name)
        ws.cell(row=row_index, column=3, value=KIND_NAMES[d.kind])
        for i, (year, cell) in enumerate(zip(years, row.cells, strict=True)):
            column = FIRST_YEAR_COLUMN + 4 * i
            done = per_year[year].get(d.pk)
            actual = done.actual_text if done else ""
            actual_second = done.actual_second_text if done else ""
            put(row_index, column, cell.value)
            put(row_index, column + 2, actual, computed=computed)
            if d.has_second:
                put(row_index, column + 1, cell.second)
                put(row_index, column + 3, actual_second, computed=computed)
            else:
                for start in (column, column + 2):
                    ws.merge_cells(
                        start_row=row_index,
                        start_column=start,
                        end_row=row_index,
                        end_column=start + 1,
                    )
        ws.cell(
            row=row_index,
            column=source_column,
            value="平台计算" if computed else _reported_sources(years, per_year, d.pk),
        )
        ws.cell(row=row_index, column=definition_column, value=d.definition)
        last_of_group = n + 1 == len(rows) or rows[n + 1].category != row.category
        if last_of_group:
            if row_index > group_start:
                ws.merge_cells(
                    start_row=group_start, start_column=1, end_row=row_index, end_column=1
                )
            group_start = row_index + 1
        row_index += 1
    for r in ws.iter_rows(min_row=2, max_row=row_index - 1, max_col=definition_column):
        for cell in r:
            cell.border = _BORDER
            cell.alignment = (
                _LEFT if cell.column in (2, source_column, definition_column) else _CENTER
            )
    ws.column_dimensions["A"].width = 10
    ws.column_dimensions["B"].width = 46
    ws.column_dimensions["C"].width = 11
    for column in range(FIRST_YEAR_COLUMN, source_column):
        ws.column_dimensions[get_column_letter(column)].width = 9
    ws.column_dimensions[get_column_letter(source_column)].width = 28
    ws.column_dimensions[get_column_letter(definition_column)].width = 60
    ws.freeze_panes = "D4"
    ws.print_title_rows = "1:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0
    return wb


def _reported_sources(years: list[int], per_year: dict, definition_id: int) -> str:
    """ "填报" and, per year that has one, the source of its figure (报送单位、
    文号、报送日期、填报人), one line each, in the 实际值来源 column."""
    lines = ["填报"]
    for year in years:
        done = per_year[year].get(definition_id)
        if done is not None and done.source is not None and done.source.text:
            lines.append(f"{year}：{done.source.text}")
    return "\n".join(lines)


def statistics_xlsx(plan: IndicatorPlan, *, today=None) -> bytes:
    buffer = io.BytesIO()
    statistics_workbook(plan, today=today).save(buffer)
    return buffer.getvalue()
