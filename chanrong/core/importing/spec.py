"""What an import of one kind of record looks like: its columns (with the
Chinese headers people write and their aliases) and the three calls into
the owning app's services (prepare, clean a batch, write).

An app declares its specs in `<app>/imports.py` and registers them with
`register(spec)`; `get_spec(kind)` finds them (the modules are imported on
first use, like `tasks.py` for periodic jobs). The engine stays generic: it
reads files, maps headers, parses cells and reports; every business rule
(who may import, what is valid, how rows are written and audited) is the
app's, reached through its spec.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import autodiscover_modules

from chanrong.core.errors import FieldError

from .cells import Parser, to_halfwidth

_UNIT_SUFFIX = re.compile(r"^(.+?)[(\[]([^()\[\]]*)[)\]]$")
_DROP = str.maketrans("", "", " \t\r\n\u3000*:：")


def normalise_header(text: str) -> str:
    """Half-width, no spaces, no required-marks (*) or colons, lower case:
    "统一社会信用代码 *", "统一社会信用代码：" and "统一社会信用代码" are one header."""
    return to_halfwidth(str(text)).translate(_DROP).lower()


def split_unit(header: str) -> tuple[str, str]:
    """'营业收入(亿元)' -> ('营业收入', '亿元'); headers are normalised first."""
    match = _UNIT_SUFFIX.match(header)
    if match:
        return match.group(1), match.group(2)
    return header, ""


@dataclass(frozen=True)
class Column:
    key: str  # the field name the service takes (and names in its errors)
    header: str  # the template's header, Chinese
    parser: Parser
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: str = ""  # anything the template's 说明 sheet should add
    example: str = ""
    width: int = 16

    @property
    def names(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


@dataclass
class WriteResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows the service refused while writing (only in "valid rows only" mode;
    # in all-or-nothing mode the spec raises RowsRejected instead).
    rejected: list[tuple[int, FieldError]] = field(default_factory=list)


class RowsRejected(Exception):  # noqa: N818 (a signal, like StopIteration)
    """Raised from `write` to roll everything back: rows the service refused
    while writing, as (Excel row number, FieldError)."""

    def __init__(self, errors: list[tuple[int, FieldError]]):
        super().__init__(f"{len(errors)} rows rejected")
        self.errors = errors


class ImportSpec:
    """Subclass per kind; the methods call the app's services."""

    kind: str = ""
    label: str = ""  # 企业, 项目 … (used in titles and file names)
    columns: tuple[Column, ...] = ()
    key_columns: tuple[str, ...] = ()  # a repeat of these inside one file is an error
    notes: tuple[str, ...] = ()  # extra lines for the template's 说明 sheet
    # Headers the engine recognises and skips without a warning (the export's
    # read-only columns, so that an exported file imports back cleanly).
    informational: tuple[str, ...] = ()

    def can_import(self, actor) -> bool:
        raise NotImplementedError

    def parameters(self, actor) -> list[dict[str, Any]]:
        """Choices the upload form must offer (e.g. which list version);
        [{"name", "label", "choices": [(value, label)]}]. Most kinds need none."""
        return []

    def prepare(self, actor, params: dict[str, Any]) -> Any:
        """Everything the batch calls need (caches, the target list version);
        raises a ServiceError when the actor may not import or params are wrong."""
        raise NotImplementedError

    def clean(self, context: Any, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """One result per row: the cleaned values (a dict), or a list of
        FieldError naming the column keys at fault."""
        raise NotImplementedError

    def write(
        self,
        context: Any,
        actor,
        rows: Sequence[tuple[int, dict[str, Any]]],
        *,
        valid_only: bool,
        source: dict[str, Any],
    ) -> WriteResult:
        """Write the cleaned rows, given as (Excel row number, values), inside
        the engine's transaction; `source` describes the file for the audit
        entry. A row the service refuses now (a rule that needs the earlier
        rows written) raises RowsRejected, unless `valid_only`."""
        raise NotImplementedError

    # --- helpers for the engine ---------------------------------------------

    def column(self, key: str) -> Column | None:
        for col in self.columns:
            if col.key == key:
                return col
        return None

    def header_table(self) -> dict[str, Column]:
        table = self.__dict__.get("_header_table")
        if table is None:
            table = {}
            for col in self.columns:
                for name in col.names:
                    table.setdefault(normalise_header(name), col)
            self.__dict__["_header_table"] = table
        return table

    def is_informational(self, text: str) -> bool:
        key = normalise_header(text)
        return any(key == normalise_header(name) for name in self.informational)

    def match_header(self, text: Any) -> tuple[Column, Parser] | None:
        """The column a header cell names (with the parser adjusted to a unit
        written in the header), or None."""
        if text is None or str(text).strip() == "":
            return None
        table = self.header_table()
        key = normalise_header(str(text))
        col = table.get(key)
        name, unit = split_unit(key)
        if col is None and unit:
            col = table.get(name)
        if col is None:
            return None
        return col, (col.parser.with_header_unit(unit) if unit else col.parser)


FieldErrors = list[FieldError]

_SPECS: dict[str, ImportSpec] = {}
_discovered = False


def register(spec: ImportSpec) -> ImportSpec:
    _SPECS[spec.kind] = spec
    return spec


def all_specs() -> dict[str, ImportSpec]:
    global _discovered
    if not _discovered:
        autodiscover_modules("imports")
        _discovered = True
    return dict(_SPECS)


def get_spec(kind: str) -> ImportSpec | None:
    return all_specs().get(kind)
