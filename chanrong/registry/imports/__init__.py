"""Import specs of the 名录库: enterprises, projects, list members, operating data.

Each spec names its columns (the Chinese headers of the template, with the
aliases real files use) and hands rows to `chanrong.registry.services`,
which holds every rule. Registered with the generic engine in
`chanrong.core.importing`; the export of the enterprise table uses the same
headers, so an exported file can be edited and imported back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import FieldError, NotAllowed, ServiceError, ValidationFailed
from chanrong.core.exporting import Export, ExportColumn, register_export, write_xlsx
from chanrong.core.importing.cells import (
    Amount,
    Boolean,
    CellError,
    Choice,
    Code,
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
from chanrong.core.importing.spec import Column, ImportSpec, RowsRejected, WriteResult, register
from chanrong.core.money import WAN

from .. import services
from ..filtersets import EnterpriseFilterForm
from ..models import (
    ChongqingClass,
    Enterprise,
    EnterpriseSize,
    EntryChange,
    ListingBoard,
    ListVersion,
    OperatingRecord,
    PeriodType,
    Project,
    ProjectClass,
    ProjectKind,
    ProjectStage,
    QualificationKind,
    StrategicEmergingCategory,
    TaxGrade,
    VersionStatus,
)
from ..search import order_by_name
from ..workflows import is_drafter


def _zh(label) -> str:
    """A (lazy) choice label in the platform's language. Import files and
    exports speak Chinese, headers and values alike, whatever the user's
    language; and the specs are built once, on first use, so a plain str()
    would freeze the language of whichever request came first."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(label)


def _choices(choices) -> tuple[tuple[str, str], ...]:
    return tuple((value, _zh(label)) for value, label in choices.choices if value)


USCC_ALIASES = ("信用代码", "社会信用代码", "统一信用代码", "企业信用代码", "USCC", "信用代码证号")

ENTERPRISE_COLUMNS: tuple[Column, ...] = (
    Column(
        "uscc",
        "统一社会信用代码",
        Uscc(),
        required=True,
        aliases=USCC_ALIASES,
        help=_("用于识别企业：已登记的企业按此更新，不会重复登记"),
        example="91330421MA2D00001A",
        width=22,
    ),
    Column(
        "name",
        "企业名称",
        Text(max_length=100),
        aliases=("名称", "企业全称", "单位名称", "公司名称", "企业（单位）名称"),
        help=_("新登记的企业必填"),
        example="嘉善示例电子有限公司",
        width=30,
    ),
    Column(
        "region_code",
        "所在地区代码",
        Code(max_length=20, example_format=_("6 位县级行政区划代码，或本辖区内唯一的区县名称")),
        aliases=("行政区划代码", "地区代码", "所在地区", "所属地区", "区县代码", "所在区县"),
        help=_("新登记的企业必填"),
        example="330421",
    ),
    Column(
        "industry_code",
        "行业代码",
        Code(
            max_length=64,
            upper=False,
            example_format=_("国民经济行业大类代码，如 C39（也可写 39 或行业名称）"),
        ),
        aliases=("所属行业代码", "国民经济行业代码", "行业大类代码", "所属行业", "行业"),
        help=_("新登记的企业必填"),
        example="C39",
    ),
    Column(
        "employees",
        "从业人员（人）",
        Integer(suffixes=("人",)),
        aliases=("从业人员", "从业人数", "员工人数", "职工人数", "员工数"),
        example="120",
    ),
    Column(
        "revenue_wan",
        "营业收入（万元）",
        Amount(),
        aliases=("营业收入", "营收", "上年度营业收入", "年营业收入"),
        example="3500.5",
    ),
    Column(
        "assets_wan",
        "资产总额（万元）",
        Amount(),
        aliases=("资产总额", "总资产"),
        example="1.2亿元",
    ),
    Column(
        "founded_on",
        "成立日期",
        Date(),
        aliases=("成立时间", "注册日期", "设立日期"),
        example="2015-03-01",
    ),
    Column(
        "registered_capital_wan",
        "注册资本（万元）",
        Amount(),
        aliases=("注册资本", "注册资金"),
        example="500",
    ),
    Column(
        "legal_representative",
        "法定代表人",
        Text(max_length=50),
        aliases=("法人代表", "法人", "法定代表人姓名"),
        example="张三",
    ),
    Column(
        "contact_name",
        "联系人",
        Text(max_length=50),
        aliases=("联系人姓名", "企业联系人"),
        example="李四",
    ),
    Column(
        "contact_phone",
        "联系电话",
        Text(max_length=30),
        aliases=("电话", "手机", "手机号码", "联系方式", "联系人电话"),
        example="0573-84000000",
    ),
    Column(
        "contact_email",
        "电子邮箱",
        Text(max_length=254),
        aliases=("邮箱", "Email", "E-mail", "电子邮件"),
        example="contact@example.com",
    ),
    Column(
        "address",
        "地址",
        Text(max_length=200),
        aliases=("企业地址", "注册地址", "经营地址", "通讯地址"),
        example="浙江省嘉善县罗星街道示例路 1 号",
        width=30,
    ),
    Column(
        "main_products",
        "主要产品",
        Text(max_length=500),
        aliases=("主营产品", "主导产品", "主营业务"),
        example="汽车电子元器件",
        width=24,
    ),
    Column(
        "rd_expense_wan",
        "研发费用（万元）",
        Amount(),
        aliases=("研发费用", "研发投入", "上年度研发费用", "R&D经费"),
        example="180",
    ),
    Column(
        "is_above_scale",
        "是否规上企业",
        Boolean(true_words=("规上",), false_words=("规下",)),
        aliases=("规上企业", "规模以上", "是否规上", "规模以上工业企业"),
        example="是",
    ),
    Column(
        "strategic_emerging_category",
        "战略性新兴产业类别",
        Choice(
            choices=_choices(StrategicEmergingCategory),
            aliases={
                _zh(label).removesuffix("产业"): value
                for value, label in StrategicEmergingCategory.choices
                if value
            },
        ),
        aliases=("战新产业类别", "战略性新兴产业", "战新产业"),
        example="新一代信息技术产业",
        width=22,
    ),
    Column(
        "chongqing_class",
        "三类企业",
        Choice(
            choices=_choices(ChongqingClass),
            aliases={
                "第一类": ChongqingClass.MARKET,
                "第二类": ChongqingClass.STRATEGIC,
                "第三类": ChongqingClass.SPECIALISED,
                "一类": ChongqingClass.MARKET,
                "二类": ChongqingClass.STRATEGIC,
                "三类": ChongqingClass.SPECIALISED,
            },
        ),
        aliases=("三类企业分类", "企业类别（三类企业）"),
        help=_("重庆“三类企业”分类；也可写“第一类”“第二类”“第三类”"),
        example="第三类",
        width=22,
    ),
)


class EnterpriseSpec(ImportSpec):
    kind = "enterprises"
    label = _("企业")
    columns = ENTERPRISE_COLUMNS
    key_columns = ("uscc",)
    # Columns of the export that an edited export may bring back: not imported.
    informational = ("地区名称", "行业名称", "企业规模", "纳税信用等级", "纳税信用评价年度")
    notes = (
        _(
            "已登记的企业（按统一社会信用代码识别）会被更新，不会重复登记；重复导入同一文件结果相同。"
        ),
        _("更新已登记的企业时，留空的单元格表示“不修改”，不会清空已有数据。"),
        _("政府用户只能导入本辖区内的企业。"),
    )

    def can_import(self, actor) -> bool:
        return services.can_import_enterprises(actor)

    def prepare(self, actor, params: dict[str, Any]) -> services.EnterpriseImport:
        return services.start_enterprise_import(actor)

    def clean(self, context, rows: Sequence[dict[str, Any]]) -> list[Any]:
        return services.clean_enterprise_import(context, list(rows))

    def write(self, context, actor, rows, *, valid_only: bool, source: dict[str, Any]):
        result = services.save_enterprise_import(
            context, [values for _number, values in rows], source=source
        )
        return WriteResult(
            created=result.created, updated=result.updated, unchanged=result.unchanged
        )


register(EnterpriseSpec())


# --- row-by-row kinds: projects, list members, operating data ------------------------
#
# These files are small (hundreds to a few thousand rows), so each row goes
# through the same service call as the web form (upsert_project,
# add_list_entry / remove_list_entry, record_operating_data), which audits it,
# inside the engine's one transaction; a savepoint per row lets "import valid
# rows only" skip a row the service refuses while writing.


def _renamed(errors, mapping: dict[str, str]) -> list[FieldError]:
    return [FieldError(mapping.get(e.field, e.field), e.message) for e in errors]


def _write_rowwise(rows, valid_only: bool, write_row, mapping: dict[str, str]) -> WriteResult:
    result = WriteResult()
    refused: list[tuple[int, FieldError]] = []
    for number, values in rows:
        try:
            with transaction.atomic():
                outcome = write_row(values)
        except ServiceError as exc:
            errors = _renamed(exc.errors, mapping) or [FieldError("", exc.message)]
            refused.extend((number, error) for error in errors)
            continue
        if outcome == "created":
            result.created += 1
        elif outcome == "updated":
            result.updated += 1
        else:
            result.unchanged += 1
    if refused and not valid_only:
        raise RowsRejected(refused)
    result.rejected = refused
    return result


def _visible_by_uscc(actor, rows, key: str = "uscc") -> dict[str, Enterprise]:
    usccs = {row[key] for row in rows if row.get(key)}
    return {e.uscc: e for e in Enterprise.objects.visible_to(actor).filter(uscc__in=usccs)}


def _check_name(row, enterprise: Enterprise, key: str, errors: list[FieldError]) -> None:
    name = row.get(key)
    if name and " ".join(name.split()) != enterprise.name:
        errors.append(
            FieldError(
                key,
                _("名称与统一社会信用代码不符：该代码登记的企业是“%(name)s”")
                % {"name": enterprise.name},
            )
        )


PROJECT_COLUMNS: tuple[Column, ...] = (
    Column(
        "owner_uscc",
        "项目单位统一社会信用代码",
        Uscc(),
        required=True,
        aliases=("项目单位信用代码", "统一社会信用代码", *USCC_ALIASES),
        help=_("项目单位须已在名录库中登记，且在您的管辖范围内"),
        example="91330421MA2D00001A",
        width=24,
    ),
    Column(
        "owner_name",
        "项目单位",
        Text(max_length=100),
        aliases=("项目单位名称", "企业名称", "建设单位"),
        help=_("用于核对：与信用代码对应的企业名称不符时报错"),
        example="嘉善示例电子有限公司",
        width=28,
    ),
    Column(
        "name",
        "项目名称",
        Text(max_length=100),
        required=True,
        help=_("同一项目单位的同名项目视为同一项目：再次导入会更新，不会重复"),
        example="年产 50 万套汽车电子元器件技术改造项目",
        width=36,
    ),
    Column(
        "kind",
        "项目类型",
        Choice(choices=_choices(ProjectKind), aliases={"技改": ProjectKind.TECH_UPGRADE}),
        aliases=("建设性质", "项目性质"),
        help=_("新项目必填"),
        example="技术改造",
    ),
    Column(
        "project_class",
        "五类项目",
        Choice(choices=_choices(ProjectClass)),
        aliases=("项目类别（五类项目）", "五类项目类别"),
        example=_zh(ProjectClass.INTEGRATION.label),
        width=24,
    ),
    Column(
        "total_investment_wan",
        "总投资（万元）",
        Amount(),
        aliases=("总投资", "计划总投资", "项目总投资"),
        help=_("新项目必填"),
        example="12000",
    ),
    Column(
        "financing_need_wan",
        "融资需求（万元）",
        Amount(),
        aliases=("融资需求", "融资需求金额", "拟融资额"),
        example="5000",
    ),
    Column(
        "stage",
        "项目阶段",
        Choice(choices=_choices(ProjectStage), aliases={"建成": ProjectStage.COMPLETED}),
        aliases=("建设阶段", "进展阶段"),
        help=_("新项目必填"),
        example="在建",
    ),
    Column(
        "region_code",
        "建设地点代码",
        Code(max_length=6, example_format=_("6 位县级行政区划代码；留空则取项目单位所在地")),
        aliases=("建设地点", "项目所在地代码", "所在地区代码"),
        example="330421",
    ),
    Column(
        "start_year",
        "开工年份",
        Year(),
        aliases=("开工时间", "计划开工年份"),
        example="2025",
    ),
    Column(
        "description",
        "建设内容",
        Text(max_length=1000),
        aliases=("主要建设内容", "项目简介"),
        example="新建生产线 3 条",
        width=36,
    ),
)
_PROJECT_ERRORS = {"owner_id": "owner_uscc"}


class ProjectSpec(ImportSpec):
    kind = "projects"
    label = _("项目")
    columns = PROJECT_COLUMNS
    key_columns = ("owner_uscc", "name")
    notes = (
        _("项目按“项目单位 + 项目名称”识别：已有的项目会被更新，不会重复登记。"),
        _("更新已有项目时，留空的单元格表示“不修改”。"),
    )

    def can_import(self, actor) -> bool:
        return services.can_create_project(actor) and not actor.is_enterprise_user

    def prepare(self, actor, params: dict[str, Any]):
        if not self.can_import(actor):
            raise NotAllowed(_("无权导入项目"))
        return actor

    @staticmethod
    def _data(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if v is not None and k in services.PROJECT_FIELDS}

    def clean(self, actor, rows: Sequence[dict[str, Any]]) -> list[Any]:
        owners = _visible_by_uscc(actor, rows, "owner_uscc")
        results: list[Any] = []
        for row in rows:
            errors = _renamed(
                services.check_project_import(actor, self._data(row)), _PROJECT_ERRORS
            )
            owner = owners.get(row.get("owner_uscc") or "")
            if owner is not None:
                _check_name(row, owner, "owner_name", errors)
            results.append(errors or row)
        return results

    def write(self, actor, _actor, rows, *, valid_only: bool, source: dict[str, Any]):
        def write_row(row):
            _project, created = services.upsert_project(actor, self._data(row))
            return "created" if created else "updated"

        return _write_rowwise(rows, valid_only, write_row, _PROJECT_ERRORS)


class ListAction(models.TextChoices):
    ADD = "add", _("列入")
    REMOVE = "remove", _("移出")


LIST_MEMBER_COLUMNS: tuple[Column, ...] = (
    Column(
        "uscc",
        "统一社会信用代码",
        Uscc(),
        required=True,
        aliases=USCC_ALIASES,
        help=_("企业须已在名录库中登记，且在您的管辖范围内"),
        example="91330421MA2D00001A",
        width=22,
    ),
    Column(
        "name",
        "企业名称",
        Text(max_length=100),
        aliases=("名称", "企业全称", "单位名称"),
        help=_("用于核对：与信用代码对应的企业名称不符时报错"),
        example="嘉善示例电子有限公司",
        width=28,
    ),
    Column(
        "project_name",
        "项目名称",
        Text(max_length=100),
        aliases=("重点项目名称",),
        help=_("收录项目的名单填写（该企业名下已登记的项目）；收录企业时留空"),
        width=30,
    ),
    Column(
        "action",
        "调整方式",
        Choice(
            choices=_choices(ListAction),
            aliases={
                "新增": ListAction.ADD,
                "增加": ListAction.ADD,
                "加入": ListAction.ADD,
                "纳入": ListAction.ADD,
                "删除": ListAction.REMOVE,
                "移除": ListAction.REMOVE,
                "退出": ListAction.REMOVE,
                "调出": ListAction.REMOVE,
            },
        ),
        aliases=("调整", "变动", "操作"),
        help=_("留空表示“列入”"),
        example="列入",
    ),
    Column(
        "reason",
        "理由",
        Text(max_length=300),
        required=True,
        aliases=("列入理由", "调整理由", "原因", "说明", "推荐理由"),
        example="2024 年度专精特新中小企业",
        width=36,
    ),
)
_LIST_ERRORS = {"enterprise_id": "uscc", "project_id": "project_name"}


class ListMemberSpec(ImportSpec):
    kind = "list_members"
    label = _("名单成员")
    columns = LIST_MEMBER_COLUMNS
    key_columns = ("uscc", "project_name")
    notes = (
        _("导入到一个草稿状态的名单版本；提交审批和发布在名单页面进行。"),
        _("已在该版本中的企业再次“列入”不会重复；“移出”会记录理由，发布后的新版本据此说明变动。"),
    )

    def can_import(self, actor) -> bool:
        return services.can_create_list(actor)

    def _drafts(self, actor):
        versions = (
            ListVersion.objects.visible_to(actor)
            .filter(status=VersionStatus.DRAFT)
            .select_related("list")
            .order_by("list__name")
        )
        return [v for v in versions if is_drafter(actor, v.list)]

    def parameters(self, actor) -> list[dict[str, Any]]:
        return [
            {
                "name": "list_version",
                "label": _("导入到名单版本"),
                "help": _("只列出您可以编制的草稿版本；请先在名单页面新建版本"),
                "choices": [(str(v.pk), str(v)) for v in self._drafts(actor)],
            }
        ]

    def prepare(self, actor, params: dict[str, Any]) -> tuple[Any, ListVersion]:
        if not self.can_import(actor):
            raise NotAllowed(_("无权导入名单成员"))
        try:
            pk = int(params.get("list_version") or 0)
        except (TypeError, ValueError):
            pk = 0
        version = next((v for v in self._drafts(actor) if v.pk == pk), None)
        if version is None:
            raise ValidationFailed(
                {"list_version": _("请选择一个您可以编制的草稿版本（名单版本须为草稿状态）")}
            )
        return actor, version

    def clean(self, context, rows: Sequence[dict[str, Any]]) -> list[Any]:
        actor, version = context
        found = _visible_by_uscc(actor, rows)
        results: list[Any] = []
        for row in rows:
            errors: list[FieldError] = []
            enterprise = found.get(row.get("uscc") or "")
            if enterprise is None:
                results.append([FieldError("uscc", _("企业未登记或不在您的管辖范围内"))])
                continue
            _check_name(row, enterprise, "name", errors)
            project = None
            if row.get("project_name"):
                project = Project.objects.filter(
                    owner=enterprise, name=" ".join(row["project_name"].split())
                ).first()
                if project is None:
                    errors.append(
                        FieldError("project_name", _("该企业名下没有这个项目（请先登记项目）"))
                    )
            if row.get("action") == ListAction.REMOVE:
                if (
                    not errors
                    and services.find_entry(
                        version, enterprise=enterprise if project is None else None, project=project
                    )
                    is None
                ):
                    errors.append(FieldError("uscc", _("该企业（项目）不在此版本名单中，无法移出")))
            elif not errors:
                errors.extend(
                    _renamed(
                        services.check_list_entry(
                            actor, version, enterprise=enterprise, project=project
                        ),
                        _LIST_ERRORS,
                    )
                )
            results.append(errors or {**row, "enterprise": enterprise, "project": project})
        return results

    def write(self, context, actor, rows, *, valid_only: bool, source: dict[str, Any]):
        version = context[1]

        def write_row(row):
            enterprise, project = row["enterprise"], row["project"]
            existing = services.find_entry(
                version, enterprise=enterprise if project is None else None, project=project
            )
            if row.get("action") == ListAction.REMOVE:
                if existing is None:
                    raise ValidationFailed({"uscc": _("该企业（项目）不在此版本名单中，无法移出")})
                if existing.change == EntryChange.REMOVED:
                    return "unchanged"
                services.remove_list_entry(actor, version, existing, reason=row["reason"])
                return "updated"
            if existing is not None and existing.change != EntryChange.REMOVED:
                return "unchanged"
            services.add_list_entry(
                actor, version, enterprise=enterprise, project=project, reason=row["reason"]
            )
            return "created"

        return _write_rowwise(rows, valid_only, write_row, _LIST_ERRORS)


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
            qualification = services.add_qualification(actor, row["enterprise"], row["data"])
            if qualification.pk not in {pk for pk, _at in before}:
                return "created"
            return (
                "unchanged" if (qualification.pk, qualification.updated_at) in before else "updated"
            )

        return _write_rowwise(rows, valid_only, write_row, {})


register(ProjectSpec())
register(ListMemberSpec())
register(OperatingSpec())
register(TaxGradeSpec())
register(QualificationSpec())

# --- export: the enterprise table, with the import template's headers ----------------


def _label_of(choices):
    table = {value: _zh(label) for value, label in choices.choices}
    return lambda value: table.get(value or "", "")


_SIZE = _label_of(EnterpriseSize)
_EMERGING = _label_of(StrategicEmergingCategory)
_CHONGQING = _label_of(ChongqingClass)


def _wan(key: str):
    return lambda row: None if row[key] is None else row[key] / WAN


ENTERPRISE_EXPORT_COLUMNS = (
    ExportColumn("统一社会信用代码", lambda r: r["uscc"], 22),
    ExportColumn("企业名称", lambda r: r["name"], 32),
    ExportColumn("所在地区代码", lambda r: r["region_id"], 12),
    ExportColumn("地区名称", lambda r: r["region__name"], 12),
    ExportColumn("行业代码", lambda r: r["industry_id"], 10),
    ExportColumn("行业名称", lambda r: r["industry__name"], 26),
    ExportColumn("企业规模", lambda r: _SIZE(r["size"]), 10),
    ExportColumn("从业人员（人）", lambda r: r["employees"], 12, "integer"),
    ExportColumn("营业收入（万元）", _wan("revenue"), 16, "amount"),
    ExportColumn("资产总额（万元）", _wan("assets"), 16, "amount"),
    ExportColumn("成立日期", lambda r: r["founded_on"], 12, "date"),
    ExportColumn("注册资本（万元）", _wan("registered_capital"), 16, "amount"),
    ExportColumn("法定代表人", lambda r: r["legal_representative"], 12),
    ExportColumn("联系人", lambda r: r["contact_name"], 12),
    ExportColumn("联系电话", lambda r: r["contact_phone"], 16),
    ExportColumn("电子邮箱", lambda r: r["contact_email"], 22),
    ExportColumn("地址", lambda r: r["address"], 32),
    ExportColumn("主要产品", lambda r: r["main_products"], 24),
    ExportColumn("研发费用（万元）", _wan("rd_expense"), 16, "amount"),
    ExportColumn("是否规上企业", lambda r: r["is_above_scale"], 12),
    ExportColumn("战略性新兴产业类别", lambda r: _EMERGING(r["strategic_emerging_category"]), 20),
    ExportColumn("三类企业", lambda r: _CHONGQING(r["chongqing_class"]), 24),
    ExportColumn("纳税信用等级", lambda r: r["tax_grade"], 12),
    ExportColumn("纳税信用评价年度", lambda r: r["tax_grade_year"], 14, "integer"),
)
_EXPORT_VALUES = (
    "uscc",
    "name",
    "region_id",
    "region__name",
    "industry_id",
    "industry__name",
    "size",
    "employees",
    "revenue",
    "assets",
    "founded_on",
    "registered_capital",
    "legal_representative",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "main_products",
    "rd_expense",
    "is_above_scale",
    "strategic_emerging_category",
    "chongqing_class",
    "tax_grade",
    "tax_grade_year",
)


def export_enterprises(user, params) -> tuple[Any, int]:
    """The enterprise table as the list page shows it to `user` (same
    filters, same visibility), streamed into a temporary .xlsx."""
    form = EnterpriseFilterForm(params or None, user=user)
    queryset = order_by_name(
        form.filter(Enterprise.objects.visible_to(user)), text_search=form.has_text_search()
    )
    rows = queryset.values(*_EXPORT_VALUES).iterator(chunk_size=2000)
    return write_xlsx(ENTERPRISE_EXPORT_COLUMNS, rows, sheet_name=str(_("企业")))


register_export(Export("enterprises", _("企业名录"), export_enterprises))
