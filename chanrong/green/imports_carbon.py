"""Carbon reports by file (能耗数据导入): government (or a platform admin)
imports its region's enterprises' energy and material use as .xlsx or .csv
through the platform's import framework (template, errors by row and
column, all or nothing in one transaction).

One row per enterprise, period and item (统一社会信用代码, 年度, 月份 — empty
for the whole year —, 品种, 数量, 计量单位); the rows of one enterprise and
period make one report, accounted exactly as the report form would
(`services.carbon`), replacing that period if it was reported before. A
row's own problems (unknown item, negative quantity, a unit that does not
fit the item, an enterprise outside the importer's region) are its cell
errors; a rule across rows (an item twice in a period, more green power
than purchased power) is reported on the row that breaks it, and with
"import valid rows only" the whole period is left out rather than stored
half. Registered by `green/imports.py` (found by autodiscovery).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import FieldError, NotAllowed
from chanrong.core.importing.cells import Choice, Integer, Number, Text, Uscc, Year
from chanrong.core.importing.spec import Column, ImportSpec, RowsRejected, WriteResult, register
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.registry.models import Enterprise

from .models import ReportSource
from .services import carbon
from .services.carbon_items import ALIASES, ITEMS


def _zh(label) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(label)


def _item_choices() -> tuple[tuple[str, str], ...]:
    return tuple((code, _zh(item.label)) for code, item in ITEMS.items())


COLUMNS: tuple[Column, ...] = (
    Column(
        "uscc",
        "统一社会信用代码",
        Uscc(),
        required=True,
        aliases=("信用代码", "社会信用代码", "USCC"),
        example="91330421MA2D00001A",
        width=22,
    ),
    Column(
        "name",
        "企业名称",
        Text(max_length=100),
        aliases=("名称", "单位名称"),
        help=_("用于核对：与信用代码对应的企业名称不符时报错"),
        example="嘉善示例电子有限公司",
        width=28,
    ),
    Column("year", "年度", Year(), required=True, aliases=("统计年度", "核算年度"), example="2024"),
    Column(
        "month",
        "月份",
        Integer(minimum=1, maximum=12, suffixes=("月",)),
        aliases=("统计月份",),
        help=_("月度数据填 1–12；全年数据留空"),
        example="",
    ),
    Column(
        "item",
        "品种",
        Choice(choices=(), aliases={}),  # replaced in ItemsSpec.__init__ (labels in Chinese)
        required=True,
        aliases=("能源品种", "能源或物料", "能源名称", "物料"),
        example="原煤",
        width=18,
    ),
    Column(
        "quantity",
        "数量",
        Number(),
        required=True,
        aliases=("消耗量", "用量", "产量"),
        help=_("不能为负数"),
        example="100",
    ),
    Column(
        "unit",
        "计量单位",
        Text(max_length=16),
        required=True,
        aliases=("单位",),
        help=_("电力 MWh/万kWh/kWh，天然气 万Nm3/Nm3，煤、油、工业过程 t，热力 GJ"),
        example="t",
    ),
)


class CarbonReportSpec(ImportSpec):
    kind = "green_carbon"
    label = _("能耗与碳排放数据")
    key_columns = ("uscc", "year", "month", "item")
    notes = (
        _(
            "每家企业、每个期间、每个品种一行；同一企业同一期间的各行合为一份报告，按 GB/T 32150-2015 和电网排放因子核算。"
        ),
        _("再次导入同一企业同一期间的数据，将替换原报告。"),
        _("只能导入本辖区已登记企业的数据。"),
    )

    def __init__(self) -> None:
        columns = list(COLUMNS)
        item = columns[4]
        columns[4] = Column(
            item.key,
            item.header,
            Choice(choices=_item_choices(), aliases=dict(ALIASES)),
            required=True,
            aliases=item.aliases,
            example=item.example,
            width=item.width,
        )
        self.columns = tuple(columns)

    def can_import(self, actor) -> bool:
        return scope_of(actor).kind in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM)

    def prepare(self, actor, params: dict[str, Any]):
        if not self.can_import(actor):
            raise NotAllowed(_("无权导入能耗数据"))
        return {"actor": actor}

    def clean(self, context, rows: Sequence[dict[str, Any]]) -> list[Any]:
        actor = context["actor"]
        usccs = {row["uscc"] for row in rows if row.get("uscc")}
        found = {e.uscc: e for e in Enterprise.objects.visible_to(actor).filter(uscc__in=usccs)}
        results: list[Any] = []
        for row in rows:
            errors: list[FieldError] = []
            enterprise = found.get(row.get("uscc") or "")
            if enterprise is None or not carbon.can_report(actor, enterprise):
                errors.append(FieldError("uscc", _("企业未登记或不在您的管辖范围内")))
            elif row.get("name") and " ".join(row["name"].split()) != enterprise.name:
                errors.append(FieldError("name", _("与信用代码对应的企业名称不符")))
            one = carbon.clean_report(
                {
                    "year": row.get("year"),
                    "month": row.get("month"),
                    "lines": [
                        {k: row.get(k) for k in ("item", "quantity", "unit")},
                    ],
                },
                across_lines=False,
            )
            errors.extend(
                FieldError(
                    e.field.split(".")[-1] if e.field.startswith("lines[") else e.field, e.message
                )
                for e in one.errors
            )
            results.append(errors or {"enterprise": enterprise, "line": one.lines[0], **row})
        return results

    def write(self, context, actor, rows, *, valid_only: bool, source: dict[str, Any]):
        groups: dict[tuple, list[tuple[int, dict[str, Any]]]] = {}
        for number, values in rows:
            key = (values["enterprise"].pk, values["year"], values.get("month"))
            groups.setdefault(key, []).append((number, values))
        refused: list[tuple[int, FieldError]] = []
        reports = []
        for members in groups.values():
            first = members[0][1]
            data = {
                "year": first["year"],
                "month": first.get("month"),
                "lines": [{k: v.get(k) for k in ("item", "quantity", "unit")} for _n, v in members],
            }
            cleaned = carbon.clean_report(data)
            if cleaned.errors:
                for error in cleaned.errors:
                    index, key = _line_of(error.field)
                    number = members[index][0] if index is not None else members[0][0]
                    refused.append((number, FieldError(key, error.message)))
                continue
            reports.append((first["enterprise"], cleaned))
        if refused and not valid_only:
            raise RowsRejected(refused)
        saved = carbon.save_cleaned(actor, reports, source=ReportSource.IMPORT) if reports else []
        return WriteResult(created=len(saved), rejected=refused)


def _line_of(field: str) -> tuple[int | None, str]:
    if field.startswith("lines[") and "]." in field:
        index, key = field[6:].split("].", 1)
        return int(index), key
    return None, field


register(CarbonReportSpec())
