"""The import pipeline: read → map headers → parse cells → service checks →
(all or nothing | valid rows only) → write in one transaction.

Everything is checked before anything is written, so the write is a single
bulk transaction: a failure or a killed process at any point leaves the
database as it was (the transaction never commits). Progress is reported
during the checking pass, which is where the time goes; during the write
the job says "writing" (a transaction's progress cannot be seen from
outside it, and a second connection would only add a way to fail).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.errors import FieldError

from .cells import CellError, as_text, is_blank
from .headers import SCAN_ROWS, HeaderMap, MappedColumn, locate_header
from .readers import FileRejected, open_sheet
from .spec import ImportSpec, RowsRejected, WriteResult

logger = logging.getLogger(__name__)

BATCH = 1000
EXCEL_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!"}


@dataclass
class Issue:
    row: int | None  # Excel row number as the user sees it; None for the file
    column: str  # column letter ("" for the whole row or file)
    header: str  # the header as written in the file
    message: str
    value: str = ""
    level: str = "error"  # or "warning"

    def __post_init__(self) -> None:
        # Messages may be lazy translations; the job stores them as JSON.
        self.message = str(self.message)
        self.header = str(self.header)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "message": self.message,
            "value": self.value,
            "level": self.level,
        }


@dataclass
class Outcome:
    total_rows: int = 0
    valid_rows: int = 0
    error_rows: int = 0
    written: WriteResult | None = None
    issues: list[Issue] = field(default_factory=list)
    rejected: bool = False  # nothing written because of errors (all-or-nothing) or the file
    message: str = ""

    @property
    def error_count(self) -> int:
        return sum(1 for issue in self.issues if issue.level == "error")


Progress = Callable[[str, int, int], None]  # (stage, processed, total)


def _no_progress(stage: str, processed: int, total: int) -> None:
    return None


def _cell_issue(row: int, mc: MappedColumn, value: Any, message: str) -> Issue:
    return Issue(
        row=row,
        column=mc.letter,
        header=mc.label,
        message=message,
        value="" if is_blank(value) else as_text(value)[:200],
    )


class Importer:
    """One import of one file; `validate()` then `write()` (or `run()`)."""

    def __init__(
        self,
        spec: ImportSpec,
        actor,
        data: bytes,
        *,
        params: dict[str, Any] | None = None,
        valid_only: bool = False,
        progress: Progress = _no_progress,
        progress_every: int = 2000,
    ):
        self.spec = spec
        self.actor = actor
        self.data = data
        self.params = params or {}
        self.valid_only = valid_only
        self.progress = progress
        self.progress_every = progress_every
        self.outcome = Outcome()
        self.context: Any = None
        self.header: HeaderMap | None = None
        self._valid: dict[int, dict[str, Any]] = {}
        self._duplicates_reported: set[int] = set()

    # --- checking -------------------------------------------------------------

    def validate(self) -> Outcome:
        outcome = self.outcome
        self.progress("reading", 0, 0)
        try:
            self.context = self.spec.prepare(self.actor, self.params)
            sheet = open_sheet(self.data)
            head = list(itertools.islice(sheet.rows, SCAN_ROWS))
            self.header = header = locate_header(self.spec, head, sheet.merged)
        except FileRejected as exc:
            outcome.rejected = True
            outcome.message = str(exc)
            outcome.issues.append(Issue(row=None, column="", header="", message=str(exc)))
            return outcome
        for letter, text in header.ignored:
            outcome.issues.append(
                Issue(
                    row=header.first_row,
                    column=letter,
                    header=text,
                    message=_("未识别的列，已忽略"),
                    level="warning",
                )
            )
        first_data = header.last_row + 1
        rows = itertools.chain(
            ((n, v) for n, v in head if n >= first_data),
            sheet.rows,
        )
        estimate = max(sheet.last_row - header.last_row, 0) if sheet.last_row else 0
        self.progress("validating", 0, estimate)
        batch: list[tuple[int, dict[str, Any]]] = []
        keys: dict[tuple, int] = {}
        bad_rows: set[int] = set()
        processed = 0
        try:
            for number, values in rows:
                parsed = self._parse_row(number, values, sheet.formula_without_value, bad_rows)
                if parsed is None:
                    continue
                processed += 1
                self._check_duplicate(number, parsed, keys, bad_rows)
                batch.append((number, parsed))
                if len(batch) >= BATCH:
                    self._clean_batch(batch, bad_rows)
                    batch = []
                if processed % self.progress_every == 0:
                    self.progress("validating", processed, max(estimate, processed))
            if batch:
                self._clean_batch(batch, bad_rows)
        except FileRejected as exc:
            outcome.rejected = True
            outcome.message = str(exc)
            outcome.issues.append(Issue(row=None, column="", header="", message=str(exc)))
            return outcome
        outcome.total_rows = processed
        outcome.error_rows = len(bad_rows)
        for number in bad_rows:
            self._valid.pop(number, None)
        outcome.valid_rows = len(self._valid)
        self.progress("validating", processed, processed)
        if processed == 0:
            outcome.rejected = True
            outcome.message = _("表头下方没有数据行")
            outcome.issues.append(Issue(row=None, column="", header="", message=outcome.message))
        elif bad_rows and not self.valid_only:
            outcome.rejected = True
            outcome.message = _(
                "发现 %(errors)d 处错误，涉及 %(rows)d 行；按“全部无误才导入”的规则，未导入任何数据"
            ) % {"errors": outcome.error_count, "rows": len(bad_rows)}
        return outcome

    def _parse_row(
        self,
        number: int,
        values: list,
        missing_formulas: set[tuple[int, int]],
        bad_rows: set[int],
    ) -> dict[str, Any] | None:
        assert self.header is not None
        parsed: dict[str, Any] = {}
        blank = True
        issues = []
        for mc in self.header.columns:
            value = values[mc.index] if mc.index < len(values) else None
            if (number, mc.index) in missing_formulas:
                blank = False
                issues.append(
                    _cell_issue(
                        number,
                        mc,
                        None,
                        _(
                            "该单元格是公式，但文件中没有保存计算结果；"
                            "请用 Excel 或 WPS 打开并保存后再导入，或把公式改为数值"
                        ),
                    )
                )
                continue
            if is_blank(value):
                parsed[mc.column.key] = None
                continue
            blank = False
            if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
                issues.append(
                    _cell_issue(
                        number,
                        mc,
                        value,
                        _("公式计算出错（%(error)s），请修正公式或改为数值")
                        % {"error": value.strip()},
                    )
                )
                continue
            try:
                parsed[mc.column.key] = mc.parser.parse(value)
            except CellError as exc:
                issues.append(_cell_issue(number, mc, value, str(exc)))
        if blank:
            return None
        for mc in self.header.columns:
            if (
                mc.column.required
                and parsed.get(mc.column.key) is None
                and not any(issue.column == mc.letter for issue in issues)
            ):
                issues.append(_cell_issue(number, mc, None, _("必填")))
        if issues:
            self.outcome.issues.extend(issues)
            bad_rows.add(number)
        return parsed

    def _check_duplicate(
        self, number: int, parsed: dict[str, Any], keys: dict[tuple, int], bad_rows: set[int]
    ) -> None:
        if not self.spec.key_columns:
            return
        key = tuple(parsed.get(k) for k in self.spec.key_columns)
        if any(part is None for part in key):
            return
        first = keys.get(key)
        if first is None:
            keys[key] = number
            return
        assert self.header is not None
        by_key = self.header.by_key()
        mc = by_key[self.spec.key_columns[0]]
        what = "、".join(by_key[k].column.header for k in self.spec.key_columns if k in by_key)
        shown = " / ".join(str(part) for part in key)
        if first not in self._duplicates_reported:
            self._duplicates_reported.add(first)
            self.outcome.issues.append(
                _cell_issue(
                    first,
                    mc,
                    shown,
                    _("%(what)s在文件中重复出现（另见第 %(row)d 行）")
                    % {"what": what, "row": number},
                )
            )
        self.outcome.issues.append(
            _cell_issue(
                number,
                mc,
                shown,
                _("%(what)s与第 %(first)d 行重复") % {"what": what, "first": first},
            )
        )
        bad_rows.add(first)
        bad_rows.add(number)

    def _clean_batch(self, batch: list[tuple[int, dict[str, Any]]], bad_rows: set[int]) -> None:
        assert self.header is not None
        candidates = [(n, row) for n, row in batch if n not in bad_rows]
        if not candidates:
            return
        results = self.spec.clean(self.context, [row for _n, row in candidates])
        by_key = self.header.by_key()
        for (number, row), result in zip(candidates, results, strict=True):
            if isinstance(result, dict):
                self._valid[number] = result
                continue
            bad_rows.add(number)
            for error in result:
                self.outcome.issues.append(self._field_issue(number, row, error, by_key))

    def _field_issue(
        self, number: int, row: dict[str, Any], error: FieldError, by_key: dict[str, MappedColumn]
    ) -> Issue:
        mc = by_key.get(error.field)
        if mc is None:
            column = self.spec.column(error.field)
            return Issue(
                row=number,
                column="",
                header=column.header if column else "",
                message=error.message,
            )
        value = row.get(error.field)
        return Issue(
            row=number,
            column=mc.letter,
            header=mc.label,
            message=error.message,
            value="" if value is None else as_text(value)[:200],
        )

    # --- writing --------------------------------------------------------------

    def rows_to_write(self) -> list[tuple[int, dict[str, Any]]]:
        return [(n, self._valid[n]) for n in sorted(self._valid)]

    def write(self, source: dict[str, Any] | None = None) -> WriteResult:
        """Write the valid rows; call inside the caller's transaction.
        Raises RowsRejected (all-or-nothing mode) to roll back; the refused
        rows are in the outcome's issues by then."""
        self.progress("writing", self.outcome.valid_rows, self.outcome.valid_rows)
        try:
            result = self.spec.write(
                self.context,
                self.actor,
                self.rows_to_write(),
                valid_only=self.valid_only,
                source=source or {},
            )
        except RowsRejected as exc:
            self._record_rejected(exc.errors)
            self.outcome.rejected = True
            self.outcome.valid_rows -= len({n for n, _e in exc.errors})
            self.outcome.message = _(
                "写入时有 %(rows)d 行未通过检查；按“全部无误才导入”的规则，未导入任何数据"
            ) % {"rows": len({n for n, _e in exc.errors})}
            raise
        if result.rejected:
            self._record_rejected(result.rejected)
            refused = {n for n, _e in result.rejected}
            self.outcome.valid_rows -= len(refused)
            self.outcome.error_rows += len(refused)
        self.outcome.written = result
        return result

    def _record_rejected(self, errors: list[tuple[int, FieldError]]) -> None:
        assert self.header is not None
        by_key = self.header.by_key()
        for number, error in errors:
            row = self._valid.get(number, {})
            self.outcome.issues.append(self._field_issue(number, row, error, by_key))


def summarise_issues(issues: list[Issue]) -> list[Issue]:
    """Errors first (by row, then column), then warnings."""
    return sorted(
        issues,
        key=lambda i: (i.level != "error", i.row or 0, len(i.column), i.column),
    )
