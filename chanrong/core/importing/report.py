"""The validation report and the blank template, as .xlsx (xlsxwriter).

The report lists every finding by Excel row number (as the user sees it in
the file) and column (letter and the header as written), so a clerk can go
straight to the cell. The template has the Chinese headers on the first
sheet (text-formatted where Excel would mangle codes, drop-downs for fixed
choices) and a 填写说明 sheet saying for each column whether it is
required, its format and an example.
"""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .cells import Boolean, Choice, Code, Text, Uscc
from .spec import ImportSpec

REPORT_HEADERS = (
    (gettext_noop("行号"), 8),
    (gettext_noop("列"), 6),
    (gettext_noop("列名"), 22),
    (gettext_noop("单元格内容"), 28),
    (gettext_noop("问题"), 70),
    (gettext_noop("级别"), 8),
)


def report_workbook(job, spec: ImportSpec | None) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    bold = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    text = workbook.add_format({"num_format": "@", "valign": "top"})
    error_fmt = workbook.add_format({"font_color": "#C00000", "valign": "top"})

    sheet = workbook.add_worksheet(_("问题清单"))
    for col, (header, width) in enumerate(REPORT_HEADERS):
        sheet.write_string(0, col, _(header), bold)
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    row = 1
    for issue in job.issues:
        if issue.get("row") is None:
            sheet.write_string(row, 0, _("整个文件"), wrap)
        else:
            sheet.write_number(row, 0, issue["row"])
        sheet.write_string(row, 1, issue.get("column", ""))
        sheet.write_string(row, 2, issue.get("header", ""), wrap)
        sheet.write_string(row, 3, issue.get("value", ""), text)
        sheet.write_string(row, 4, issue.get("message", ""), wrap)
        level = issue.get("level", "error")
        sheet.write_string(
            row,
            5,
            _("错误") if level == "error" else _("提示"),
            error_fmt if level == "error" else wrap,
        )
        row += 1
    if row > 1:
        sheet.autofilter(0, 0, row - 1, len(REPORT_HEADERS) - 1)
    if job.issue_count > len(job.issues):
        sheet.write_string(
            row + 1,
            0,
            _("共 %(total)d 条问题，此处列出前 %(shown)d 条；请修正后重新导入以查看其余问题")
            % {"total": job.issue_count, "shown": len(job.issues)},
        )

    summary = workbook.add_worksheet(_("概况"))
    summary.set_column(0, 0, 16)
    summary.set_column(1, 1, 60)
    facts: list[tuple[str, Any]] = [
        (_("文件"), job.filename),
        (_("导入类型"), str(spec.label) if spec else job.kind),
        (_("导入方式"), job.get_mode_display()),
        (_("状态"), job.get_status_display()),
        (_("说明"), job.message),
        (_("数据行数"), job.total_rows),
        (_("无误行数"), job.valid_rows),
        (_("有误行数"), job.error_rows),
        (_("新增"), job.created_count),
        (_("更新"), job.updated_count),
        (_("上传时间"), timezone.localtime(job.created_at).strftime("%Y-%m-%d %H:%M:%S")),
        (_("文件 SHA-256"), job.sha256),
    ]
    for i, (label, value) in enumerate(facts):
        summary.write_string(i, 0, label, bold)
        if isinstance(value, int):
            summary.write_number(i, 1, value)
        else:
            summary.write_string(i, 1, str(value or ""), wrap)
    workbook.close()
    return buffer.getvalue()


def template_workbook(spec: ImportSpec) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    header = workbook.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
    )
    required_header = workbook.add_format(
        {
            "bold": True,
            "bg_color": "#FCE4D6",
            "border": 1,
            "text_wrap": True,
            "valign": "vcenter",
            "font_color": "#C00000",
        }
    )
    text_cells = workbook.add_format({"num_format": "@"})
    bold = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})

    data = workbook.add_worksheet(str(spec.label)[:31])
    lists = workbook.add_worksheet("_choices")
    lists.hide()
    data.set_row(0, 30)
    data.freeze_panes(1, 0)
    list_col = 0
    for col, column in enumerate(spec.columns):
        fmt = required_header if column.required else header
        data.write_string(0, col, column.header, fmt)
        as_text = isinstance(column.parser, Uscc | Code | Text)
        data.set_column(col, col, column.width, text_cells if as_text else None)
        options = _options(column.parser)
        if options:
            for i, option in enumerate(options):
                lists.write_string(i, list_col, option)
            ref = xlsxwriter.utility.xl_range_abs(0, list_col, len(options) - 1, list_col)
            data.data_validation(
                1,
                col,
                10000,
                col,
                {
                    "validate": "list",
                    "source": f"=_choices!{ref}",
                    "error_type": "warning",
                    "error_message": _("请从下拉列表中选择"),
                },
            )
            list_col += 1

    guide = workbook.add_worksheet(_("填写说明"))
    titles = (
        (_("列名"), 22),
        (_("是否必填"), 14),
        (_("格式"), 44),
        (_("示例"), 26),
        (_("说明"), 44),
    )
    for col, (title, width) in enumerate(titles):
        guide.write_string(0, col, title, bold)
        guide.set_column(col, col, width)
    for row, column in enumerate(spec.columns, start=1):
        guide.write_string(row, 0, column.header, wrap)
        guide.write_string(row, 1, _("必填") if column.required else _("选填"), wrap)
        guide.write_string(row, 2, str(column.parser.describe()), wrap)
        guide.write_string(row, 3, column.example, wrap)
        aliases = "、".join(column.aliases)
        note = str(column.help or "")
        if aliases:
            note = (note + "\n" if note else "") + _("也可用表头：%(aliases)s") % {
                "aliases": aliases
            }
        guide.write_string(row, 4, note, wrap)
    row = len(spec.columns) + 2
    guide.write_string(row, 0, _("注意事项"), bold)
    general = (
        _(
            "第 1 行为表头，从第 2 行起每行一条记录；表头上方可以有标题行，表头可以是两行（合并单元格）。"
        ),
        _(
            "金额可以写纯数字（按表头中的单位），也可以写“350万元”“1.2亿元”；全角数字和多余空格会自动处理。"
        ),
        _("日期可以写 2023-01-05、2023/1/5、2023年1月5日 或 20230105。"),
        _(
            "代码类列（统一社会信用代码、行政区划代码等）请设为“文本”格式，避免 Excel 把长数字改成科学计数法。"
        ),
        _(
            "默认“全部无误才导入”：只要有一处错误就不导入任何数据，并给出按行、按列的校验报告；也可以选择“仅导入无误的行”。"
        ),
        _("支持 .xlsx 和 .csv（UTF-8 或 GBK 编码）文件。"),
    )
    for i, line in enumerate((*general, *(str(n) for n in spec.notes)), start=row + 1):
        guide.write_string(i, 0, f"{i - row}. {line}")
    workbook.close()
    return buffer.getvalue()


def _options(parser) -> list[str]:
    if isinstance(parser, Choice):
        return [str(label) for _value, label in parser.choices]
    if isinstance(parser, Boolean):
        return ["是", "否"]
    return []
