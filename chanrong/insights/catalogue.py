"""The standard 定量指标 catalogue: the 32 indicators of the 试点城市建设定量指标表
as every pilot city's plan lays it out (嘉善's plan, seed 004, is the model).

Names are kept verbatim as printed (including the mix of half- and full-width
brackets), because plans are rendered and exported back in the document's
own words. A data migration loads this list; `sync_catalogue` keeps an
existing database in step when entries are added later.
"""

from __future__ import annotations

from typing import NamedTuple

# Computed-source keys (see sources.py). The event keys are implemented by
# chanrong.events; the platform-financing keys by insights' FinancingRecord
# source until the demands app registers its own.
SOURCE_EVENT_SESSIONS = "events.sessions"
SOURCE_EVENT_FINANCING = "events.financing_amount"
SOURCE_PLATFORM_AMOUNT = "platform.financing_amount"
SOURCE_PLATFORM_COUNT = "platform.financing_count"
# 财政支持 computed by chanrong.policy (policy/sources.py).
SOURCE_POLICY_INTEREST = "policy.interest_subsidy"
SOURCE_POLICY_COMPENSATION = "policy.risk_compensation"
SOURCE_POLICY_BRIDGE_AMOUNT = "policy.bridge_amount"
SOURCE_POLICY_BRIDGE_COUNT = "policy.bridge_count"
SOURCE_POLICY_GUARANTEE_RATE = "policy.guarantee_fee_rate"
# 应收账款融资 computed by chanrong.supplychain (supplychain/sources.py).
SOURCE_SUPPLYCHAIN_AMOUNT = "supplychain.financing_amount"
SOURCE_SUPPLYCHAIN_COUNT = "supplychain.financing_count"


class Entry(NamedTuple):
    code: str
    name: str
    category: str
    unit: str
    kind: str  # "period" | "stock"
    second_kind: str = "none"  # "none" | "growth" | "measure"
    second_unit: str = ""
    source: str = ""
    lower_is_better: bool = False


def _growth(code: str, name: str, category: str, kind: str) -> Entry:
    return Entry(code, name, category, "亿元", kind, "growth", "%")


STANDARD: list[Entry] = [
    # 产业发展
    _growth("gdp", "地区生产总值(GDP)(亿元)及增速(%)", "产业发展", "period"),
    _growth("fixed-asset-investment", "固定资产投资(亿元)及增速(%)", "产业发展", "period"),
    _growth("industrial-value-added", "工业增加值(亿元)及增速(%)", "产业发展", "period"),
    _growth("industrial-profit", "工业企业利润(亿元)及增速(%)", "产业发展", "period"),
    _growth(
        "strategic-emerging-value-added",
        "战略性新兴产业增加值(亿元)及增速(%)",
        "产业发展",
        "period",
    ),
    Entry("rd-expenditure", "规上企业研发费用(亿元)", "产业发展", "亿元", "period"),
    Entry("high-tech-enterprises", "国家高新技术企业(个)", "产业发展", "个", "stock"),
    Entry(
        "listed-enterprises",
        "上交所深交所上市企业(个)、新三板挂牌企业(个)",
        "产业发展",
        "个",
        "stock",
        "measure",
        "个",
    ),
    Entry("regional-equity-listed", "区域股权市场挂牌企业(个)", "产业发展", "个", "stock"),
    # 金融资源
    _growth("finance-value-added", "金融业增加值(亿元)及增速(%)", "金融资源", "period"),
    _growth("manufacturing-loans", "制造业贷款余额(亿元)及增速(%)", "金融资源", "stock"),
    _growth(
        "manufacturing-long-term-loans", "制造业中长期贷款余额(亿元)及增速(%)", "金融资源", "stock"
    ),
    _growth("green-credit", "绿色信贷余额(亿元)及增速(%)", "金融资源", "stock"),
    _growth("inclusive-sme-loans", "普惠型小微企业贷款余额(亿元)及增速(%)", "金融资源", "stock"),
    Entry(
        "inclusive-sme-loan-rate",
        "普惠型小微企业贷款利率(%)",
        "金融资源",
        "%",
        "period",
        lower_is_better=True,
    ),
    Entry("npl-ratio", "不良贷款率(%)", "金融资源", "%", "stock", lower_is_better=True),
    Entry(
        "equity-funds",
        "股权投资基金数量（支）及规模（亿元）",
        "金融资源",
        "支",
        "stock",
        "measure",
        "亿元",
    ),
    Entry("direct-financing", "资本市场直接融资额（亿元）", "金融资源", "亿元", "period"),
    # 金融科技
    Entry("fintech-policies", "金融科技政策（个）", "金融科技", "个", "stock"),
    Entry("fintech-parks", "金融科技园区（个）", "金融科技", "个", "stock"),
    Entry("fintech-pilots", "省部级金融科技试点示范（个）", "金融科技", "个", "stock"),
    Entry("fintech-enterprises", "金融科技企业（个）", "金融科技", "个", "stock"),
    # 信息对接
    Entry(
        "matching-events",
        "银企信息对接活动（场次）",
        "信息对接",
        "场次",
        "period",
        source=SOURCE_EVENT_SESSIONS,
    ),
    Entry(
        "matching-event-financing",
        "银企信息对接活动实现融资额（亿元）",
        "信息对接",
        "亿元",
        "period",
        source=SOURCE_EVENT_FINANCING,
    ),
    Entry("platforms", "产融合作平台（个）", "信息对接", "个", "stock"),
    Entry(
        "platform-financing-amount",
        "产融合作平台融资额（亿元）",
        "信息对接",
        "亿元",
        "period",
        source=SOURCE_PLATFORM_AMOUNT,
    ),
    Entry(
        "platform-financing-count",
        "产融合作平台融资笔数（笔）",
        "信息对接",
        "笔",
        "period",
        source=SOURCE_PLATFORM_COUNT,
    ),
    # 财政支持
    Entry("fiscal-funds", "安排财政资金总额（亿元）", "财政支持", "亿元", "period"),
    Entry(
        "interest-subsidy",
        "贷款贴息资金（亿元）",
        "财政支持",
        "亿元",
        "period",
        source=SOURCE_POLICY_INTEREST,
    ),
    Entry(
        "risk-compensation",
        "风险补偿资金（亿元）",
        "财政支持",
        "亿元",
        "period",
        source=SOURCE_POLICY_COMPENSATION,
    ),
    Entry("guarantee-funds", "融资担保资金（亿元）", "财政支持", "亿元", "period"),
    Entry(
        "government-funds",
        "政府投资基金数量（支）及规模（亿元）",
        "财政支持",
        "支",
        "stock",
        "measure",
        "亿元",
    ),
]

# Indicators the platform measures beyond the printed table (not in the 32,
# so a plan's 定量指标表 reads and renders as approved); sorted after it.
PLATFORM: list[Entry] = [
    Entry(
        "bridge-fund-amount",
        "转贷应急资金（亿元）",
        "财政支持",
        "亿元",
        "period",
        source=SOURCE_POLICY_BRIDGE_AMOUNT,
    ),
    Entry(
        "bridge-fund-count",
        "转贷应急笔数（笔）",
        "财政支持",
        "笔",
        "period",
        source=SOURCE_POLICY_BRIDGE_COUNT,
    ),
    Entry(
        "average-guarantee-fee-rate",
        "平均担保费率（%）",
        "财政支持",
        "%",
        "period",
        source=SOURCE_POLICY_GUARANTEE_RATE,
        lower_is_better=True,
    ),
    Entry(
        "receivable-financing-amount",
        "应收账款融资额（亿元）",
        "金融资源",
        "亿元",
        "period",
        source=SOURCE_SUPPLYCHAIN_AMOUNT,
    ),
    Entry(
        "receivable-financing-count",
        "应收账款融资笔数（笔）",
        "金融资源",
        "笔",
        "period",
        source=SOURCE_SUPPLYCHAIN_COUNT,
    ),
]

BY_CODE = {e.code: e for e in [*STANDARD, *PLATFORM]}


def sync_catalogue(definition_model) -> int:
    """Create or update the standard definitions (and the platform's own);
    returns how many rows were written. Takes the model so a data migration
    can pass its historical one."""
    written = 0
    for position, entry in enumerate([*STANDARD, *PLATFORM], start=1):
        fields = entry._asdict()
        code = fields.pop("code")
        fields["sort_order"] = position * 10
        _, created = definition_model.objects.update_or_create(code=code, defaults=fields)
        written += 1
    return written
