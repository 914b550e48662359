"""Tables to .xlsx without holding them in memory.

xlsxwriter in constant_memory mode writes each row to a temporary file as
it goes and flushes it when the next row starts, so the memory used does
not grow with the number of rows: a 100,000-row export stays at a few MB.
Rows come from a queryset's `.iterator()`, so the database side streams
too. The result is a temporary file, handed to FileResponse, which sends
it in chunks and deletes it when done.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

# --- the exports apps offer --------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    """A table an app offers for download at `/exports/<kind>/` (`core:export`).

    `build(user, params)` applies the same visibility and filters as the page
    the link sits on and returns (open .xlsx file, rows written); `label`
    names the file. Apps register theirs in their `imports` module (the same
    module that registers their import specs), so the kernel's download view
    knows no app."""

    kind: str
    label: Any
    build: Callable[[Any, Any], tuple[Any, int]]
    #: Headers of the columns that hold personal information (个人信息: names
    #: of people, phone numbers, e-mail addresses …). Any: the download needs a
    #: stated purpose and is capped by role (core.export_policy).
    personal_fields: tuple[str, ...] = ()


_EXPORTS: dict[str, Export] = {}
_discovered = False


def register_export(export: Export) -> Export:
    _EXPORTS[export.kind] = export
    return export


def get_export(kind: str) -> Export | None:
    global _discovered
    if not _discovered:
        autodiscover_modules("imports")
        _discovered = True
    return _EXPORTS.get(kind)


#: Excel's last row is 1,048,576; the header takes one.
MAX_ROWS = 1_048_575

#: The most rows the current export may write (core.export_policy sets it
#: for exports of personal data); None: no cap but Excel's.
_row_limit: ContextVar[int | None] = ContextVar("export_row_limit", default=None)


class ExportTooLarge(Exception):
    """More rows than the current `row_limit` allows: refuse, never truncate."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


@contextmanager
def row_limit(limit: int) -> Iterator[None]:
    """Within the block, `write_xlsx` raises ExportTooLarge (and writes no
    file) as soon as the rows exceed `limit`."""
    token = _row_limit.set(limit)
    try:
        yield
    finally:
        _row_limit.reset(token)


@dataclass(frozen=True)
class ExportColumn:
    header: str
    value: Callable[[Any], Any]  # the row (whatever the iterable yields) -> cell value
    width: int = 14
    kind: str = "text"  # text | number | amount | date | integer


def write_xlsx(
    columns: Sequence[ExportColumn],
    rows: Iterable[Any],
    *,
    sheet_name: str = "Sheet1",
    title_note: str = "",
) -> tuple[Any, int]:
    """Write rows into a temporary .xlsx; returns (open binary file at 0, rows written).
    Rows beyond Excel's limit are left out and said so in a last line."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (returned open; FileResponse closes it)
    workbook = xlsxwriter.Workbook(
        handle,
        {
            "constant_memory": True,
            "tmpdir": tempfile.gettempdir(),
            "strings_to_numbers": False,
            "strings_to_formulas": False,  # a cell "=cmd|..." stays text (CSV/formula injection)
            "strings_to_urls": False,
        },
    )
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    formats = {
        "text": workbook.add_format({"num_format": "@"}),
        "amount": workbook.add_format({"num_format": "#,##0.00####"}),
        "number": workbook.add_format({"num_format": "General"}),
        "integer": workbook.add_format({"num_format": "0"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
    }
    sheet = workbook.add_worksheet(sheet_name[:31])
    for col, column in enumerate(columns):
        sheet.set_column(col, col, column.width)
        sheet.write_string(0, col, column.header, header)
    sheet.freeze_panes(1, 0)
    written = 0
    truncated = False
    limit = _row_limit.get()
    for item in rows:
        if limit is not None and written >= limit:
            workbook.close()
            handle.close()
            raise ExportTooLarge(limit)
        if written >= MAX_ROWS - 1:
            truncated = True
            break
        written += 1
        for col, column in enumerate(columns):
            _write(sheet, written, col, column.value(item), formats[column.kind])
    if truncated or title_note:
        note = title_note
        if truncated:
            note = _("超过 Excel 的行数上限，只导出了前 %(n)d 行；请缩小筛选范围") % {"n": written}
        sheet.write_string(written + 1, 0, note)
    workbook.close()
    handle.seek(0)
    return handle, written


def _write(sheet, row: int, col: int, value: Any, fmt) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        sheet.write_string(row, col, _("是") if value else _("否"))
    elif isinstance(value, Decimal | int | float):
        sheet.write_number(row, col, float(value), fmt)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, timezone.localtime(value).replace(tzinfo=None), fmt)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def export_filename(label: str) -> str:
    return f"{label}-{timezone.localtime().strftime('%Y%m%d-%H%M')}.xlsx"
