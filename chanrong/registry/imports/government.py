"""The kinds government users and platform admins import about enterprises
already registered in their area (never the enterprise itself): operating
data, tax credit grades and qualifications.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed
from chanrong.core.importing.cells import (
    Amount,
    CellError,
    Choice,
    Date,
    Integer,
    Number,
    Parser,
    Text,
    Uscc,
    Year,
    as_text,
    is_blank,
)
from chanrong.core.importing.spec import Column, ImportSpec

from .. import services
from ..models import (
    Enterprise,
    ListingBoard,
    OperatingRecord,
    PeriodType,
    QualificationKind,
    TaxGrade,
)
from .common import USCC_ALIASES, _check_name, _choices, _visible_by_uscc, _write_rowwise, _zh


class PeriodCell(Parser):
    """A month or quarter, read by the services' parse_period; a date cell
    (Excel turns "2024-03" into one) is kept as a date (its month)."""

    def parse(self, value: Any):
        if is_blank(value):
            return None
        if isinstance(value, date):
            return value
        try:
            return services.parse_period(as_text(value))
        except ValidationFailed as exc:
            raise CellError(exc.errors[0].message if exc.errors else exc.message) from None

    def describe(self) -> str:
        return _("统计期：月度如 2024-03 或 2024年3月，季度如 2024Q1 或 2024年第一季度")


def _uscc_and_name_columns() -> tuple[Column, Column]:
    return (
        Column(
            "uscc",
            "统一社会信用代码",
            Uscc(),
            required=True,
            aliases=USCC_ALIASES,
            example="91330421MA2D00001A",
            width=22,
        ),
        Column(
            "name",
            "企业名称",
            Text(max_length=100),
            aliases=("名称", "企业全称", "单位名称", "纳税人名称"),
            help=_("用于核对：与信用代码对应的企业名称不符时报错"),
            example="嘉善示例电子有限公司",
            width=28,
        ),
    )


def _enterprise_of(actor, row, found, can, refusal, errors) -> Enterprise | None:
    enterprise = found.get(row.get("uscc") or "")
    if enterprise is None:
        errors.append(FieldError("uscc", _("企业未登记或不在您的管辖范围内")))
        return None
    if not can(actor, enterprise):
        errors.append(FieldError("uscc", refusal))
    _check_name(row, enterprise, "name", errors)
    return enterprise


OPERATING_COLUMNS: tuple[Column, ...] = (
    *_uscc_and_name_columns(),
    Column(
        "period",
        "统计期",
        PeriodCell(),
        required=True,
        aliases=("所属期", "报告期", "期别", "月份", "季度", "统计月份"),
        example="2024-03",
    ),
    Column(
        "period_type",
        "周期",
        Choice(choices=_choices(PeriodType), aliases={"月": "month", "季": "quarter"}),
        aliases=("统计周期", "报表周期"),
        help=_("可留空：按统计期的写法判断（2024-03 为月度，2024Q1 为季度）"),
        example="月度",
    ),
    Column(
        "output_value_wan",
        "工业总产值（万元）",
        Amount(),
        aliases=("工业总产值", "总产值", "产值"),
        example="1200",
    ),
    Column(
        "revenue_wan", "营业收入（万元）", Amount(), aliases=("营业收入", "营收"), example="1100"
    ),
    Column("profit_wan", "利润总额（万元）", Amount(), aliases=("利润总额", "利润"), example="85"),
    Column(
        "tax_paid_wan",
        "实缴税金（万元）",
        Amount(),
        aliases=("实缴税金", "税金", "纳税额"),
        example="36",
    ),
    Column(
        "employees",
        "从业人员（人）",
        Integer(suffixes=("人",)),
        aliases=("从业人员", "从业人数", "用工人数"),
        example="120",
    ),
    Column(
        "electricity_kwh",
        "用电量（千瓦时）",
        Number(unit="千瓦时"),
        aliases=("用电量", "用电量(kWh)", "工业用电量"),
        example="350000",
    ),
)
_FIGURES = tuple(services.OPERATING_INPUT)


class _GovernmentRowsSpec(ImportSpec):
    """Kinds that government users and platform admins import about
    enterprises already registered in their area (never the enterprise
    itself): operating data, tax credit grades, qualifications."""

    refusal = _("无权导入")

    def can_import(self, actor) -> bool:
        return not actor.is_enterprise_user and services.can_create_enterprise(actor)

    def prepare(self, actor, params: dict[str, Any]):
        if not self.can_import(actor):
            raise NotAllowed(self.refusal)
        return actor


class OperatingSpec(_GovernmentRowsSpec):
    kind = "operating_data"
    label = _("经营数据")
    columns = OPERATING_COLUMNS
    key_columns = ("uscc", "period")
    notes = (
        _("同一企业同一统计期已有数据的，按本次导入更新；留空的指标不修改。"),
        _("负数或同比变动过大的数值不会被拒绝，而是标记为“待核实”，由政府部门核实。"),
    )
    refusal = _("无权导入经营数据")

    def clean(self, actor, rows: Sequence[dict[str, Any]]) -> list[Any]:
        found = _visible_by_uscc(actor, rows)
        results: list[Any] = []
        for row in rows:
            errors: list[FieldError] = []
            enterprise = _enterprise_of(
                actor, row, found, services.can_enter_operating_data,
                _("无权填报该企业的经营数据"), errors,
            )  # fmt: skip
            if enterprise is None:
                results.append(errors)
                continue
            period = row.get("period")
            try:
                period = services.parse_period(
                    period.code if isinstance(period, services.Period) else period,
                    row.get("period_type") or None,
                )
            except ValidationFailed as exc:
                errors.extend(exc.errors)
            figures = {k: row[k] for k in _FIGURES if row.get(k) is not None}
            try:
                services.clean_operating_values(figures)
            except ValidationFailed as exc:
                errors.extend(exc.errors)
            results.append(
                errors or {"enterprise": enterprise, "period": period, "figures": figures}
            )
        return results

    def write(self, actor, _actor, rows, *, valid_only: bool, source: dict[str, Any]):
        def write_row(row):
            enterprise = row["enterprise"]
            exists = OperatingRecord.objects.filter(
                enterprise=enterprise,
                period_type=row["period"].period_type,
                period_start=row["period"].start,
            ).exists()
            services.record_operating_data(actor, enterprise, row["period"], row["figures"])
            return "updated" if exists else "created"

        return _write_rowwise(rows, valid_only, write_row, {})


# --- tax credit grades and qualifications -----------------------------------------
#
# Both arrive as lists from other departments (the tax bureau's 纳税信用 A 级
# list, a province's 专精特新 or 高新技术企业 announcement), one row per
# enterprise and year or certificate, so each is its own import kind rather
# than columns of the enterprise sheet. Rows go through set_tax_grade /
# add_qualification, which keep the history and audit every change.


TAX_GRADE_COLUMNS: tuple[Column, ...] = (
    *_uscc_and_name_columns(),
    Column(
        "year",
        "评价年度",
        Year(),
        required=True,
        aliases=("年度", "纳税信用评价年度", "评定年度"),
        example="2025",
    ),
    Column(
        "grade",
        "纳税信用等级",
        Choice(
            choices=tuple((g, g) for g in TaxGrade.values),
            aliases={f"{g}级": g for g in TaxGrade.values},
        ),
        required=True,
        aliases=("信用等级", "等级", "纳税信用级别"),
        help=_("A、B、M、C 或 D；M 级自 2018 年度起适用"),
        example="A",
    ),
)


class TaxGradeSpec(_GovernmentRowsSpec):
    kind = "tax_grades"
    label = _("纳税信用等级")
    columns = TAX_GRADE_COLUMNS
    key_columns = ("uscc", "year")
    notes = (
        _("每家企业每个评价年度一行；同一年度再次导入会更正等级（留有修改记录），不会重复。"),
        _("企业的“最近年度等级”自动取最新评价年度。"),
    )
    refusal = _("无权导入纳税信用等级")

    def clean(self, actor, rows: Sequence[dict[str, Any]]) -> list[Any]:
        found = _visible_by_uscc(actor, rows)
        results: list[Any] = []
        for row in rows:
            errors: list[FieldError] = []
            enterprise = _enterprise_of(
                actor, row, found, services.can_record_tax_grade,
                _("无权录入该企业的纳税信用等级"), errors,
            )  # fmt: skip
            try:
                year, grade = services.clean_tax_grade(row.get("year"), row.get("grade"))
            except ValidationFailed as exc:
                errors.extend(exc.errors)
            if errors:
                results.append(errors)
            else:
                results.append({"enterprise": enterprise, "year": year, "grade": grade})
        return results

    def write(self, actor, _actor, rows, *, valid_only: bool, source: dict[str, Any]):
        def write_row(row):
            enterprise = row["enterprise"]
            before = enterprise.tax_grades.filter(year=row["year"]).values_list("grade", flat=True)
            before = before.first()
            services.set_tax_grade(actor, enterprise, row["year"], row["grade"])
            if before is None:
                return "created"
            return "unchanged" if before == row["grade"] else "updated"

        return _write_rowwise(rows, valid_only, write_row, {})


QUALIFICATION_COLUMNS: tuple[Column, ...] = (
    *_uscc_and_name_columns(),
    Column(
        "kind",
        "资质类型",
        Choice(
            choices=_choices(QualificationKind),
            aliases={
                "专精特新": QualificationKind.SPECIALISED_SME,
                "小巨人": QualificationKind.LITTLE_GIANT,
                "专精特新小巨人": QualificationKind.LITTLE_GIANT,
                "专精特新“小巨人”": QualificationKind.LITTLE_GIANT,
                "高企": QualificationKind.HIGH_TECH,
                "科小": QualificationKind.TECH_SME,
                "上市": QualificationKind.LISTED,
                "挂牌": QualificationKind.LISTED,
                "上市后备": QualificationKind.LISTING_RESERVE,
            },
        ),
        required=True,
        aliases=("资质", "资质名称", "认定类型"),
        example=_zh(QualificationKind.SPECIALISED_SME.label),
        width=22,
    ),
    Column(
        "board",
        "上市/挂牌板块",
        Choice(choices=_choices(ListingBoard), aliases={"北交所": ListingBoard.BSE}),
        aliases=("板块", "上市板块", "挂牌板块"),
        help=_("仅上市/挂牌和上市后备企业填写"),
        example="",
    ),
    Column(
        "issuer",
        "认定/发证机构",
        Text(max_length=100),
        required=True,
        aliases=("认定机构", "发证机构", "认定部门"),
        example="浙江省经济和信息化厅",
        width=24,
    ),
    Column(
        "certificate_no",
        "证书/文件编号",
        Text(max_length=100),
        aliases=("证书编号", "文件编号", "批文号"),
        example="浙经信企业〔2025〕88号",
        width=24,
    ),
    Column(
        "valid_from",
        "生效日期",
        Date(),
        required=True,
        aliases=("认定日期", "发证日期", "有效期起"),
        example="2025-01-01",
    ),
    Column(
        "valid_until",
        "有效期至",
        Date(),
        aliases=("有效期止", "到期日期", "截止日期"),
        help=_("留空表示长期有效；到期后自动不再计入"),
        example="2027-12-31",
    ),
    Column("note", "备注", Text(max_length=200), example=""),
)
_QUALIFICATION_FIELDS = tuple(services.QUALIFICATION_FIELDS)


class QualificationSpec(_GovernmentRowsSpec):
    kind = "qualifications"
    label = _("企业资质")
    columns = QUALIFICATION_COLUMNS
    key_columns = ("uscc", "kind", "board", "valid_from", "certificate_no")
    notes = (
        _("同一证书（企业、资质类型、板块、生效日期、编号均相同）再次导入会更新，不会重复。"),
        _("复审或重新认定请作为新的一行导入：原有记录保留其有效期，形成历史。"),
    )
    refusal = _("无权导入企业资质")

    def clean(self, actor, rows: Sequence[dict[str, Any]]) -> list[Any]:
        found = _visible_by_uscc(actor, rows)
        results: list[Any] = []
        for row in rows:
            errors: list[FieldError] = []
            enterprise = _enterprise_of(
                actor, row, found, services.can_edit_qualifications,
                _("无权为该企业登记资质"), errors,
            )  # fmt: skip
            data = {k: row[k] for k in _QUALIFICATION_FIELDS if row.get(k) is not None}
            try:
                services.clean_qualification_data(data)
            except ValidationFailed as exc:
                errors.extend(exc.errors)
            results.append(errors or {"enterprise": enterprise, "data": data})
        return results

    def write(self, actor, _actor, rows, *, valid_only: bool, source: dict[str, Any]):
        def write_row(row):
            before = set(row["enterprise"].qualifications.values_list("pk", "updated_at"))
            qualification = services.add_qualification(
                actor, row["enterprise"], row["data"], imported=True
            )
            if qualification.pk not in {pk for pk, _at in before}:
                return "created"
            return (
                "unchanged" if (qualification.pk, qualification.updated_at) in before else "updated"
            )

        return _write_rowwise(rows, valid_only, write_row, {})
