"""The export of the enterprise table, with the import template's headers.

The same filters and visibility as the list page; streamed into a
temporary .xlsx.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from chanrong.core.exporting import ExportColumn, write_xlsx
from chanrong.core.money import WAN

from ..filtersets import EnterpriseFilterForm
from ..models import ChongqingClass, Enterprise, EnterpriseSize, StrategicEmergingCategory
from ..search import order_by_name
from ..services.personal import row_masker
from .common import _zh


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
    "id",
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
    mask_row = row_masker(user)  # personal fields masked, except the user's own enterprise
    rows = map(mask_row, queryset.values(*_EXPORT_VALUES).iterator(chunk_size=2000))
    return write_xlsx(ENTERPRISE_EXPORT_COLUMNS, rows, sheet_name=str(_("企业")))
