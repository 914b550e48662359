"""Helpers for the import tests: workbooks and CSV files built in memory."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

import openpyxl
import pytest

from chanrong.core.codes import make_uscc


def uscc(serial: int, region: str = "330421") -> str:
    return make_uscc(f"91{region}{serial:09d}"[:17])


def xlsx(rows: Iterable[Sequence[Any]], *, merges: Sequence[str] = (), start: str = "A1") -> bytes:
    """A workbook whose first sheet holds `rows` from `start`; `merges` as "A1:C1"."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    first = openpyxl.utils.cell.coordinate_from_string(start)
    col0 = openpyxl.utils.column_index_from_string(first[0])
    for r, values in enumerate(rows, start=first[1]):
        for c, value in enumerate(values, start=col0):
            if value is not None:
                sheet.cell(row=r, column=c, value=value)
    for ref in merges:
        sheet.merge_cells(ref)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: Iterable[Sequence[Any]], encoding: str = "utf-8-sig") -> bytes:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode(encoding)


HEADER = [
    "统一社会信用代码",
    "企业名称",
    "所在地区代码",
    "行业代码",
    "从业人员（人）",
    "营业收入（万元）",
]


def enterprise_row(serial: int, name: str | None = None, **overrides) -> list[Any]:
    values = {
        "uscc": uscc(serial),
        "name": name or f"嘉善导入测试{serial}号有限公司",
        "region": "330421",
        "industry": "C39",
        "employees": 50 + serial,
        "revenue": 1000 + serial,
    }
    values.update(overrides)
    return list(values.values())


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default"],
        }
    }
