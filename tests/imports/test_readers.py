"""File type by content, encodings, merged headers, formulas."""

import io
import zipfile

import openpyxl
import pytest

from chanrong.core.importing.readers import FileRejected, open_sheet, sniff

from .conftest import csv_bytes, xlsx


def _zip(names):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "空"),
        (b"%PDF-1.7\n...", "PDF"),
        (b"\x89PNG\r\n\x1a\n....", "图片"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xls"),
        (_zip(["word/document.xml"]), "Word"),
        (_zip(["a.txt"]), "压缩包"),
        (b"PK\x03\x04 this is not really a zip", "损坏"),
        (bytes(range(256)) * 4, "不是电子表格"),
    ],
)
def test_not_a_spreadsheet_is_named(data, words):
    with pytest.raises(FileRejected) as exc:
        sniff(data)
    assert words in str(exc.value)


def test_csv_in_utf8_with_and_without_bom_and_in_gbk():
    rows = [["统一社会信用代码", "企业名称"], ["91330421MA2D00001A", "嘉善示例有限公司"]]
    for encoding in ("utf-8-sig", "utf-8", "gbk", "gb18030"):
        sheet = open_sheet(csv_bytes(rows, encoding))
        assert sheet.kind == "csv"
        assert [values for _n, values in sheet.rows] == rows, encoding


def test_xlsx_rows_keep_excel_row_numbers_and_columns():
    data = xlsx([["甲", None, "乙"], [], ["丙"]], start="B3")
    sheet = open_sheet(data)
    rows = [(n, v) for n, v in sheet.rows if any(x != "" for x in v)]
    assert rows[0][0] == 3 and rows[0][1][1:4] == ["甲", "", "乙"]
    assert rows[1][0] == 5 and rows[1][1][1] == "丙"


def test_merged_ranges_are_reported():
    data = xlsx(
        [["基本信息", None, "营业收入"], ["企业名称", "信用代码"]], merges=["A1:B1", "C1:C2"]
    )
    sheet = open_sheet(data)
    assert sorted(sheet.merged) == [(1, 0, 1, 1), (1, 2, 2, 2)]


def test_formula_without_cached_value_is_found():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"], sheet["B1"] = "从业人员", "营业收入"
    sheet["A2"], sheet["B2"] = "=10*12", 100  # openpyxl writes no cached value
    buffer = io.BytesIO()
    workbook.save(buffer)
    read = open_sheet(buffer.getvalue())
    assert read.formula_without_value == {(2, 0)}
