"""Find the header in the first rows of a sheet and map its cells to columns.

Real files put a title or a note above the header, split a header over two
rows under merged group cells ("基本信息" over 企业名称 / 信用代码), write
units into headers ("营业收入（亿元）") and pad them with spaces and
full-width characters. The header is the one- or two-row band among the
first rows that names the most known columns; in a two-row band a column's
label is its lower cell, its upper cell (spread over a merged range), or
the two joined, whichever names a column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from .cells import Parser, as_text, is_blank
from .readers import FileRejected
from .spec import Column, ImportSpec

SCAN_ROWS = 20


def get_column_letter(index: int) -> str:
    """Excel's column letter of a 1-based column (openpyxl's, imported at use:
    openpyxl's import cost every process that starts Django)."""
    from openpyxl.utils import get_column_letter as letter

    return letter(index)


@dataclass
class MappedColumn:
    index: int  # 0-based column
    column: Column
    parser: Parser
    label: str  # the header as written in the file

    @property
    def letter(self) -> str:
        return get_column_letter(self.index + 1)


@dataclass
class HeaderMap:
    first_row: int  # Excel row number of the (upper) header row
    last_row: int  # Excel row number of the last header row
    columns: list[MappedColumn]
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (letter, header)

    def by_key(self) -> dict[str, MappedColumn]:
        return {mc.column.key: mc for mc in self.columns}


def _filled(rows: dict[int, list], merged: list[tuple[int, int, int, int]]) -> dict[int, list]:
    """Copy each merged range's value into every cell it covers (header rows only)."""
    grid = {number: list(values) for number, values in rows.items()}
    for r1, c1, r2, c2 in merged:
        if r1 not in grid:
            continue
        source = grid[r1][c1] if c1 < len(grid[r1]) else None
        for r in range(r1, r2 + 1):
            if r not in grid:
                continue
            row = grid[r]
            if len(row) <= c2:
                row.extend([""] * (c2 + 1 - len(row)))
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    row[c] = source
    return grid


def _label(value: Any) -> str:
    return "" if is_blank(value) else as_text(value)


def _candidates(upper: str, lower: str | None) -> list[str]:
    if lower is None:
        return [upper] if upper else []
    out = []
    if lower:
        out.append(lower)
    if upper and lower and upper != lower:
        out.append(upper + lower)
    if upper:
        out.append(upper)
    return out


def _map_band(
    spec: ImportSpec, upper: list, lower: list | None
) -> tuple[dict[int, tuple[Column, Parser, str]], list[tuple[int, str]]]:
    width = max(len(upper), len(lower or []))
    mapped: dict[int, tuple[Column, Parser, str]] = {}
    unknown: list[tuple[int, str]] = []
    for c in range(width):
        top = _label(upper[c]) if c < len(upper) else ""
        bottom = None if lower is None else (_label(lower[c]) if c < len(lower) else "")
        found = None
        for text in _candidates(top, bottom):
            match = spec.match_header(text)
            if match:
                found = (match[0], match[1], text)
                break
        if found:
            mapped[c] = found
        elif any(spec.is_informational(text) for text in _candidates(top, bottom)):
            continue
        else:
            written = " / ".join(t for t in (top, bottom) if t)
            if written:
                unknown.append((c, written))
    return mapped, unknown


def locate_header(
    spec: ImportSpec, head: list[tuple[int, list]], merged: list[tuple[int, int, int, int]]
) -> HeaderMap:
    """`head`: the first rows (Excel row number, values). Raises FileRejected
    when no header is found or a required column is missing."""
    if not head:
        raise FileRejected(_("文件中没有数据"))
    rows = dict(head[:SCAN_ROWS])
    grid = _filled(rows, merged)
    numbers = sorted(grid)
    best = None  # (score, -rows in band, -first row), band
    for i, number in enumerate(numbers):
        single, single_unknown = _map_band(spec, grid[number], None)
        options = [(single, single_unknown, number)]
        if i + 1 < len(numbers) and numbers[i + 1] == number + 1:
            lower = grid[number + 1]
            pair, pair_unknown = _map_band(spec, grid[number], lower)
            lower_alone, _unused = _map_band(spec, lower, None)
            if lower_alone:  # the lower row must name something itself
                options.append((pair, pair_unknown, number + 1))
        for mapping, unknown, last in options:
            distinct = len({col.key for col, _p, _t in mapping.values()})
            score = (distinct, -(last - number), -number)
            if distinct and (best is None or score > best[0]):
                best = (score, number, last, mapping, unknown)
    if best is None:
        expected = "、".join(col.header for col in spec.columns if col.required)
        raise FileRejected(
            _("在前 %(n)d 行中找不到表头；表头应包含：%(expected)s（可下载导入模板对照）")
            % {"n": SCAN_ROWS, "expected": expected}
        )
    _score, first, last, mapping, unknown = best
    seen: dict[str, int] = {}
    problems = []
    columns = []
    for index in sorted(mapping):
        col, parser, text = mapping[index]
        if col.key in seen:
            problems.append(
                _("第 %(a)s 列和第 %(b)s 列都对应“%(header)s”，请删除其中一列")
                % {
                    "a": get_column_letter(seen[col.key] + 1),
                    "b": get_column_letter(index + 1),
                    "header": col.header,
                }
            )
            continue
        seen[col.key] = index
        columns.append(MappedColumn(index=index, column=col, parser=parser, label=text))
    missing = [col.header for col in spec.columns if col.required and col.key not in seen]
    if missing:
        problems.append(
            _("缺少必填列：%(missing)s（表头位于第 %(row)d 行）")
            % {"missing": "、".join(missing), "row": first}
        )
    if problems:
        raise FileRejected("；".join(problems))
    return HeaderMap(
        first_row=first,
        last_row=last,
        columns=columns,
        ignored=[(get_column_letter(c + 1), text) for c, text in unknown],
    )
