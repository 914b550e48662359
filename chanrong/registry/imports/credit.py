"""Credit records (信用信息) by file: what an agency or the 大数据局 imports
about registered enterprises of its region — 纳税, 社保, 公积金, 水电气, 不动产,
行政处罚, 司法判决, 海关 — one row per record.

Rows are checked in batches by `services.credit.clean_credit_rows` (one query
per batch) and written set-based by `save_credit_records`; a row whose
(enterprise, kind, source, reference) is already stored updates it, so
importing the same file twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import FieldError, NotAllowed
from chanrong.core.importing.cells import Amount, Choice, Date, Text
from chanrong.core.importing.spec import Column, ImportSpec, WriteResult
from chanrong.core.money import WAN

from ..models import CreditKind
from ..services import credit
from .common import _check_name, _choices
from .government import _uscc_and_name_columns

CREDIT_COLUMNS: tuple[Column, ...] = (
    *_uscc_and_name_columns(),
    Column(
        "kind",
        "信息类别",
        Choice(
            choices=_choices(CreditKind),
            aliases={
                "税务": CreditKind.TAX,
                "社会保险": CreditKind.SOCIAL_INSURANCE,
                "住房公积金": CreditKind.HOUSING_FUND,
                "水电": CreditKind.UTILITY,
                "水电气费": CreditKind.UTILITY,
                "处罚": CreditKind.PENALTY,
                "行政处罚信息": CreditKind.PENALTY,
                "判决": CreditKind.JUDGMENT,
                "涉诉": CreditKind.JUDGMENT,
                "司法": CreditKind.JUDGMENT,
                "裁判文书": CreditKind.JUDGMENT,
            },
        ),
        required=True,
        aliases=("类别", "信息类型", "数据类别"),
        example="行政处罚",
    ),
    Column(
        "occurred_on",
        "发生日期",
        Date(),
        required=True,
        aliases=("处罚决定日期", "判决日期", "裁判日期", "日期", "决定日期"),
        example="2026-03-15",
    ),
    Column(
        "source",
        "来源机构",
        Text(max_length=100),
        required=True,
        aliases=("处罚机关", "审理法院", "法院", "数据来源", "来源", "决定机关"),
        example="嘉善县市场监督管理局",
        width=24,
    ),
    Column(
        "reference",
        "文书/记录编号",
        Text(max_length=100),
        required=True,
        aliases=("处罚决定书文号", "决定书文号", "文号", "案号", "记录编号", "编号"),
        help=_(
            "来源机构给出的编号：处罚决定书文号、案号等；与企业、类别、来源机构一起确定一条记录"
        ),
        example="嘉市监处罚〔2026〕88号",
        width=26,
    ),
    Column(
        "summary",
        "内容摘要",
        Text(max_length=1000),
        aliases=("摘要", "内容", "违法事实", "案由", "处罚内容"),
        example="未按规定公示年度报告",
        width=36,
    ),
    Column(
        "amount",
        "金额（元）",
        Amount(unit="元"),
        aliases=("金额", "罚款金额", "罚没金额", "标的金额", "涉案金额"),
        help=_("罚没金额、判决标的额、缴费金额等；可留空"),
        example="5000",
    ),
    Column(
        "severity",
        "严重程度",
        Text(max_length=20),
        aliases=("处罚等级", "情节"),
        help=_("如 一般、较重、严重；可留空"),
        example="一般",
    ),
)


class CreditRecordSpec(ImportSpec):
    kind = "credit_records"
    label = _("信用信息")
    columns = CREDIT_COLUMNS
    key_columns = ("uscc", "kind", "source", "reference")
    notes = (
        _("每条记录一行；企业、信息类别、来源机构和编号相同的记录再次导入会更新，不会重复。"),
        _("只能导入本辖区已登记企业的信用信息；金融机构仅在企业授权后可查看。"),
        _("行政处罚、司法判决导入后即对相关企业评估风险预警规则。"),
    )

    def can_import(self, actor) -> bool:
        return not actor.is_enterprise_user and credit.can_record_credit(actor)

    def prepare(self, actor, params: dict[str, Any]):
        if not self.can_import(actor):
            raise NotAllowed(_("无权导入信用信息"))
        return actor

    def clean(self, actor, rows: Sequence[dict[str, Any]]) -> list[Any]:
        inputs = [
            {
                **row,
                "amount": None if row.get("amount") is None else row["amount"] * WAN,
                "extra": {"severity": row["severity"]} if row.get("severity") else {},
            }
            for row in rows
        ]
        results: list[Any] = []
        for row, result in zip(rows, credit.clean_credit_rows(actor, inputs), strict=True):
            if isinstance(result, list):
                results.append(result)
                continue
            errors: list[FieldError] = []
            _check_name(row, result.enterprise, "name", errors)
            results.append(errors or {"row": result})
        return results

    def write(self, actor, _actor, rows, *, valid_only: bool, source: dict[str, Any]):
        saved = credit.save_credit_records(
            actor, [values["row"] for _n, values in rows], origin=source
        )
        return WriteResult(created=saved.created, updated=saved.updated, unchanged=saved.unchanged)
