"""Shared constants and date / money helpers of the policy demo builder."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from chanrong.core.workdays import is_workday
from chanrong.policy.models import (
    ProgrammeKind,
)

TZ = ZoneInfo("Asia/Shanghai")
JIASHAN = "330421"
HISTORY_DAYS = 730
FEN = Decimal("0.01")
WAN = Decimal(10000)
MILLION = Decimal(1_000_000)

FINANCE_ADMIN = "gov_jiashan_finance"
FINANCE_STAFF = "gov_jiashan_finance_staff"
INDUSTRY_ADMIN = "gov_jiashan"
DEMO_BANK_USERS = {"jsrcb": "bank_staff", "icbc": "bank2_staff"}
ENT_USER, ENT2_USER = "ent_user", "ent2_user"

CHONGQING_CLASSES = ["market", "strategic", "specialised"]
PROJECT_CLASSES = [
    "made_in_china_2025",
    "integration",
    "upgrading",
    "demonstration_base",
    "going_global",
]
GUARANTORS = ("jsguar", "jxguar", "zjguar")
# Guarantee fee rates (% a year) as 嘉善's guarantors charge them; the
# programme pays on ≤ 1 % only (seed 004: "担保费率逐步下降到1%及以下").
FEE_RATES = (
    (Decimal("0.5"), 3),
    (Decimal("0.8"), 4),
    (Decimal("1.0"), 4),
    (Decimal("1.2"), 2),
    (Decimal("1.5"), 1),
)
PURPOSES = (
    "采购原材料",
    "补充流动资金",
    "设备更新改造",
    "支付货款",
    "新建生产线",
    "研发投入",
    "厂房扩建",
    "承接订单备料",
)

REJECT_REASONS = {
    ProgrammeKind.INTEREST: (
        "贷款实为借新还旧，不属于年度新增贷款",
        "利息支付凭证与银行确认金额不一致",
        "贷款用途与申报项目不符",
        "同一笔贷款已享受市级贴息，不得重复享受",
    ),
    ProgrammeKind.GUARANTEE_FEE: (
        "担保费发票与担保合同不一致",
        "担保机构不属于政府性融资担保机构",
        "未提供担保费支付凭证",
    ),
    ProgrammeKind.AWARD: (
        "申报事项与证明材料不符",
        "该事项已享受同类奖励",
        "企业存在欠缴税款记录，暂缓兑现",
    ),
}
BANK_REJECT = "经核实，期间实付金额与申请不符，请更正后重新申请"
WITHDRAW_REASONS = ("申报材料有误，撤回后重新申报", "已申请其他同类政策，主动撤回")
OBJECTION_TEXT = (
    "该企业贷款资金疑似用于归还其他贷款，请核实",
    "该企业去年存在环保处罚，是否符合条件",
    "申报的贷款金额与实际放款不一致",
)
OBJECTION_NAMES = ("王先生", "李女士", "张先生", "陈女士")


@lru_cache(maxsize=4096)
def _workday(day: date) -> bool:
    return is_workday(day)


@lru_cache(maxsize=16384)
def _after(day: date, workdays: int) -> date:
    """core.workdays.add_workdays, with each day's answer cached (the
    holiday calendar's lookup is slow and a history asks thousands of times)."""
    current = day
    while workdays:
        current += timedelta(days=1)
        if _workday(current):
            workdays -= 1
    return current


def _at(rng: random.Random, day: date) -> datetime:
    """A moment in office hours of `day`."""
    return datetime.combine(day, time(9 + rng.randint(0, 7), rng.randint(0, 59)), tzinfo=TZ)


def _yuan(value) -> Decimal:
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def _add_months(day: date, months: int) -> date:
    from chanrong.policy.services.loans import add_months

    return add_months(day, months)
