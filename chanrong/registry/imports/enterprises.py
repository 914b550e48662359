"""The enterprise import: the 名录库's own template, checked and written in bulk.

Its columns are the headers of the import template (with the aliases real
files use) and of the enterprise export, so an exported file can be edited
and imported back. Rows are checked and written by
chanrong.registry.services.enterprise_import (one bulk upsert per chunk).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _

from chanrong.core.importing.cells import Amount, Boolean, Choice, Code, Date, Integer, Text, Uscc
from chanrong.core.importing.spec import Column, ImportSpec, WriteResult

from .. import services
from ..models import ChongqingClass, StrategicEmergingCategory
from .common import USCC_ALIASES, _choices, _zh

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
