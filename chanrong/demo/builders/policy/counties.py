"""嘉善's earlier round (2020–2023) and two more counties of 嘉兴 with their
own 财政金融互动 (平湖市, 海宁市), so that policy activity covers the plan's
years and is not 嘉善's alone: each county's 财政局 runs a 贴息
programme for small and medium enterprises' new loans, a 担保费补贴, a
转贷应急 fund and a 风险补偿 pool, from 2020 — the years of 嘉善's plan
(2021–2023) and on to the build day — so the computed 财政支持 indicators
(贷款贴息资金, 风险补偿资金, 转贷应急, 平均担保费率) have figures for every year
of the plan in more than one county, and the province's county table and the
statistics by region show more than one region.

Built by the same steps as 嘉善's (one World per county, its own random
stream, programmes through the services, the history in bulk, the pools
through their services), with the county's own officials (`gov_<key>_finance`
and `gov_<key>_finance_staff`, created here as the pilots builder adds its
officials) and the banks' actors of 嘉善's world. No awards and no showcase:
those stay 嘉善's. 嘉善's earlier round (贴息 and 担保费补贴, closed at the end
of 2023) is told as of its last day, with only the applications settled by
then.
"""

from __future__ import annotations

from datetime import date, timedelta

from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency, Role, User
from chanrong.policy.models import ProgrammeKind
from chanrong.registry.models import Enterprise

from .common import ENT2_USER, ENT_USER, FINANCE_ADMIN, FINANCE_STAFF, INDUSTRY_ADMIN
from .history import _budgets_and_publish, _write_history
from .loans import _loans
from .pools import _pools
from .programmes import Spec
from .stories import _stories
from .world import World, _create_programmes

#: (region code, county name, short name for document numbers, account key)
COUNTIES = (
    ("330482", "平湖市", "平", "pinghu"),
    ("330481", "海宁市", "海", "haining"),
)
#: The counties' programmes run from here: 嘉善's plan years and the one before.
HISTORY_FROM = date(2020, 1, 1)


def county_specs(today: date, code: str, county: str, short: str) -> list[Spec]:
    """The county's programmes, as 嘉善's of the same kinds with the county's
    own figures: 贴息 at 40 % of the 1-year LPR (quarterly), half the
    guarantee fee at ≤ 1 %, a 转贷应急 fund and a 风险补偿 pool at 30 %."""
    start, end = HISTORY_FROM, date(today.year + 1, 12, 31)
    region = {"regions": [code]}
    basis = f"{short}财金〔{start.year}〕"
    return [
        Spec(
            "interest", FINANCE_ADMIN, ProgrammeKind.INTEREST,
            f"{county}中小企业新增贷款贴息",
            f"{basis}6号",
            "对本市中小微企业年度新增流动资金和技改贷款，按放款日适用的1年期LPR的40%给予贴息，"
            "按季申请，以贷款银行确认的实付利息为限。",
            {"method": "lpr_share", "lpr_tenor": "1y", "lpr_share": "40", "day_count": "act360",
             "cap_per_loan": "150000", "cap_per_enterprise_year": "300000"},
            {**region, "sizes": ["medium", "small", "micro"], "loan_kinds": ["debt"],
             "loan_date_from": start.isoformat()},
            start, end, budget=3_000_000, period="quarter",
        ),
        Spec(
            "guarantee", FINANCE_ADMIN, ProgrammeKind.GUARANTEE_FEE,
            f"{county}小微企业融资担保费补贴",
            f"{basis}9号",
            "担保费率不高于1%的小微企业融资担保业务，按实际支付担保费的50%给予补贴。",
            {"method": "share", "share": "50", "fee_rate_ceiling": "1", "day_count": "act360",
             "cap_per_loan": "40000", "cap_per_enterprise_year": "80000"},
            {**region, "sizes": ["small", "micro"]},
            start, end, budget=1_000_000, period="half",
        ),
        Spec(
            "bridge", FINANCE_ADMIN, ProgrammeKind.BRIDGE,
            f"{county}企业转贷应急资金",
            f"{basis}11号",
            "企业贷款到期、合作银行书面承诺续贷的，由转贷应急资金先行归还；按日0.01%收取使用费，单笔最长15天。",
            {"daily_fee_rate": "0.01", "max_days": 15, "max_amount": "8000000"},
            {**region, "sizes": ["medium", "small", "micro"]},
            start, end, capital=20_000_000,
        ),
        Spec(
            "risk_pool", FINANCE_ADMIN, ProgrammeKind.RISK_POOL,
            f"{county}小微企业信贷风险补偿资金池",
            f"{basis}12号",
            "合作银行将小微企业贷款备案入池，发生损失的由资金池按30%补偿，单笔最高150万元。",
            {"share": "30", "cap_per_loan": "1500000"},
            {**region, "sizes": ["small", "micro"]},
            start, end, capital=10_000_000,
        ),
    ]  # fmt: skip


#: 嘉善's earlier round of the same two subsidies, 2020–2023, closed when the
#: current programmes began (the current round's history starts two years
#: before the build day, so the plan years would otherwise have no 贴息).
EARLIER_END = date(2023, 12, 31)


def earlier_jiashan_specs() -> list[Spec]:
    start, end = HISTORY_FROM, EARLIER_END
    region = {"regions": ["330421"]}
    return [
        Spec(
            "interest", FINANCE_ADMIN, ProgrammeKind.INTEREST,
            "嘉善县中小企业贷款贴息（2020—2023年）",
            f"善财企〔{start.year}〕7号",
            "对本县中小微企业新增贷款，按放款日适用的1年期LPR的30%给予贴息，按季申请；2023年底到期，由新一轮政策接续。",
            {"method": "lpr_share", "lpr_tenor": "1y", "lpr_share": "30", "day_count": "act360",
             "cap_per_loan": "100000", "cap_per_enterprise_year": "200000"},
            {**region, "sizes": ["medium", "small", "micro"], "loan_kinds": ["debt"],
             "loan_date_from": start.isoformat()},
            start, end, budget=2_000_000, period="quarter", state="closed",
        ),
        Spec(
            "guarantee", FINANCE_ADMIN, ProgrammeKind.GUARANTEE_FEE,
            "嘉善县小微企业融资担保费补贴（2020—2023年）",
            f"善财企〔{start.year}〕8号",
            "担保费率不高于1%的小微企业融资担保业务，按实际支付担保费的40%给予补贴；2023年底到期。",
            {"method": "share", "share": "40", "fee_rate_ceiling": "1", "day_count": "act360",
             "cap_per_loan": "30000", "cap_per_enterprise_year": "60000"},
            {**region, "sizes": ["small", "micro"]},
            start, end, budget=800_000, period="half", state="closed",
        ),
    ]  # fmt: skip


def _earlier_jiashan(main: World) -> World | None:
    """嘉善's 2020–2023 round as a world whose day is the round's end: bank-
    reported loans, settled applications only, no pools (the current round's
    pools carry on)."""
    end = EARLIER_END + timedelta(days=1)
    if main.today <= end:
        return None
    world = World(
        main.ctx,
        main.ctx.rng("policy.jiashan_earlier"),
        end,
        main.users,
        bank_users=main.bank_users,
        lpr_tables=main.lpr_tables,
        contract_seq=main.contract_seq,
        history_days=(end - HISTORY_FROM).days,
        platform_loans=False,
        min_loans=max(12, round(60 * main.ctx.scale)),
        settled_only=True,
    )
    _create_programmes(world, earlier_jiashan_specs())
    _loans(world)
    stories = _stories(world)
    _budgets_and_publish(world, stories)
    _write_history(world, stories)
    return world


def _officials(main: World, code: str, county: str, key: str) -> dict[str, User]:
    """The county's 财政局 and its two officials, standing in for 嘉善's
    named users in the steps shared with 嘉善's world."""
    agency = GovernmentAgency.objects.create(
        name=f"{county}财政局",
        level=AgencyLevel.COUNTY,
        function=AgencyFunction.FINANCE,
        region_id=code,
    )
    admin, staff = User.objects.bulk_create(
        [
            User(username=f"gov_{key}_finance", display_name=f"{county}财政局管理员",
                 role=Role.GOV_ADMIN, agency=agency, password=main.ctx.password_hash,
                 is_active=True),
            User(username=f"gov_{key}_finance_staff", display_name=f"{county}财政局经办人",
                 role=Role.GOV_STAFF, agency=agency, password=main.ctx.password_hash,
                 is_active=True),
        ]
    )  # fmt: skip
    main.ctx.counts["users"] = main.ctx.counts.get("users", 0) + 2
    return {
        FINANCE_ADMIN: admin,
        FINANCE_STAFF: staff,
        INDUSTRY_ADMIN: staff,  # the county's 贴息 is verified by its own 财政局
        ENT_USER: main.users[ENT_USER],
        ENT2_USER: main.users[ENT2_USER],
    }


def build_counties(main: World) -> list[World]:
    """Each county's world, built after 嘉善's; returns them (their programmes
    are restamped with 嘉善's at the end)."""
    worlds = [w for w in (_earlier_jiashan(main),) if w is not None]
    history_days = (main.today - HISTORY_FROM).days
    if history_days < 365:
        return worlds  # a build day before the plan years: nothing to tell
    for code, county, short, key in COUNTIES:
        if not Enterprise.objects.filter(region_id=code).exists():
            # A small demo (scale 0.05) may place no enterprise there: no
            # programmes to tell about, no officials to run them.
            continue
        world = World(
            main.ctx,
            main.ctx.rng(f"policy.{key}"),
            main.today,
            _officials(main, code, county, key),
            bank_users=main.bank_users,
            lpr_tables=main.lpr_tables,
            # one numbering of contracts per bank across the counties
            contract_seq=main.contract_seq,
            region=code,
            history_days=history_days,
            voucher_prefix=f"{short}财国库支",
        )
        _create_programmes(world, county_specs(world.today, code, county, short))
        _loans(world)
        stories = _stories(world)
        _budgets_and_publish(world, stories)
        _write_history(world, stories)
        _pools(world)
        worlds.append(world)
    return worlds
