"""财政金融互动 in the demo county: 嘉善县财政局's programmes of every kind,
two years of applications, payments and pool movements up to the build day.

- Programmes (built by the officials through `policy.services`: created,
  appropriated, capitalised, published — so they are audited like any):
  贴息 for "三类企业、五类项目" new loans (50 % of the 1-year LPR in force on
  the loan date, quarterly, bank-confirmed interest), a 免申即享 贴息 for
  科技型中小企业 (the part of the rate above 3 %), the 担保费补贴 (half the
  fee, guarantees at ≤ 1 % a year only), the 转贷应急 fund (0.01 % a day,
  15 days at most), the 风险补偿 pool (40 % of the loss), the 经信局's
  listing awards by board and stage, a closed 首贷 award to banks and the
  "双百工业企业" liquidity subsidy; and a draft 绿色 贴息 for next year.
- Loans: the platform's own disbursements (`services.loan_from_demand`, one
  per disbursed bank demand in 嘉善), plus off-platform loans the banks
  confirmed; some carry a guarantee (guarantor and fee rate).
- History, in bulk for speed: each application lives a timeline (申请 →
  银行确认 → 初审 → 财政复核/公示 → 公示期满 → 拨付, or 驳回 / 撤回 on the
  way) placed after the period it claims for, and stops at the build day, so
  recent ones are still under review. Amounts come from `services.compute`
  (the calculator the services use), caps applied in approval order; the
  ledger (commit, pay, release) is written with running totals and the
  budget-year and enterprise-year totals are set from it, so committed + paid
  never exceed an appropriation (tests/policy/test_demo.py checks every
  total against the rows).
- Pools through their services (`services.bridge`, `services.riskpool`,
  dated by `today=`): capital, bridge draws requested by the lending bank
  (renewal commitment), approved, drawn on the maturity day and repaid from
  the renewed loan (a few overdue or still out), and loans registered in the
  risk pool, losses claimed, compensated or refused, recoveries flowing back.
- Showcase, through the application services (bank_confirm, verify,
  approve, conclude, reject, raise_objection): the items the demo accounts
  find on their pages — ent_user's application waiting for 嘉善农商行
  (bank_staff) to confirm, ent2_user's 免申即享 proposal and guarantee-fee
  application, one waiting for 财政复核 (gov_jiashan_finance), two in 公示
  right now (one with an open objection), one waiting for payment, and a
  fresh rejection.

Every date is placed relative to the build day and drawn from this
builder's own random stream; the services' clock-stamped times (created_at,
decided_at …) are set back to the story's dates afterwards, so the same
seed, scale and build day give the same rows. Bank-side service calls need
an actor per lending bank: banks without a demo account get one staff user
here (`policy_<bank key>`), as the pilots builder adds its officials.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db.models import F, Min, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from chanrong.accounts.models import Role, User
from chanrong.core import audit, notify
from chanrong.core.errors import ServiceError
from chanrong.core.workdays import is_workday
from chanrong.demands.models import Demand, DemandState
from chanrong.finance import lpr
from chanrong.finance.models import FinancialInstitution, InstitutionKind
from chanrong.finance.services import enterprise_facts
from chanrong.matching.adapter import enterprise_facts_bulk
from chanrong.policy import calculator as calc
from chanrong.policy import params as pm
from chanrong.policy import rules, services
from chanrong.policy.models import (
    Application,
    ApplicationState,
    BridgeDraw,
    BudgetYear,
    EnterpriseYear,
    LedgerEntry,
    LedgerKind,
    Loan,
    LoanSource,
    LossClaim,
    Objection,
    Pool,
    PoolMovement,
    PoolRegistration,
    Programme,
    ProgrammeKind,
)
from chanrong.policy.services import bridge, riskpool
from chanrong.policy.services import pools as pool_services
from chanrong.policy.services.applications import loan_facts
from chanrong.registry.models import Enterprise, Project, Qualification

from .base import DemoContext, workdays_before

NAME = "policy"
# What this builder writes; a rebuild empties these and whatever references them.
MODELS = (
    "policy.programme",
    "policy.loan",
    "policy.application",
    "policy.budgetyear",
    "policy.ledgerentry",
    "policy.pool",
    "policy.bridgedraw",
    "policy.poolregistration",
    "policy.lossclaim",
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


# --- the world ---------------------------------------------------------------------------


@dataclass
class World:
    ctx: DemoContext
    rng: random.Random
    today: date
    users: dict[str, User]
    bank_users: dict[int, User] = field(default_factory=dict)
    programmes: dict[str, Programme] = field(default_factory=dict)
    specs: dict[str, Spec] = field(default_factory=dict)
    loans: list[Loan] = field(default_factory=list)
    enterprises: dict[int, Enterprise] = field(default_factory=dict)
    facts: dict[int, object] = field(default_factory=dict)
    project_class: dict[int, str] = field(default_factory=dict)
    contract_seq: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    #: Enterprises the showcase has given a loan to.
    showcased: set[int] = field(default_factory=set)
    #: Budget years the showcase's services moved (their running balances are redone by date).
    touched_budgets: set[int] = field(default_factory=set)
    lpr_tables: dict[str, list] = field(default_factory=dict)

    @property
    def first_day(self) -> date:
        return self.today - timedelta(days=HISTORY_DAYS)

    def user(self, name: str) -> User:
        return self.users[name]

    def learn(self, enterprise_ids) -> None:
        """Load enterprises and their facts in bulk (the matching adapter's
        mirror of registry.services.eligibility_facts: a few queries in all)."""
        ids = sorted(set(enterprise_ids) - set(self.facts))
        if not ids:
            return
        for enterprise in Enterprise.objects.filter(pk__in=ids).select_related(
            "region", "industry"
        ):
            self.enterprises.setdefault(enterprise.pk, enterprise)
        facts = enterprise_facts_bulk([(pk, self.today) for pk in ids])
        self.facts.update(zip(ids, facts, strict=True))

    def know(self, enterprise_id: int) -> Enterprise:
        """The enterprise and its eligibility facts as of the build day, loaded once."""
        if enterprise_id not in self.enterprises:
            self.enterprises[enterprise_id] = Enterprise.objects.select_related(
                "region", "industry"
            ).get(pk=enterprise_id)
        if enterprise_id not in self.facts:
            self.facts[enterprise_id] = enterprise_facts(
                self.enterprises[enterprise_id], today=self.today
            )
        return self.enterprises[enterprise_id]

    def contract_no(self, institution: FinancialInstitution, year: int) -> str:
        self.contract_seq[institution.pk] += 1
        prefix = institution.uscc[-6:-1]
        return f"{prefix}-{year}-{self.contract_seq[institution.pk]:05d}"


def build(ctx: DemoContext) -> None:
    rng = ctx.rng(NAME)
    users = {u.username: u for u in User.objects.filter(username__in=_named_users())}
    world = World(ctx, rng, ctx.today, users)
    _designate_classes(world)
    _bank_users(world)
    _create_programmes(world)
    _loans(world)
    stories = _stories(world)
    _budgets_and_publish(world, stories)
    _write_history(world, stories)
    _pools(world)
    _showcase(world)
    ctx.counts["policy_programmes"] = Programme.objects.count()
    ctx.counts["policy_loans"] = Loan.objects.count()
    ctx.counts["policy_applications"] = Application.objects.count()
    ctx.counts["policy_ledger_entries"] = LedgerEntry.objects.count()
    ctx.counts["policy_bridge_draws"] = BridgeDraw.objects.count()
    ctx.counts["policy_pool_registrations"] = PoolRegistration.objects.count()
    ctx.counts["policy_loss_claims"] = LossClaim.objects.count()
    _restamp_setup(world)


def _named_users() -> list[str]:
    return [
        FINANCE_ADMIN,
        FINANCE_STAFF,
        INDUSTRY_ADMIN,
        ENT_USER,
        ENT2_USER,
        *DEMO_BANK_USERS.values(),
    ]


def _designate_classes(world: World) -> None:
    """重庆's "三类企业" as a county keeps them: 专精特新 → 专精特新 class,
    高新技术 → 战略性新兴 class, and some 规上 manufacturers with a good tax
    grade → the "四有" class. The demo registry leaves the class empty."""
    rng = world.rng
    day = world.today
    kinds: dict[int, set[str]] = defaultdict(set)
    for enterprise_id, kind in (
        Qualification.objects.active_on(day)
        .filter(enterprise__region_id=JIASHAN)
        .values_list("enterprise_id", "kind")
    ):
        kinds[enterprise_id].add(kind)
    changed = []
    for enterprise in Enterprise.objects.filter(
        region_id=JIASHAN, industry__code__startswith="C"
    ).order_by("uscc"):
        held = kinds.get(enterprise.pk, set())
        if held & {"specialised_sme", "little_giant"}:
            enterprise.chongqing_class = "specialised"
        elif "high_tech" in held and rng.random() < 0.7:
            enterprise.chongqing_class = "strategic"
        elif enterprise.tax_grade == "A" and rng.random() < 0.3:
            enterprise.chongqing_class = "market"
        else:
            continue
        changed.append(enterprise)
    Enterprise.objects.bulk_update(changed, ["chongqing_class"], batch_size=2000)
    world.ctx.counts["policy_class_designations"] = len(changed)


def _bank_users(world: World) -> None:
    """An actor per bank lending in 嘉善: the demo accounts for 嘉善农商行 and
    工商银行, a `policy_<key>` staff user for every other bank."""
    from .organisations import INSTITUTIONS

    institutions = world.ctx.refs["institutions"]
    branches = world.ctx.refs["county_branches"]
    created = []
    for spec in INSTITUTIONS:
        if spec.kind != InstitutionKind.BANK:
            continue
        institution = institutions[spec.key]
        if spec.key in DEMO_BANK_USERS:
            world.bank_users[institution.pk] = world.user(DEMO_BANK_USERS[spec.key])
            continue
        user = User(
            username=f"policy_{spec.key}",
            display_name=f"{spec.short_name}嘉善信贷员",
            role=Role.INSTITUTION_STAFF,
            institution=institution,
            branch=(branches.get(spec.key) or [None])[0],
            password=world.ctx.password_hash,
            is_active=True,
        )
        created.append(user)
        world.bank_users[institution.pk] = user
    User.objects.bulk_create(created)
    world.ctx.counts["users"] = world.ctx.counts.get("users", 0) + len(created)


def _create_programmes(world: World) -> None:
    for spec in programme_specs(world.today):
        programme = services.create_programme(
            world.user(spec.owner),
            {
                "kind": spec.kind,
                "name": spec.name,
                "basis": spec.basis,
                "summary": spec.summary,
                "starts_on": spec.starts_on,
                "ends_on": spec.ends_on,
                "params": spec.params,
                "eligibility": spec.eligibility,
                "requires_bank_confirmation": spec.requires_bank_confirmation,
                "auto_apply": spec.auto_apply,
                "notice_days": spec.notice_days,
            },
        )
        world.programmes[spec.key] = programme
        world.specs[spec.key] = spec


# --- loans -------------------------------------------------------------------------------


def _loans(world: World) -> None:
    """The platform's disbursed bank loans in 嘉善 (through the service),
    off-platform loans confirmed by the banks, guarantees on some, and the
    loans the showcase needs."""
    rng = world.rng
    today = world.today
    banks = {
        i.pk: i
        for i in FinancialInstitution.objects.filter(kind=InstitutionKind.BANK).order_by("pk")
    }
    demands = Demand.objects.filter(
        state=DemandState.DISBURSED,
        disbursed_on__isnull=False,
        enterprise__region_id=JIASHAN,
        outcome_institution_id__in=list(banks),
    ).order_by("disbursed_on", "pk")
    loans = [services.loan_from_demand(demand) for demand in demands]
    # Off-platform loans: as many again, at least a dozen. A loan reaches
    # the platform from outside when its borrower wants a subsidy on it, so
    # most borrowers are the county's 三类企业 and 高新技术企业 (and any
    # enterprise with a 五类 project), the rest anyone in 嘉善.
    lending = [banks[u_pk] for u_pk in sorted(world.bank_users) if u_pk in banks]
    county = list(
        Enterprise.objects.filter(region_id=JIASHAN).order_by("uscc").values_list("pk", flat=True)
    )
    projects = defaultdict(list)
    for project in Project.objects.filter(
        owner__region_id=JIASHAN, project_class__in=PROJECT_CLASSES
    ).order_by("pk"):
        projects[project.owner_id].append(project)
    high_tech = (
        Qualification.objects.active_on(today).filter(kind="high_tech").values("enterprise_id")
    )
    wanted = (
        list(
            Enterprise.objects.filter(region_id=JIASHAN)
            .filter(~Q(chongqing_class="") | Q(pk__in=high_tech) | Q(pk__in=list(projects)))
            .order_by("uscc")
            .values_list("pk", flat=True)
        )
        or county
    )
    extra = []
    for _n in range(max(12, round(len(loans) * 1.0))):
        enterprise_id = rng.choice(wanted if rng.random() < 0.75 else county)
        bank = rng.choice(lending)
        loan_date = today - timedelta(days=rng.randint(40, HISTORY_DAYS + 60))
        own = projects.get(enterprise_id)
        project = own[0] if own and rng.random() < 0.6 else None
        extra.append(
            _off_platform(
                world,
                enterprise_id,
                bank,
                loan_date,
                principal=Decimal(rng.choice((50, 100, 200, 300, 500, 800, 1000, 1500, 2000)))
                * WAN,
                term=rng.choice((12, 12, 24, 36)),
                purpose=project.name[:60] + "建设" if project else rng.choice(PURPOSES),
                project=project,
            )
        )
    Loan.objects.bulk_create(extra)
    loans.extend(extra)
    # Guarantees: a third of the small and micro enterprises' loans.
    guarantors = [world.ctx.refs["institutions"][k] for k in GUARANTORS]
    sizes = dict(
        Enterprise.objects.filter(pk__in={loan.enterprise_id for loan in loans}).values_list(
            "pk", "size"
        )
    )
    rates, weights = zip(*FEE_RATES, strict=True)
    guaranteed = []
    for loan in loans:
        if sizes.get(loan.enterprise_id) in ("small", "micro") and rng.random() < 0.35:
            loan.guarantor = rng.choice(guarantors)
            loan.guarantee_fee_rate = rng.choices(rates, weights=weights)[0]
            guaranteed.append(loan)
    Loan.objects.bulk_update(guaranteed, ["guarantor", "guarantee_fee_rate"], batch_size=2000)
    world.loans = loans
    world.learn(loan.enterprise_id for loan in loans)
    world.project_class = dict(
        Project.objects.filter(
            pk__in={loan.project_id for loan in loans if loan.project_id}
        ).values_list("pk", "project_class")
    )


def _off_platform(
    world: World,
    enterprise_id: int,
    bank: FinancialInstitution,
    loan_date: date,
    *,
    principal: Decimal,
    term: int,
    purpose: str,
    project=None,
    confirmed: bool = True,
) -> Loan:
    rng = world.rng
    return Loan(
        enterprise_id=enterprise_id,
        institution=bank,
        source=LoanSource.OFF_PLATFORM,
        contract_no=world.contract_no(bank, loan_date.year),
        principal=principal,
        rate=Decimal(rng.randint(280, 520)) / 100,
        loan_date=loan_date,
        maturity_date=_add_months(loan_date, term),
        purpose=purpose,
        project=project,
        confirmed_at=_at(rng, loan_date) if confirmed else None,
        confirmed_by=world.bank_users.get(bank.pk) if confirmed else None,
    )


def _terms(world: World, loan: Loan) -> rules.LoanTerms:
    return rules.LoanTerms(
        kind=loan.kind,
        purpose=loan.purpose,
        principal=loan.principal,
        loan_date=loan.loan_date,
        maturity_date=loan.maturity_date,
        project_class=world.project_class.get(loan.project_id) if loan.project_id else None,
    )


def _eligible(world: World, key: str, enterprise_id: int, loan: Loan | None) -> bool:
    """The programme's own conditions (policy.rules), as the services check them."""
    enterprise = world.know(enterprise_id)
    result = rules.evaluate(
        services.check(world.programmes[key]).conditions,
        world.facts[enterprise_id],
        chongqing_class=enterprise.chongqing_class or None,
        loan=_terms(world, loan) if loan is not None else None,
        today=world.today,
        explain=False,
    )
    return result.eligible


# --- application stories -----------------------------------------------------------------


@dataclass
class Story:
    key: str  # programme spec key
    enterprise_id: int | None
    institution_id: int | None
    loan: Loan | None
    period: tuple[date, date]
    award_item: str = ""
    events: list[tuple[str, date]] = field(default_factory=list)
    notice: tuple[date, date] | None = None
    reason: str = ""
    objection: str = ""  # "" | "dismissed" | "upheld"
    paid_cost: Decimal | None = None
    amount: Decimal = Decimal(0)
    calculation: dict = field(default_factory=dict)
    auto: bool = False
    verifier: str = INDUSTRY_ADMIN

    @property
    def year(self) -> int:
        return self.period[1].year

    @property
    def happened(self) -> dict[str, date]:
        return dict(self.events)

    @property
    def state(self) -> str:
        return _STATE_AFTER[self.events[-1][0]](self)

    @property
    def holds(self) -> bool:
        return self.state in (
            ApplicationState.NOTICE,
            ApplicationState.APPROVED,
            ApplicationState.PAID,
        )

    @property
    def sort_day(self) -> date:
        events = self.happened
        return events.get("approve") or events.get("reject") or self.events[0][1]


_STATE_AFTER = {
    "propose": lambda s: ApplicationState.PROPOSED,
    "submit": lambda s: (
        ApplicationState.BANK_PENDING if _needs_bank(s) else ApplicationState.SUBMITTED
    ),
    "bank_confirm": lambda s: ApplicationState.SUBMITTED,
    "verify": lambda s: ApplicationState.VERIFIED,
    "approve": lambda s: ApplicationState.NOTICE,
    "conclude": lambda s: ApplicationState.APPROVED,
    "pay": lambda s: ApplicationState.PAID,
    "reject": lambda s: ApplicationState.REJECTED,
    "withdraw": lambda s: ApplicationState.WITHDRAWN,
}


#: The loan-based subsidies: the lending bank confirms what was paid in the period.
BANK_CONFIRMED = ("interest", "tech_interest", "guarantee")


def _needs_bank(story: Story) -> bool:
    return story.loan is not None and story.key in BANK_CONFIRMED


def _periods(kind: str, first: date, last: date) -> list[tuple[date, date]]:
    """Calendar quarters or halves from `first`'s to `last`'s, both included."""
    months = 3 if kind == "quarter" else 6
    out = []
    start = date(first.year, ((first.month - 1) // months) * months + 1, 1)
    while start <= last:
        end = _add_months(start, months) - timedelta(days=1)
        out.append((start, end))
        start = end + timedelta(days=1)
    return out


def _timeline(world: World, story: Story, first: date, spec: Spec) -> bool:
    """Place the story's events from `first`; keep those before the build
    day. False when nothing has happened yet."""
    rng = world.rng
    today = world.today
    planned: list[tuple[str, date]] = []
    day = first
    if story.auto:
        planned.append(("propose", day))
        day += timedelta(days=rng.randint(1, 12))
    planned.append(("submit", day))
    roll = rng.random()
    if _needs_bank(story):
        day = _after(day, rng.randint(1, 6))
        if roll < 0.02:
            planned.append(("reject", day))
            story.reason = BANK_REJECT
            return _keep(story, planned, today)
        planned.append(("bank_confirm", day))
    if 0.02 <= roll < 0.05:
        planned.append(("withdraw", _after(day, rng.randint(1, 4))))
        story.reason = rng.choice(WITHDRAW_REASONS)
        return _keep(story, planned, today)
    day = _after(day, rng.randint(2, 8))
    if 0.05 <= roll < 0.13:
        planned.append(("reject", day))
        story.reason = rng.choice(REJECT_REASONS[spec.kind])
        return _keep(story, planned, today)
    planned.append(("verify", day))
    day = _after(day, rng.randint(2, 6))
    if 0.13 <= roll < 0.16:
        planned.append(("reject", day))
        story.reason = rng.choice(REJECT_REASONS[spec.kind])
        return _keep(story, planned, today)
    planned.append(("approve", day))
    story.notice = (day, _after(day, spec.notice_days))
    if 0.16 <= roll < 0.175:
        story.objection = "upheld"
        planned.append(("reject", _after(day, 3)))
        story.reason = "公示异议成立：经核实，" + rng.choice(OBJECTION_TEXT)
        return _keep(story, planned, today)
    if 0.175 <= roll < 0.2:
        story.objection = "dismissed"
    day = story.notice[1] + timedelta(days=1)
    planned.append(("conclude", day))
    planned.append(("pay", _after(day, rng.randint(3, 12))))
    return _keep(story, planned, today)


def _keep(story: Story, planned: list[tuple[str, date]], today: date) -> bool:
    """What happened before the build day; the rest of the plan is dropped."""
    story.events = [(name, day) for name, day in planned if day < today]
    happened = story.happened
    if "approve" not in happened:
        story.notice = None
        story.objection = ""
    elif story.objection == "upheld" and "reject" not in happened:
        story.objection = "open"  # raised in the 公示, not handled yet
    if not story.events or story.events[-1][0] not in ("reject", "withdraw"):
        story.reason = ""
    return bool(story.events)


def _interest_paid(loan: Loan, period: tuple[date, date], rate: Decimal) -> Decimal:
    """What the borrower paid in the period at `rate` % a year (act/360): the
    figure its bank confirms."""
    first = max(period[0], loan.loan_date)
    last = min(period[1], loan.maturity_date - timedelta(days=1))
    days = (last - first).days + 1 if last >= first else 0
    return _yuan(loan.principal * rate / 100 * days / 360)


def _stories(world: World) -> list[Story]:
    rng = world.rng
    today = world.today
    stories: list[Story] = []
    loans = sorted(world.loans, key=lambda loan: (loan.loan_date, loan.contract_no))
    for key in ("interest", "tech_interest", "guarantee"):
        spec = world.specs[key]
        programme = world.programmes[key]
        for loan in loans:
            if loan.confirmed_at is None:
                continue
            if key == "guarantee" and (
                loan.guarantee_fee_rate is None or loan.guarantee_fee_rate > 1
            ):
                continue
            if not _eligible(world, key, loan.enterprise_id, loan):
                continue
            first = max(loan.loan_date, programme.starts_on, world.first_day - timedelta(days=90))
            last = min(loan.maturity_date - timedelta(days=1), today - timedelta(days=1))
            for period in _periods(spec.period, first, last):
                if period[1] >= today or rng.random() < 0.12:
                    continue
                story = Story(
                    key,
                    loan.enterprise_id,
                    loan.institution_id,
                    loan,
                    period,
                    auto=spec.auto_apply,
                    verifier=INDUSTRY_ADMIN if key == "interest" else FINANCE_STAFF,
                )
                lag = 3 if spec.auto_apply else rng.randint(5, 35)
                if _timeline(world, story, period[1] + timedelta(days=lag), spec):
                    stories.append(story)
    stories.extend(_award_stories(world))
    _force_states(world, stories)
    _amounts(world, stories)
    return [s for s in stories if s.amount > 0 or s.state == ApplicationState.PROPOSED]


def _award_stories(world: World) -> list[Story]:
    rng = world.rng
    today = world.today
    stories = []
    loans = sorted(
        (loan for loan in world.loans if loan.confirmed_at),
        key=lambda loan: (loan.loan_date, loan.contract_no),
    )
    # 首贷: a bank's first platform loan to a small or micro enterprise.
    spec = world.specs["first_loan"]
    first_loans: dict[int, Loan] = {}
    for loan in loans:
        if loan.source == LoanSource.PLATFORM:
            first_loans.setdefault(loan.enterprise_id, loan)
    firsts = dict(
        Demand.objects.filter(enterprise_id__in=list(first_loans), state=DemandState.DISBURSED)
        .values("enterprise_id")
        .annotate(first=Min("disbursed_on"))
        .values_list("enterprise_id", "first")
    )
    for enterprise_id, loan in sorted(first_loans.items(), key=lambda kv: kv[1].contract_no):
        if firsts.get(enterprise_id) != loan.loan_date:
            continue  # borrowed before: not a 首贷户
        if not _eligible(world, "first_loan", enterprise_id, None):
            continue
        day = loan.loan_date + timedelta(days=rng.randint(20, 60))
        if not (spec.starts_on <= day <= spec.ends_on):
            continue
        story = Story(
            "first_loan", None, loan.institution_id, loan, (day, day), "first_loan",
            verifier=FINANCE_STAFF,
        )  # fmt: skip
        if _timeline(world, story, day, spec):
            stories.append(story)
    # 双百: a white-listed manufacturer's largest loan of each year.
    spec = world.specs["shuangbai"]
    best: dict[tuple[int, int], Loan] = {}
    for loan in loans:
        slot = (loan.enterprise_id, loan.loan_date.year)
        if slot not in best or loan.principal > best[slot].principal:
            best[slot] = loan
    for (enterprise_id, _year), loan in sorted(best.items()):
        if not _eligible(world, "shuangbai", enterprise_id, loan):
            continue
        day = loan.loan_date + timedelta(days=rng.randint(30, 90))
        if day < spec.starts_on or rng.random() < 0.3:
            continue
        size = world.enterprises[enterprise_id].size
        item = "key" if size in ("large", "medium") else "growth"
        story = Story("shuangbai", enterprise_id, loan.institution_id, loan, (day, day), item)
        if _timeline(world, story, day, spec):
            stories.append(story)
    # Listing: the county's larger enterprises, one or two stages each.
    spec = world.specs["listing"]
    candidates = list(
        Enterprise.objects.filter(region_id=JIASHAN, size__in=("large", "medium"))
        .order_by("-revenue", "uscc")
        .values_list("pk", flat=True)[: max(3, round(8 * world.ctx.scale**0.5))]
    )
    ladder = ["reform", "tutoring", "growth_board"]
    world.learn(candidates)
    for enterprise_id in candidates:
        if not _eligible(world, "listing", enterprise_id, None):
            continue
        steps = rng.choice((["regional"], ["neeq"], ladder[:1], ladder[:2], ladder))
        day = world.first_day + timedelta(days=rng.randint(10, 200))
        for item in steps:
            if day >= today:
                break
            story = Story("listing", enterprise_id, None, None, (day, day), item)
            if _timeline(world, story, day, spec):
                stories.append(story)
            day += timedelta(days=rng.randint(150, 300))
    return stories


def _force_states(world: World, stories: list[Story]) -> None:
    """Every end state occurs, whatever the scale: if the history has no
    payment, withdrawal or rejection yet, the oldest finished stories end so."""
    done = sorted(
        (s for s in stories if s.events and s.events[-1][0] == "pay"),
        key=lambda s: (s.events[0][1], s.key, s.loan.contract_no if s.loan else ""),
    )
    states = {s.state for s in stories}
    if ApplicationState.WITHDRAWN not in states and len(done) > 2:
        story = done[1]
        story.events = story.events[:1] + [("withdraw", story.events[0][1] + timedelta(days=2))]
        story.reason, story.notice, story.objection = WITHDRAW_REASONS[0], None, ""
    if ApplicationState.REJECTED not in states and len(done) > 3:
        story = done[2]
        kind = world.specs[story.key].kind
        verify_day = _after(story.events[0][1], 6)
        story.events = [e for e in story.events if e[0] in ("propose", "submit", "bank_confirm")]
        story.events.append(("reject", verify_day))
        story.reason, story.notice, story.objection = REJECT_REASONS[kind][0], None, ""


def _amounts(world: World, stories: list[Story]) -> None:
    """Each story's amount by the services' own calculator, in approval order,
    so the per-loan and per-enterprise caps see what earlier approvals hold."""
    on_loan: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    by_enterprise: dict[tuple[str, int, int], Decimal] = defaultdict(Decimal)
    for story in sorted(
        stories, key=lambda s: (s.sort_day, s.key, s.period, _loan_no(s), s.award_item)
    ):
        programme = world.programmes[story.key]
        loan = story.loan
        confirmed = "bank_confirm" in story.happened or not _needs_bank(story)
        if loan is not None and programme.kind != ProgrammeKind.AWARD and confirmed:
            rate = loan.rate if story.key != "guarantee" else loan.guarantee_fee_rate
            story.paid_cost = _interest_paid(loan, story.period, rate)
        claim = services.Claim(story.period[0], story.period[1], story.paid_cost, story.award_item)
        held = calc.Held(
            on_loan=on_loan[(story.key, loan.pk)] if loan is not None else Decimal(0),
            by_enterprise_this_year=by_enterprise[(story.key, story.enterprise_id, story.year)]
            if story.enterprise_id
            else Decimal(0),
        )
        result = _compute(world, programme, claim, loan, story.enterprise_id, held)
        story.amount = result.amount
        story.calculation = result.as_json()
        if story.holds and story.amount > 0:
            if loan is not None:
                on_loan[(story.key, loan.pk)] += story.amount
            if story.enterprise_id:
                by_enterprise[(story.key, story.enterprise_id, story.year)] += story.amount


def _compute(world: World, programme, claim, loan, enterprise_id, held) -> calc.Result:
    """services.compute, with the LPR read from a table loaded once instead
    of one query per loan (the same calculator, the same LPR in force on the
    loan date; tests/policy/test_demo.py holds the two equal)."""
    params = services.check(programme).params
    if programme.kind != ProgrammeKind.INTEREST or params.method != pm.LPR_SHARE:
        return services.compute(programme, claim, loan=loan, enterprise_id=enterprise_id, held=held)
    if params.lpr_tenor not in world.lpr_tables:
        world.lpr_tables[params.lpr_tenor] = lpr.lpr_table(params.lpr_tenor)
    found = lpr.rate_in_force(world.lpr_tables[params.lpr_tenor], loan.loan_date)
    fact = None
    if found is not None:
        stale = (loan.loan_date - found[0]).days > lpr.STALE_AFTER_DAYS
        fact = calc.LprFact(params.lpr_tenor, found[0], found[1], stale)
    return calc.interest_subsidy(
        params,
        loan_facts(loan),
        (claim.period_start, claim.period_end),
        (programme.starts_on, programme.ends_on),
        interest_paid=claim.paid_cost,
        lpr=fact,
        held=held,
    )


def _loan_no(story: Story) -> str:
    return story.loan.contract_no if story.loan is not None else ""


# --- budgets, publication, and the history written in bulk --------------------------------


def _budgets_and_publish(world: World, stories: list[Story]) -> None:
    """Appropriate each year (the standard sum, more when the history needs
    it, with room left for this year's reviews), fill the pools, publish;
    close the programme whose period is over."""
    need: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for story in stories:
        if "approve" in story.happened:
            need[(story.key, story.year)] += story.amount
    for spec in world.specs.values():
        programme = world.programmes[spec.key]
        admin = world.user(spec.owner)
        if spec.state == "draft":
            continue
        if spec.kind in (ProgrammeKind.BRIDGE, ProgrammeKind.RISK_POOL):
            pool_services.add_capital(
                admin, programme, Decimal(spec.capital), on=spec.starts_on, note="财政注资"
            )
        else:
            for year in range(spec.starts_on.year, min(spec.ends_on.year, world.today.year) + 1):
                wanted = need[(spec.key, year)] * Decimal("1.15") + Decimal(500_000)
                rounded = -(-wanted // MILLION) * MILLION  # up to the next million
                services.set_appropriation(
                    admin, programme, year, max(Decimal(spec.budget), rounded)
                )
        services.publish_programme(admin, programme)
        if spec.state == "closed":
            services.close_programme(admin, programme)
    # Fresh rows: the objects the services were handed hold stale caches (the pool).
    for key, programme in world.programmes.items():
        world.programmes[key] = Programme.objects.get(pk=programme.pk)


def _write_history(world: World, stories: list[Story]) -> None:
    rng = world.rng
    users = world.users
    rows: list[Application] = []
    times: list[tuple[datetime, datetime]] = []
    applicant_user = {
        users[ENT_USER].enterprise_id: users[ENT_USER],
        users[ENT2_USER].enterprise_id: users[ENT2_USER],
    }
    vouchers: dict[int, int] = defaultdict(int)
    ordered = sorted(
        stories, key=lambda s: (s.events[0][1], s.key, s.period, _loan_no(s), s.award_item)
    )
    for story in ordered:
        programme = world.programmes[story.key]
        events = story.happened
        stamps = {name: _at(rng, day) for name, day in story.events}
        state = story.state
        first_name = story.events[0][0]
        submitter = (
            applicant_user.get(story.enterprise_id)
            if story.enterprise_id
            else world.bank_users.get(story.institution_id)
        )
        paid_on = events.get("pay")
        voucher = ""
        if paid_on:
            vouchers[paid_on.year] += 1
            voucher = f"善财国库支〔{paid_on.year}〕{vouchers[paid_on.year]:05d}号"
        decided = events.get("pay") or events.get("reject") or events.get("withdraw")
        bank_user = world.bank_users.get(story.loan.institution_id) if story.loan else None
        rows.append(
            Application(
                programme=programme,
                enterprise_id=story.enterprise_id,
                institution_id=story.institution_id,
                loan=story.loan,
                year=story.year,
                period_start=story.period[0],
                period_end=story.period[1],
                paid_cost=story.paid_cost,
                award_item=story.award_item,
                amount=story.amount,
                calculation=story.calculation,
                state=state,
                auto_built=story.auto,
                reason=story.reason,
                notice_starts_on=story.notice[0] if story.notice else None,
                notice_ends_on=story.notice[1] if story.notice else None,
                voucher_no=voucher,
                paid_on=paid_on,
                bank_confirmed_at=stamps.get("bank_confirm"),
                bank_confirmed_by=bank_user if "bank_confirm" in events else None,
                submitted_by=submitter if "submit" in events else None,
                submitted_at=stamps.get("submit"),
                verified_by=users[story.verifier] if "verify" in events else None,
                approved_by=users[FINANCE_ADMIN] if "approve" in events else None,
                decided_at=stamps[_decision_name(events)] if decided else None,
            )
        )
        times.append((stamps[first_name], stamps[story.events[-1][0]]))
    Application.objects.bulk_create(rows, batch_size=world.ctx.batch_size)
    for row, (created, updated) in zip(rows, times, strict=True):
        row.created_at, row.updated_at = created, updated
    Application.objects.bulk_update(rows, ["created_at", "updated_at"], batch_size=2000)
    for story, row in zip(ordered, rows, strict=True):
        story.row = row
    _objections(world, ordered)
    _ledger(world, ordered)


def _decision_name(events: dict[str, date]) -> str:
    for name in ("pay", "reject", "withdraw"):
        if name in events:
            return name
    raise KeyError("no decision")


def _objections(world: World, stories: list[Story]) -> None:
    rng = world.rng
    staff = world.users[INDUSTRY_ADMIN]
    rows = []
    for story in stories:
        if not story.objection:
            continue
        start = story.notice[0]
        handled = story.objection in ("dismissed", "upheld")
        handled_day = story.happened.get("reject") or _after(start, 2)
        rows.append(
            Objection(
                application=story.row,
                name=rng.choice(OBJECTION_NAMES),
                contact=f"13{rng.randint(100000000, 999999999)}",
                text=rng.choice(OBJECTION_TEXT),
                handled_at=_at(rng, handled_day) if handled else None,
                handled_by=staff if handled else None,
                resolution=(
                    "经核实异议成立，驳回申请"
                    if story.objection == "upheld"
                    else "经核实，贷款用途与申报一致，异议不成立"
                )
                if handled
                else "",
            )
        )
    Objection.objects.bulk_create(rows)
    world.ctx.counts["policy_objections"] = len(rows)


def _ledger(world: World, stories: list[Story]) -> None:
    """Commitments at 财政复核, payments, releases on a later rejection, in
    date order per budget year, with the running totals each row records;
    then the budget-year and enterprise-year totals from the same figures."""
    rng = world.rng
    budgets = {
        (b.programme_id, b.year): b
        for b in BudgetYear.objects.filter(programme__in=world.programmes.values())
    }
    moves = []
    for story in stories:
        events = story.happened
        if "approve" not in events:
            continue
        budget = budgets[(story.row.programme_id, story.year)]
        moves.append((events["approve"], 0, story, budget, LedgerKind.COMMIT, story.amount))
        if "pay" in events:
            moves.append((events["pay"], 1, story, budget, LedgerKind.PAY, story.amount))
        elif "reject" in events or "withdraw" in events:
            day = events.get("reject") or events.get("withdraw")
            moves.append((day, 1, story, budget, LedgerKind.RELEASE, -story.amount))
    moves.sort(key=lambda m: (m[0], m[1], m[2].row.pk))
    staff = world.users[FINANCE_STAFF]
    admin = world.users[FINANCE_ADMIN]
    totals: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    rows, stamps = [], []
    for day, _order, story, budget, kind, amount in moves:
        running = totals[budget.pk]
        if kind == LedgerKind.COMMIT:
            running[0] += amount
        elif kind == LedgerKind.PAY:
            running[0] -= amount
            running[1] += amount
        else:
            running[0] += amount
        rows.append(
            LedgerEntry(
                budget=budget,
                application=story.row,
                kind=kind,
                amount=amount,
                committed_after=running[0],
                paid_after=running[1],
                actor=staff if kind == LedgerKind.PAY else admin,
            )
        )
        stamps.append(_at(rng, day))
    LedgerEntry.objects.bulk_create(rows, batch_size=world.ctx.batch_size)
    for row, stamp in zip(rows, stamps, strict=True):
        row.created_at = stamp
    LedgerEntry.objects.bulk_update(rows, ["created_at"], batch_size=2000)
    for budget in budgets.values():
        committed, paid = totals[budget.pk]
        if committed or paid:
            BudgetYear.objects.filter(pk=budget.pk).update(committed=committed, paid=paid)
    holdings: dict[tuple[int, int, int], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0)]
    )
    for story in stories:
        if story.enterprise_id and story.holds:
            slot = holdings[(story.row.programme_id, story.year, story.enterprise_id)]
            slot[1 if story.state == ApplicationState.PAID else 0] += story.amount
    EnterpriseYear.objects.bulk_create(
        [
            EnterpriseYear(
                programme_id=p, year=y, enterprise_id=e, committed=values[0], paid=values[1]
            )
            for (p, y, e), values in sorted(holdings.items())
        ],
        batch_size=world.ctx.batch_size,
    )


# --- the pools, through their services ---------------------------------------------------


def _pools(world: World) -> None:
    _risk_pool(world)
    _bridge(world)


def _pool_loans(world: World, key: str) -> list[Loan]:
    programme = world.programmes[key]
    return [
        loan
        for loan in sorted(world.loans, key=lambda loan: (loan.loan_date, loan.contract_no))
        if loan.confirmed_at is not None
        and loan.institution_id in world.bank_users
        and loan.loan_date >= programme.starts_on
        and _eligible(world, key, loan.enterprise_id, loan)
    ]


def _risk_pool(world: World) -> None:
    rng = world.rng
    today = world.today
    programme = world.programmes["risk_pool"]
    admin = world.user(FINANCE_ADMIN)
    cap = min(60, max(10, round(40 * world.ctx.scale)))
    registrations = []
    for loan in _pool_loans(world, "risk_pool"):
        if len(registrations) >= cap:
            break
        day = loan.loan_date + timedelta(days=rng.randint(3, 30))
        if day >= today or rng.random() < 0.3:
            continue
        actor = world.bank_users[loan.institution_id]
        try:
            registration = riskpool.register(actor, programme, loan, today=day)
        except ServiceError:
            continue
        registrations.append((registration, day))
    # Losses on about one in eight, at least four; the oldest first.
    losers = [r for r in registrations if (today - r[1]).days > 150]
    count = min(len(losers), max(4, round(len(registrations) / 8)))
    for n, (registration, day) in enumerate(rng.sample(losers, count) if losers else []):
        loan = registration.loan
        actor = world.bank_users[loan.institution_id]
        # The loss shows four months to a year after registration, and the
        # first one of these is still waiting for review at the build day.
        age = (today - day).days
        if n == 0:
            claimed = workdays_before(today, rng.randint(2, 6))
        else:
            claimed = day + timedelta(days=rng.randint(120, max(121, min(365, age - 40))))
        if claimed >= today:
            continue
        loss = (loan.principal * Decimal(rng.randint(30, 80)) / 100).quantize(Decimal(1))
        try:
            claim = riskpool.file_claim(actor, registration, {"loss": loss}, today=claimed)
        except ServiceError:
            continue
        paid_on = _after(claimed, rng.randint(5, 20))
        if n == 0 or paid_on >= today:
            continue  # waiting for review
        if n == 1:
            riskpool.reject_claim(admin, claim, "贷款发放时借款人已列入失信黑名单，不符合补偿条件")
            continue
        try:
            claim = riskpool.pay_claim(admin, claim, paid_on=paid_on, today=paid_on)
        except ServiceError:
            continue
        back_on = paid_on + timedelta(days=rng.randint(60, 240))
        if n % 2 == 0 and back_on < today:
            recovered = (claim.loss * Decimal(rng.randint(10, 40)) / 100).quantize(Decimal(1))
            riskpool.report_recovery(actor, claim, recovered, on=back_on, today=back_on)


def _bridge(world: World) -> None:
    """Draws on loans maturing in the history: requested by the bank a few
    days before maturity, approved, drawn on the maturity day, repaid from
    the renewed loan days later (a few past the 15 days, the last ones still out)."""
    rng = world.rng
    today = world.today
    programme = world.programmes["bridge"]
    admin = world.user(FINANCE_ADMIN)
    limit = programme.starts_on + timedelta(days=20)
    candidates = [
        loan
        for loan in _pool_loans(world, "bridge")
        if limit <= loan.maturity_date <= today + timedelta(days=10)
        and loan.principal <= Decimal("10000000")
    ]
    cap = min(40, max(8, round(24 * world.ctx.scale)))
    chosen = sorted(
        rng.sample(candidates, min(cap, len(candidates))),
        key=lambda loan: (loan.maturity_date, loan.contract_no),
    )
    draws = []
    renewed = []
    for n, loan in enumerate(chosen):
        requested = loan.maturity_date - timedelta(days=rng.randint(3, 10))
        if requested >= today:
            continue
        actor = world.bank_users[loan.institution_id]
        try:
            draw = bridge.request_draw(
                actor,
                programme,
                loan,
                {"amount": loan.principal, "commitment_no": f"XDCN-{loan.contract_no}"},
                today=requested,
            )
        except ServiceError:
            continue
        stamps = {"requested": _at(rng, requested)}
        draws.append((draw, stamps))
        if n % 17 == 5:
            bridge.reject(admin, draw, "续贷承诺书未加盖贷款银行公章，请补正后重新申请")
            continue
        approved = _after(requested, rng.randint(1, 2))
        if approved >= today:
            continue
        draw = bridge.approve(admin, draw)
        drawn = max(loan.maturity_date, approved)
        if drawn >= today:
            continue
        try:
            draw = bridge.draw_funds(admin, draw, drawn_on=drawn, today=drawn)
        except ServiceError:
            continue
        days = rng.randint(18, 25) if n % 11 == 3 else rng.randint(2, 12)
        repaid = drawn + timedelta(days=days)
        if repaid >= today:
            continue  # still out (overdue once past the 15 days)
        new_loan = _off_platform(
            world,
            loan.enterprise_id,
            loan.institution,
            repaid,
            principal=loan.principal,
            term=12,
            purpose="续贷：" + (loan.purpose or "流动资金")[:40],
        )
        new_loan.save()
        renewed.append(new_loan)
        bridge.repay(admin, draw, new_loan, repaid_on=repaid, today=repaid)
    world.loans.extend(renewed)
    for draw, stamps in draws:
        BridgeDraw.objects.filter(pk=draw.pk).update(
            requested_at=stamps["requested"],
            commitment_confirmed_at=stamps["requested"],
        )


# --- the showcase: what the demo accounts find, through the application services ---------

SHOWCASE_PLAN = (
    # target state, working days before the build day it got there
    ("verified", 7),
    ("notice", 3),
    ("notice", 2),
    ("approved", 14),
    ("rejected", 9),
)


def _last_period(kind: str, today: date) -> tuple[date, date]:
    """The last calendar quarter (or half) that ended before the build day."""
    periods = _periods(kind, today - timedelta(days=200), today - timedelta(days=1))
    return [p for p in periods if p[1] < today][-1]


def _fresh_loan(world: World, key: str, where: Q, bank, loan_date: date, **fields) -> Loan | None:
    """A new confirmed loan of the first 嘉善 enterprise matching `where` whose
    loan qualifies for programme `key` (none of the demo accounts' enterprises)."""
    demo = [world.users[ENT_USER].enterprise_id, world.users[ENT2_USER].enterprise_id]
    ids = (
        Enterprise.objects.filter(Q(region_id=JIASHAN) & where)
        .exclude(pk__in=[*demo, *world.showcased])
        .order_by("uscc")
        .values_list("pk", flat=True)[:300]
    )
    world.learn(ids)
    for enterprise_id in ids:
        loan = _off_platform(
            world,
            enterprise_id,
            bank,
            loan_date,
            principal=fields.get("principal", Decimal("2000000")),
            term=fields.get("term", 24),
            purpose=fields.get("purpose", PURPOSES[2]),
        )
        if _eligible(world, key, enterprise_id, loan):
            loan.save()
            world.loans.append(loan)
            world.showcased.add(enterprise_id)
            return loan
        world.contract_seq[bank.pk] -= 1  # not used: give its number back
    return None


def _showcase(world: World) -> None:
    """Live items for the demo accounts, through the services so they carry
    their audit trail and notifications; dated just before the build day.
    The loans are new ones (confirmed by their banks), so no earlier
    application holds a cap on them, whatever the scale."""
    rng = world.rng
    today = world.today
    users = world.users
    quarter = _last_period("quarter", today)
    half = _last_period("half", today)
    ent = users[ENT_USER].enterprise
    ent2 = users[ENT2_USER].enterprise
    institutions = world.ctx.refs["institutions"]
    start = world.programmes["interest"].starts_on
    made: list[Application | None] = []
    # ent_user: a 嘉善农商行 loan it entered itself, not yet confirmed; its 贴息
    # application waits for the bank (bank_staff) to confirm.
    own = _off_platform(
        world,
        ent.pk,
        institutions["jsrcb"],
        max(start, quarter[0] - timedelta(days=rng.randint(20, 80))),
        principal=Decimal("3000000"),
        term=24,
        purpose="数控机床更新改造",
        confirmed=False,
    )
    own.created_by = users[ENT_USER]
    own.save()
    world.loans.append(own)
    made.append(_open(world, "interest", own, quarter, users[ENT_USER], workdays_before(today, 6)))
    # ent2_user: the guarantee fee of the last half year on a guaranteed 工商银行
    # loan (fee 0.8 %), confirmed by its bank → 待初审.
    guaranteed = _off_platform(
        world,
        ent2.pk,
        institutions["icbc"],
        max(start, half[0] - timedelta(days=rng.randint(30, 90))),
        principal=Decimal("1500000"),
        term=24,
        purpose="新材料中试线建设",
    )
    guaranteed.rate = Decimal("4.15")
    guaranteed.guarantor = institutions["jsguar"]
    guaranteed.guarantee_fee_rate = Decimal("0.8")
    guaranteed.save()
    world.loans.append(guaranteed)
    fee = _open(world, "guarantee", guaranteed, half, users[ENT2_USER], workdays_before(today, 5))
    made.append(_confirm(world, fee) if fee is not None else None)
    # A 免申即享 proposal waiting for ent_user (高新技术企业) on a confirmed
    # 嘉善农商行 loan; another enterprise's should it not qualify.
    working = _off_platform(
        world,
        ent.pk,
        institutions["jsrcb"],
        max(start, half[0] - timedelta(days=rng.randint(30, 120))),
        principal=Decimal("2000000"),
        term=12,
        purpose="补充流动资金",
    )
    working.rate = Decimal("4.05")
    working.save()
    world.loans.append(working)
    proposal = _open(world, "tech_interest", working, half, None, workdays_before(today, 2))
    if proposal is None:
        tech = Qualification.objects.active_on(today).filter(kind="high_tech")
        loan = _fresh_loan(
            world,
            "tech_interest",
            Q(pk__in=tech.values("enterprise_id")),
            institutions["icbc"],
            max(start, half[0] - timedelta(days=60)),
        )
        if loan is not None:
            loan.rate = Decimal("4.35")
            loan.save(update_fields=["rate"])
            proposal = _open(world, "tech_interest", loan, half, None, workdays_before(today, 2))
    made.append(proposal)
    # Other enterprises' 贴息 on the last quarter: 待财政复核, 公示中 ×2 (one
    # with an open objection), 待拨付, 驳回.
    banks = [b for b in (institutions[k] for k in ("jsrcb", "icbc", "abc", "jxb")) if b]
    for n, (target, back) in enumerate(SHOWCASE_PLAN):
        loan = _fresh_loan(
            world,
            "interest",
            ~Q(chongqing_class=""),
            banks[n % len(banks)],
            max(start, quarter[0] - timedelta(days=rng.randint(30, 200))),
            principal=Decimal(rng.choice((100, 200, 300, 500))) * WAN,
        )
        if loan is None:
            break
        app = _open(world, "interest", loan, quarter, None, workdays_before(today, back + 6))
        if app is None:
            continue
        made.append(app)
        try:
            made[-1] = _advance(world, app, target, back)
        except ServiceError:
            continue  # stays where the services stopped it
    _restamp(world, [a for a in made if a is not None])


def _open(
    world: World, key: str, loan: Loan, period: tuple[date, date], actor, day: date
) -> Application | None:
    """A new application as `services.apply` files it (or, for 免申即享, as
    the platform builds it): the same checks (conditions, no overlapping live
    application), the amount from services.compute, the bank asked to
    confirm where the programme needs it; audited and notified."""
    programme = world.programmes[key]
    if not _eligible(world, key, loan.enterprise_id, loan):
        return None
    live = Application.objects.filter(
        programme=programme,
        loan=loan,
        state__in=[s for s in ApplicationState.values if s not in ("rejected", "withdrawn")],
        period_start__lte=period[1],
        period_end__gte=period[0],
    )
    if live.exists():
        return None
    needs_bank = programme.requires_bank_confirmation
    paid = None  # the bank confirms it
    claim = services.Claim(period[0], period[1], paid)
    result = services.compute(programme, claim, loan=loan, enterprise_id=loan.enterprise_id)
    if result.blocked and not result.estimate:
        return None
    if programme.auto_apply and actor is None:
        state = ApplicationState.PROPOSED
    elif needs_bank:
        state = ApplicationState.BANK_PENDING
    else:
        state = ApplicationState.SUBMITTED
    app = Application.objects.create(
        programme=programme,
        enterprise_id=loan.enterprise_id,
        institution_id=loan.institution_id,
        loan=loan,
        year=claim.year,
        period_start=claim.period_start,
        period_end=claim.period_end,
        paid_cost=paid,
        amount=result.amount,
        calculation=result.as_json(),
        state=state,
        auto_built=state == ApplicationState.PROPOSED,
        submitted_by=actor,
    )
    app.demo_day = day
    enterprise = world.know(loan.enterprise_id)
    link = reverse("policy:application", args=[app.pk])
    if state == ApplicationState.PROPOSED:
        audit.record(
            "policy.application.propose",
            obj=app,
            changes={"state": [None, state], "amount": str(result.amount)},
        )
        notify.send(
            User.objects.filter(enterprise_id=loan.enterprise_id, is_active=True),
            "policy.outreach",
            _("「%(p)s」已为您生成 %(n)s 笔免申即享申请，请核对后确认")
            % {"p": programme.name, "n": 1},
            link,
        )
        return app
    audit.record(
        "policy.application.submit",
        actor=actor,
        obj=app,
        changes={"state": [None, state], "amount": str(result.amount)},
    )
    if state == ApplicationState.BANK_PENDING:
        notify.send(
            User.objects.filter(institution_id=loan.institution_id, is_active=True),
            "policy.confirmation_requested",
            _("%(ent)s 就贷款 %(no)s 申请「%(p)s」，请确认贷款信息和期间实付金额")
            % {"ent": enterprise.name, "no": loan.contract_no, "p": programme.name},
            link,
        )
    return app


def _confirm(world: World, app: Application) -> Application:
    """The lending bank confirms the loan and what was paid in the period."""
    loan = app.loan
    rate = (
        loan.guarantee_fee_rate if app.programme.kind == ProgrammeKind.GUARANTEE_FEE else loan.rate
    )
    paid = _interest_paid(loan, (app.period_start, app.period_end), rate)
    confirmed = services.bank_confirm(world.bank_users[loan.institution_id], app, str(paid))
    confirmed.demo_day = app.demo_day
    return confirmed


def _advance(world: World, app: Application, target: str, back: int) -> Application:
    users = world.users
    today = world.today
    day = app.demo_day
    app = _confirm(world, app)
    app = services.verify(users[INDUSTRY_ADMIN], app)
    if target == "rejected":
        app = services.reject(users[FINANCE_STAFF], app, REJECT_REASONS[ProgrammeKind.INTEREST][1])
    elif target in ("notice", "approved"):
        app = services.approve(users[FINANCE_ADMIN], app, today=workdays_before(today, back))
        if target == "approved":
            app = services.conclude(None, app, today=today)
        elif back == 2:
            services.raise_objection(
                app, {"name": "李女士", "contact": "13857300000", "text": OBJECTION_TEXT[2]}
            )
    app.demo_day = day
    return app


def _restamp(world: World, apps: list[Application]) -> None:
    """The services stamp the clock; the showcase happened just before the build day."""
    rng = world.rng
    last = workdays_before(world.today, 1)
    for app in apps:
        day = getattr(app, "demo_day", last)
        app.refresh_from_db()
        app.created_at = _at(rng, day)
        app.submitted_at = app.created_at if app.state != ApplicationState.PROPOSED else None
        if app.bank_confirmed_at:
            app.bank_confirmed_at = _at(rng, _after(day, 1))
        if app.decided_at:
            app.decided_at = _at(rng, last)
        app.updated_at = _at(rng, last)
    Application.objects.bulk_update(
        apps, ["created_at", "submitted_at", "bank_confirmed_at", "decided_at", "updated_at"]
    )
    entries = list(LedgerEntry.objects.filter(application__in=apps).select_related("application"))
    for entry in entries:
        entry.created_at = _at(rng, entry.application.notice_starts_on or last)
    LedgerEntry.objects.bulk_update(entries, ["created_at"])
    world.touched_budgets |= {entry.budget_id for entry in entries}
    Objection.objects.filter(application__in=apps).update(created_at=_at(rng, last))


def _rerun_ledger(budget_ids: set[int]) -> None:
    """The balances each entry records, again in date order: the showcase's
    movements, written last, sit among the history's by date."""
    for budget_id in sorted(budget_ids):
        committed = paid = Decimal(0)
        entries = list(LedgerEntry.objects.filter(budget_id=budget_id).order_by("created_at", "pk"))
        for entry in entries:
            if entry.kind in (LedgerKind.COMMIT, LedgerKind.RELEASE):
                committed += entry.amount
            elif entry.kind == LedgerKind.PAY:
                committed -= entry.amount
                paid += entry.amount
            entry.committed_after, entry.paid_after = committed, paid
        LedgerEntry.objects.bulk_update(entries, ["committed_after", "paid_after"], batch_size=2000)


def _restamp_setup(world: World) -> None:
    """Programmes, loans, appropriations and pool movements as of their own dates."""
    rng = world.rng
    programmes = list(world.programmes.values())
    for programme in programmes:
        programme.refresh_from_db()
        if programme.published_at is None:
            programme.created_at = programme.updated_at = _at(rng, world.today - timedelta(days=12))
            continue
        published = _at(rng, programme.starts_on - timedelta(days=12))
        programme.created_at = _at(rng, programme.starts_on - timedelta(days=30))
        programme.published_at = published
        programme.updated_at = published
    Programme.objects.bulk_update(programmes, ["created_at", "published_at", "updated_at"])
    loans = list(Loan.objects.select_related("demand"))
    for loan in loans:
        day = loan.loan_date
        loan.created_at = _at(rng, day)
        if loan.confirmed_at is not None:
            loan.confirmed_at = loan.created_at
    Loan.objects.bulk_update(loans, ["created_at", "confirmed_at"], batch_size=2000)
    entries = list(
        LedgerEntry.objects.filter(kind=LedgerKind.APPROPRIATE).select_related("budget__programme")
    )
    for entry in entries:
        day = max(date(entry.budget.year, 1, 4), entry.budget.programme.starts_on)
        entry.created_at = _at(rng, day)
    LedgerEntry.objects.bulk_update(entries, ["created_at"])
    movements = list(PoolMovement.objects.all())
    for movement in movements:
        movement.created_at = _at(rng, movement.on)
    PoolMovement.objects.bulk_update(movements, ["created_at"], batch_size=2000)
    _rerun_ledger(world.touched_budgets)


# --- digest ------------------------------------------------------------------------------


def digest_rows():
    """Key fields of the policy world (for demo.services.digest_rows): no
    primary keys, no timestamps."""
    yield (
        "policy_programmes",
        Programme.objects.order_by("name").values_list(
            "name", "kind", "state", "starts_on", "ends_on", "agency__name", "region_id"
        ),
    )
    yield (
        "policy_loans",
        Loan.objects.order_by("institution__name", "contract_no").values_list(
            "institution__name",
            "contract_no",
            "enterprise__uscc",
            "source",
            "principal",
            "rate",
            "loan_date",
            "maturity_date",
            "guarantee_fee_rate",
        ),
    )
    yield (
        "policy_applications",
        Application.objects.order_by(
            "programme__name",
            F("loan__contract_no").asc(nulls_first=True),
            "period_start",
            "award_item",
            F("enterprise__uscc").asc(nulls_first=True),
            "state",
        ).values_list(
            "programme__name",
            "loan__contract_no",
            "enterprise__uscc",
            "institution__name",
            "period_start",
            "period_end",
            "award_item",
            "amount",
            "state",
            "voucher_no",
            "paid_on",
            "notice_ends_on",
        ),
    )
    yield (
        "policy_budgets",
        BudgetYear.objects.order_by("programme__name", "year").values_list(
            "programme__name", "year", "appropriation", "committed", "paid"
        ),
    )
    yield (
        "policy_pools",
        Pool.objects.order_by("programme__name").values_list(
            "programme__name", "capital", "outstanding", "paid_out", "recovered", "fee_income"
        ),
    )
    yield (
        "policy_pool_movements",
        PoolMovement.objects.order_by("pool__programme__name", "on", "kind", "amount").values_list(
            "pool__programme__name", "on", "kind", "amount"
        ),
    )
    yield (
        "policy_bridge_draws",
        BridgeDraw.objects.order_by("loan__contract_no", "amount", "state").values_list(
            "loan__contract_no", "amount", "state", "drawn_on", "repaid_on", "fee"
        ),
    )
    yield (
        "policy_claims",
        LossClaim.objects.order_by("registration__loan__contract_no", "claimed_on").values_list(
            "registration__loan__contract_no", "loss", "compensation", "recovered", "state"
        ),
    )
