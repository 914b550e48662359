"""嘉善县's programmes as the demo builds them (one Spec each)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from chanrong.policy.models import (
    ProgrammeKind,
)

from .common import CHONGQING_CLASSES, FINANCE_ADMIN, INDUSTRY_ADMIN, JIASHAN, PROJECT_CLASSES

# --- the programmes -------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    key: str
    owner: str
    kind: str
    name: str
    basis: str
    summary: str
    params: dict
    eligibility: dict
    starts_on: date
    ends_on: date
    requires_bank_confirmation: bool = True
    auto_apply: bool = False
    notice_days: int = 5
    budget: int = 0  # standard yearly appropriation (元); raised when the history needs more
    capital: int = 0  # pools
    period: str = ""  # "quarter" | "half" for loan-based subsidies
    state: str = "published"  # or "draft" / "closed"


def programme_specs(today: date) -> list[Spec]:
    y = today.year
    start, end = date(y - 2, 1, 1), date(y + 1, 12, 31)
    region = {"regions": [JIASHAN]}
    return [
        Spec(
            "interest",
            FINANCE_ADMIN,
            ProgrammeKind.INTEREST,
            "嘉善县“三类企业、五类项目”新增贷款贴息",
            f"善财企〔{y - 2}〕12号",
            "对“三类企业”及“五类项目”年度新增贷款，按放款日适用的1年期LPR的50%给予贴息，"
            "按季申请，以贷款银行确认的实付利息为限。",
            {
                "method": "lpr_share",
                "lpr_tenor": "1y",
                "lpr_share": "50",
                "day_count": "act360",
                "cap_per_loan": "200000",
                "cap_per_enterprise_year": "500000",
            },
            {
                **region,
                "chongqing_classes": CHONGQING_CLASSES,
                "project_classes": PROJECT_CLASSES,
                "loan_kinds": ["debt"],
                "loan_date_from": start.isoformat(),
            },
            start,
            end,
            budget=6_000_000,
            period="quarter",
        ),
        Spec(
            "tech_interest",
            FINANCE_ADMIN,
            ProgrammeKind.INTEREST,
            "嘉善县高新技术企业贷款贴息（免申即享）",
            f"善财企〔{y - 2}〕15号",
            "高新技术企业贷款执行利率高于3%的部分由财政贴息；平台按放款数据自动生成申请，企业确认、贷款银行确认实付利息后进入审核。",
            {
                "method": "above_floor",
                "floor": "3.0",
                "day_count": "act365",
                "principal_cap": "10000000",
                "cap_per_loan": "100000",
                "cap_per_enterprise_year": "200000",
            },
            {
                **region,
                "qualifications": ["high_tech"],
                "sizes": ["medium", "small", "micro"],
                "loan_date_from": start.isoformat(),
            },
            start,
            end,
            auto_apply=True,
            budget=2_000_000,
            period="half",
        ),
        Spec(
            "guarantee",
            FINANCE_ADMIN,
            ProgrammeKind.GUARANTEE_FEE,
            "嘉善县小微企业融资担保费补贴",
            f"善财企〔{y - 2}〕18号",
            "担保费率不高于1%的小微企业融资担保业务，按实际支付担保费的50%给予补贴。",
            {
                "method": "share",
                "share": "50",
                "fee_rate_ceiling": "1",
                "day_count": "act360",
                "cap_per_loan": "50000",
                "cap_per_enterprise_year": "100000",
            },
            {**region, "sizes": ["small", "micro"]},
            start,
            end,
            budget=1_500_000,
            period="half",
        ),
        Spec(
            "bridge",
            FINANCE_ADMIN,
            ProgrammeKind.BRIDGE,
            "嘉善县中小微企业转贷应急资金",
            f"善财企〔{y - 2}〕20号",
            "企业贷款到期、合作银行书面承诺续贷的，由转贷应急资金先行归还，续贷发放后归还资金池；"
            "按日0.01%收取使用费，单笔最长15天。",
            {"daily_fee_rate": "0.01", "max_days": 15, "max_amount": "10000000"},
            {**region, "sizes": ["medium", "small", "micro"]},
            start,
            end,
            capital=30_000_000,
        ),
        Spec(
            "risk_pool",
            FINANCE_ADMIN,
            ProgrammeKind.RISK_POOL,
            "嘉善县小微企业信贷风险补偿资金池",
            f"善财企〔{y - 2}〕21号",
            "合作银行将小微企业贷款备案入池，发生损失的由资金池按40%补偿，单笔最高200万元；追偿所得按同比例回流资金池。",
            {"share": "40", "cap_per_loan": "2000000"},
            {**region, "sizes": ["small", "micro"]},
            start,
            end,
            capital=20_000_000,
        ),
        Spec(
            "listing",
            INDUSTRY_ADMIN,
            ProgrammeKind.AWARD,
            "嘉善县企业上市挂牌奖励",
            f"善经信〔{y - 2}〕8号",
            "对完成股改、辅导备案及在各板块上市挂牌的企业，按板块和阶段给予一次性奖励。",
            {
                "items": [
                    {"code": "reform", "label": "完成股份制改造", "amount": "500000"},
                    {"code": "tutoring", "label": "辅导备案获浙江证监局受理", "amount": "1000000"},
                    {"code": "main_board", "label": "沪深主板首发上市", "amount": "3000000"},
                    {
                        "code": "growth_board",
                        "label": "科创板、创业板、北交所首发上市",
                        "amount": "3000000",
                    },
                    {"code": "neeq", "label": "新三板挂牌", "amount": "500000"},
                    {"code": "regional", "label": "浙江股权交易中心挂牌", "amount": "100000"},
                ]
            },
            dict(region),
            start,
            end,
            requires_bank_confirmation=False,
            budget=5_000_000,
        ),
        Spec(
            "first_loan",
            FINANCE_ADMIN,
            ProgrammeKind.AWARD,
            "嘉善县小微企业首贷户拓展奖励（金融机构）",
            f"善财企〔{y - 2}〕9号",
            "对合作银行向首次获得贷款的小微企业发放的贷款，按贷款金额的0.5%奖励银行，每户最高2万元。",
            {
                "items": [
                    {
                        "code": "first_loan",
                        "label": "首贷户贷款奖励",
                        "recipient": "institution",
                        "rate": "0.5",
                        "cap": "20000",
                    }
                ]
            },
            {**region, "sizes": ["small", "micro"]},
            start,
            date(y - 1, 12, 31),
            requires_bank_confirmation=False,
            budget=500_000,
            state="closed",
        ),
        Spec(
            "shuangbai",
            FINANCE_ADMIN,
            ProgrammeKind.AWARD,
            "嘉善县“双百工业企业”流动资金支出补贴",
            f"善财企〔{y - 2}〕16号",
            "列入制造业白名单的重点工业企业和成长型工业企业，按当年新增流动资金贷款的1%给予补贴。",
            {
                "items": [
                    {
                        "code": "key",
                        "label": "重点工业企业流动资金贷款补贴",
                        "rate": "1",
                        "cap": "300000",
                    },
                    {
                        "code": "growth",
                        "label": "成长型工业企业流动资金贷款补贴",
                        "rate": "1",
                        "cap": "200000",
                    },
                ],
                "cap_per_enterprise_year": "300000",
            },
            {**region, "lists": ["manufacturing_white_list"], "industries_in": ["C"]},
            start,
            end,
            requires_bank_confirmation=False,
            budget=3_000_000,
        ),
        Spec(
            "green",
            FINANCE_ADMIN,
            ProgrammeKind.INTEREST,
            "嘉善县绿色低碳技改项目贷款贴息（征求意见稿）",
            f"善财企〔{y}〕（征求意见稿）",
            "对列入绿色融资企业（项目）库的技改项目贷款，按1%年利率贴息。",
            {"method": "fixed", "rate": "1", "day_count": "act360", "cap_per_loan": "300000"},
            {**region, "lists": ["green"]},
            date(y + 1, 1, 1),
            date(y + 2, 12, 31),
            state="draft",
        ),
    ]
