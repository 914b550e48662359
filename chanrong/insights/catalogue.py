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
# 国家高新技术企业 computed by insights itself from the registry (services/registry_sources.py).
SOURCE_HIGH_TECH = "registry.high_tech_enterprises"
# The loan book, computed by chanrong.risk (risk/sources.py).
SOURCE_MANUFACTURING_LOANS = "risk.manufacturing_loan_balance"
SOURCE_MANUFACTURING_LONG_TERM = "risk.manufacturing_long_term_balance"
SOURCE_INCLUSIVE_SME_LOANS = "risk.inclusive_sme_balance"
SOURCE_INCLUSIVE_SME_RATE = "risk.inclusive_sme_rate"
SOURCE_NPL_RATIO = "risk.npl_ratio"
SOURCE_GREEN_CREDIT = "risk.green_credit_balance"
# 上市培育, registered by chanrong.listing.
SOURCE_EXCHANGE_LISTED = "listing.exchange_listed"
SOURCE_NEEQ_LISTED = "listing.neeq_listed"
SOURCE_REGIONAL_EQUITY = "listing.regional_equity_listed"
SOURCE_IPO_PROCEEDS = "listing.ipo_proceeds"
# 绿色金融 (issue 18): the loan book's green figures by chanrong.risk
# (risk/sources_green.py), the green library's counts by chanrong.green.
SOURCE_GREEN_PURPOSE_LOANS = "risk_green.purpose_balance"
SOURCE_GREEN_FINANCING = "risk_green.financing_amount"
SOURCE_GREEN_ENTERPRISES = "green.library_enterprises"
SOURCE_GREEN_PROJECTS = "green.library_projects"
# 产业基金, registered by chanrong.funds.
SOURCE_EQUITY_FUND_COUNT = "funds.equity_fund_count"
SOURCE_EQUITY_FUND_SIZE = "funds.equity_fund_size"
SOURCE_GOVERNMENT_FUND_COUNT = "funds.government_fund_count"
SOURCE_GOVERNMENT_FUND_SIZE = "funds.government_fund_size"
SOURCE_EQUITY_INVESTMENT = "funds.equity_investment_amount"


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
    # Further sources whose values are added to `source`'s (资本市场直接融资额 =
    # 股权投资额 + 首发募资额); all of the same kind and unit.
    added_sources: tuple[str, ...] = ()
    # The source of the second measure (数量及规模: the size; 上市及挂牌: 新三板).
    second_source: str = ""
    # 指标口径: what is counted, 时期 or 时点, which date decides, which records.
    definition: str = ""


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
    # 绿色金融 (issue 18)
    _growth(
        "green-loans-by-purpose", "绿色贷款余额（按用途）(亿元)及增速(%)", "金融资源", "stock"
    )._replace(source=SOURCE_GREEN_PURPOSE_LOANS),
    Entry(
        "green-financing-amount",
        "绿色融资额（亿元）",
        "金融资源",
        "亿元",
        "period",
        source=SOURCE_GREEN_FINANCING,
    ),
    Entry(
        "green-library-enterprises",
        "绿色融资企业库入库企业（个）",
        "金融资源",
        "个",
        "stock",
        source=SOURCE_GREEN_ENTERPRISES,
    ),
    Entry(
        "green-library-projects",
        "绿色融资项目库入库项目（个）",
        "金融资源",
        "个",
        "stock",
        source=SOURCE_GREEN_PROJECTS,
    ),
]


# 指标口径 (what is counted, 时期 or 时点, which date decides, which records)
# and the computed sources of each standard indicator. Indicators with no
# source here are reported (填报) with who reported them and from which
# document; docs/indicators.md repeats these words.
_REPORTED = "填报：由{who}按其统计口径报送，注明报送单位、文件（文号）与日期。"
_STATS = "统计部门"
_PBOC = "人民银行、金融监管部门"
_FIN = "地方金融工作部门"

DEFINITIONS: dict[str, str] = {
    "gdp": "时期指标，全年合计。"
    + _REPORTED.format(who=_STATS)
    + "增速按可比价由统计部门公布，平台按上年同期数值计算名义增速。",
    "fixed-asset-investment": "时期指标，全年合计。" + _REPORTED.format(who=_STATS),
    "industrial-value-added": "时期指标，规模以上工业，全年合计。" + _REPORTED.format(who=_STATS),
    "industrial-profit": "时期指标，规模以上工业企业利润总额，全年合计。"
    + _REPORTED.format(who=_STATS),
    "strategic-emerging-value-added": "时期指标，全年合计。" + _REPORTED.format(who=_STATS),
    "rd-expenditure": "时期指标，规模以上工业企业研发费用，全年合计。"
    + _REPORTED.format(who=_STATS),
    "high-tech-enterprises": (
        "平台计算，时点指标：期末日有效的国家高新技术企业数。计入：本地区（含下级）企业持有的、"
        "已核验的“高新技术企业”资质（企业库资质），生效日期≤期末日≤有效期至（无截止日期视为长期有效）；"
        "同一企业多张证书只计一次，未核验的申报不计。"
    ),
    "listed-enterprises": (
        "平台计算（上市培育库），时点指标：期末日已在上交所、深交所（主板、创业板、科创板）及北交所上市的"
        "本地区企业数；第二项为期末日在新三板挂牌的企业数。以上市/挂牌日期为准。"
    ),
    "regional-equity-listed": (
        "平台计算（上市培育库），时点指标：期末日在区域性股权市场（含专精特新专板）挂牌的本地区企业数，"
        "以挂牌日期为准。"
    ),
    "finance-value-added": "时期指标，全年合计。" + _REPORTED.format(who=_STATS),
    "manufacturing-loans": (
        "平台计算（贷款台账），时点指标：期末日制造业贷款余额。计入：借款企业行业为国民经济行业分类门类 C"
        "（制造业）的贷款，含平台撮合与机构报送的平台外贷款；余额＝放款本金－期末日及以前已还本金；"
        "期末日及以前已无还本续贷（余额转入新贷款）或核销的贷款不计。增速为较上年同日余额的增长。"
    ),
    "manufacturing-long-term-loans": (
        "平台计算（贷款台账），时点指标：制造业贷款中原始期限一年以上（到期日晚于放款日一周年）的贷款"
        "期末日余额，口径同制造业贷款余额。"
    ),
    "green-credit": (
        "平台计算（贷款台账×绿色库），时点指标：期末日借款企业在已发布且当日有效的绿色融资企业（项目）库"
        "版本中（未移出）的贷款余额。以借款企业入库为准（按贷款用途报送的绿色贷款另见“绿色贷款余额（按用途）”）；余额口径同制造业贷款余额。"
    ),
    "inclusive-sme-loans": (
        "平台计算（贷款台账），时点指标：普惠型小微企业贷款期末日余额。计入：借款企业规模为小型或微型"
        "（工信部联企业〔2011〕300号划型），且单户授信总额1000万元（含）以下（银保监办发〔2019〕48号口径）；"
        "平台无授信额度数据，以该企业在同一机构期末日在贷贷款本金合计代替单户授信总额。"
    ),
    "inclusive-sme-loan-rate": (
        "平台计算（贷款台账），时期指标：期内发放的普惠型小微企业贷款（授信口径按放款日判断）按放款本金"
        "加权的平均执行年利率；未报送利率的贷款不计。比率不跨期、跨地区相加。"
    ),
    "npl-ratio": (
        "平台计算（贷款台账），时点指标：期末日次级、可疑、损失类贷款余额÷全部贷款余额×100%。五级分类取"
        "期末日及以前最近一次报送的分类；已核销贷款不计入分子分母。"
    ),
    "equity-funds": (
        "平台计算（产业基金库），时点指标：期末日存续、注册在本地区的股权投资基金数（支）；第二项为其规模"
        "（实缴规模，亿元）。"
    ),
    "direct-financing": (
        "平台计算，时期指标：期内股权投资基金对本地区企业的投资额（以投资日期为准）与本地区企业首发上市"
        "募集资金（以上市日期为准）之和。"
    ),
    "fintech-policies": "时点指标，期末有效的政策文件数。" + _REPORTED.format(who=_FIN),
    "fintech-parks": "时点指标，期末已认定的园区数。" + _REPORTED.format(who=_FIN),
    "fintech-pilots": "时点指标，期末获批的省部级试点示范数。" + _REPORTED.format(who=_FIN),
    "fintech-enterprises": "时点指标，期末数。" + _REPORTED.format(who=_FIN),
    "matching-events": (
        "平台计算（对接活动），时期指标：期内举办日期落在期间内、已结束的银企对接会/路演场次，"
        "取消的不计。"
    ),
    "matching-event-financing": (
        "平台计算（对接活动），时期指标：期内已结束活动现场签约的融资额合计，以签约日期为准。"
    ),
    "platforms": "时点指标，期末运行的产融合作平台数。" + _REPORTED.format(who=_FIN),
    "platform-financing-amount": (
        "平台计算（融资记录），时期指标：期内经平台放款的融资额合计，以放款日期为准，按企业所在地区归集。"
    ),
    "platform-financing-count": (
        "平台计算（融资记录），时期指标：期内经平台放款的融资笔数，以放款日期为准。"
    ),
    "fiscal-funds": "时期指标，期内安排的财政资金总额。" + _REPORTED.format(who="财政部门"),
    "interest-subsidy": "平台计算（政策兑现），时期指标：期内拨付的贷款贴息资金，以拨付日期为准。",
    "risk-compensation": "平台计算（政策兑现），时期指标：期内拨付的风险补偿资金，以拨付日期为准。",
    "guarantee-funds": "时期指标，期内安排的融资担保资金。" + _REPORTED.format(who="财政部门"),
    "government-funds": (
        "平台计算（产业基金库），时点指标：期末日存续、注册在本地区的政府引导基金/政府投资基金数（支）；"
        "第二项为其规模（实缴规模，亿元）。"
    ),
    "bridge-fund-amount": "平台计算（政策兑现），时期指标：期内转贷应急资金出款金额，以出款日期为准。",
    "bridge-fund-count": "平台计算（政策兑现），时期指标：期内转贷应急资金出款笔数，以出款日期为准。",
    "average-guarantee-fee-rate": "平台计算（政策兑现），时期指标：期内担保业务按担保金额加权的平均担保费率。",
    "receivable-financing-amount": "平台计算（供应链金融），时期指标：期内应收账款融资放款金额，以放款日期为准。",
    "receivable-financing-count": "平台计算（供应链金融），时期指标：期内应收账款融资放款笔数，以放款日期为准。",
    "green-loans-by-purpose": (
        "平台计算（贷款台账），时点指标：期末日贷款机构报送了绿色产业指导目录类别（按贷款用途）的贷款余额，"
        "余额口径同制造业贷款余额；不跨期相加。增速为较上年同日余额的增长。"
    ),
    "green-financing-amount": (
        "平台计算（贷款台账×绿色库），时期指标：期内发放的绿色贷款本金合计，以放款日期为准。计入：报送了"
        "绿色产业指导目录类别的贷款，或借款企业在放款日处于已发布且有效的绿色融资企业（项目）库版本中"
        "（未移出）的贷款；无还本续贷不是新增融资，不计。"
    ),
    "green-library-enterprises": (
        "平台计算（绿色融资企业（项目）库），时点指标：期末日处于已发布且有效的绿色库版本中（未移出）的"
        "本地区企业数，同一企业在多个库中只计一次；不跨期相加。"
    ),
    "green-library-projects": (
        "平台计算（绿色融资企业（项目）库），时点指标：期末日处于已发布且有效的绿色库版本中（未移出）的"
        "项目数，按项目所在地归集；不跨期相加。"
    ),
}

# Sources of the standard indicators beyond those written in the entries above:
# code -> (source, added_sources, second_source).
COMPUTED: dict[str, tuple[str, tuple[str, ...], str]] = {
    "high-tech-enterprises": (SOURCE_HIGH_TECH, (), ""),
    "listed-enterprises": (SOURCE_EXCHANGE_LISTED, (), SOURCE_NEEQ_LISTED),
    "regional-equity-listed": (SOURCE_REGIONAL_EQUITY, (), ""),
    "manufacturing-loans": (SOURCE_MANUFACTURING_LOANS, (), ""),
    "manufacturing-long-term-loans": (SOURCE_MANUFACTURING_LONG_TERM, (), ""),
    "green-credit": (SOURCE_GREEN_CREDIT, (), ""),
    "inclusive-sme-loans": (SOURCE_INCLUSIVE_SME_LOANS, (), ""),
    "inclusive-sme-loan-rate": (SOURCE_INCLUSIVE_SME_RATE, (), ""),
    "npl-ratio": (SOURCE_NPL_RATIO, (), ""),
    "equity-funds": (SOURCE_EQUITY_FUND_COUNT, (), SOURCE_EQUITY_FUND_SIZE),
    "direct-financing": (SOURCE_EQUITY_INVESTMENT, (SOURCE_IPO_PROCEEDS,), ""),
    "government-funds": (SOURCE_GOVERNMENT_FUND_COUNT, (), SOURCE_GOVERNMENT_FUND_SIZE),
}


def _complete(entry: Entry) -> Entry:
    source, added, second = COMPUTED.get(entry.code, (entry.source, (), ""))
    return entry._replace(
        source=source,
        added_sources=added,
        second_source=second,
        definition=DEFINITIONS[entry.code],
    )


STANDARD = [_complete(e) for e in STANDARD]
PLATFORM = [_complete(e) for e in PLATFORM]

BY_CODE = {e.code: e for e in [*STANDARD, *PLATFORM]}


def sync_catalogue(definition_model) -> int:
    """Create or update the standard definitions (and the platform's own);
    returns how many rows were written. Takes the model so a data migration
    can pass its historical one."""
    written = 0
    for position, entry in enumerate([*STANDARD, *PLATFORM], start=1):
        fields = entry._asdict()
        code = fields.pop("code")
        fields["added_sources"] = list(entry.added_sources)
        # An earlier migration's historical model lacks the later columns.
        known = {f.name for f in definition_model._meta.get_fields()}
        fields = {k: v for k, v in fields.items() if k in known}
        fields["sort_order"] = position * 10
        _, created = definition_model.objects.update_or_create(code=code, defaults=fields)
        written += 1
    return written
