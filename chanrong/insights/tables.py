"""Reading a 定量指标表 as the plans print it (text extracted from the PDF,
tab-separated): one row per indicator, the category written only on the first
row of its group, then 指标类型, then two columns per year (value and, for
compound indicators, the growth rate or second measure).

Pure text in, plain rows out; services.import_plan_table turns rows into a
plan. The parser is strict about what it does not understand (an unknown
indicator or a 指标类型 that contradicts the catalogue is an error) and
lenient only about what PDF extraction is known to produce: blank lines,
repeated header rows at page breaks, and a stray copy of a data row with no
name (page 2 of 嘉善's table), which it sets aside in `artifacts`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .catalogue import STANDARD

DATA_DIR = Path(__file__).resolve().parent / "data"
JIASHAN_TABLE = DATA_DIR / "jiashan_2021_2023.txt"

KIND_LABELS = {"时期指标": "period", "时点指标": "stock"}
KIND_NAMES = {v: k for k, v in KIND_LABELS.items()}
_YEAR = re.compile(r"^(\d{4})\s*年$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class TableError(ValueError):
    def __init__(self, line: int, message: str):
        super().__init__(f"第 {line} 行：{message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class TableRow:
    category: str
    name: str
    kind_label: str  # 时期指标 / 时点指标, as printed
    cells: tuple[tuple[str, str], ...]  # per year: (value, second) as printed, "" = blank

    @property
    def code(self) -> str:
        return NAME_TO_CODE[self.name]


@dataclass
class ParsedTable:
    title: str = ""
    years: list[int] = field(default_factory=list)
    rows: list[TableRow] = field(default_factory=list)
    artifacts: list[tuple[int, str]] = field(default_factory=list)  # (line number, text)


NAME_TO_CODE = {e.name: e.code for e in STANDARD}


def _normalise_name(name: str) -> str:
    return name.strip()


def parse_table(text: str) -> ParsedTable:
    out = ParsedTable()
    category = ""
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) == 1:
            if "定量指标表" in fields[0] and not out.title:
                out.title = fields[0]
                continue
            raise TableError(lineno, f"无法识别的行：{fields[0][:40]}")
        if len(fields) > 1 and fields[1] == "定量指标":
            years = [int(m.group(1)) for f in fields[3:] if (m := _YEAR.match(f))]
            if not years:
                raise TableError(lineno, "表头缺少年份")
            if out.years and years != out.years:
                raise TableError(lineno, "各页表头的年份不一致")
            out.years = years
            continue
        if not out.years:
            raise TableError(lineno, "数据行出现在表头之前")
        width = 3 + 2 * len(out.years)
        fields = (fields + [""] * width)[:width] if len(fields) <= width else fields
        if len(fields) > width and any(fields[width:]):
            raise TableError(lineno, "列数多于表头")
        fields = fields[:width]
        if fields[0]:
            category = fields[0]
        name = _normalise_name(fields[1])
        if not name and not fields[2]:
            out.artifacts.append((lineno, line))
            continue
        if not name:
            raise TableError(lineno, "缺少指标名称")
        if name not in NAME_TO_CODE:
            raise TableError(lineno, f"未知的指标：{name}")
        if fields[2] not in KIND_LABELS:
            raise TableError(lineno, f"指标类型应为「时期指标」或「时点指标」：{fields[2]}")
        if not category:
            raise TableError(lineno, "缺少指标类别")
        values = fields[3:]
        for v in values:
            if v and not _NUMBER.match(v):
                raise TableError(lineno, f"无法识别的数值：{v}")
        cells = tuple((values[2 * i], values[2 * i + 1]) for i in range(len(out.years)))
        out.rows.append(TableRow(category, name, fields[2], cells))
    if not out.rows:
        raise TableError(0, "表中没有指标")
    return out


def load_jiashan_table() -> ParsedTable:
    return parse_table(JIASHAN_TABLE.read_text(encoding="utf-8"))
