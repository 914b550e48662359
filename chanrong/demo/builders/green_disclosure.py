"""Demo green loans, green-rights pledges and institutions' environmental
information disclosures (issue 18 parts 4–6), after `risk` and
`green_library` (it reads the loan book and the published green lists).

- 绿色贷款: loans of the book to members of a published green list get a
  绿色产业指导目录 category (most of them: banks report the use); the risk
  builder has already marked a share of other loans green by use. The
  category is one of the 2019 edition's second-level codes, from the
  catalogue when loaded.
- 绿色权益质押: a few live loans of C/D borrowers carry a pledge of 碳排放权,
  用能权 or 排污权 with a registration number and the registering authority
  (担保方式 becomes 质押 where it was blank or 信用).
- 环境信息披露 (JR/T 0227-2021): every bank present in 嘉善 filed for the
  year before last; for last year most have submitted, one was returned for
  revision with the reason, some have a draft with sections missing, some
  have not started. The demo bank (嘉善农商行, bank_manager) has last year's
  form in draft, so its staff meet an editable form; 工商银行 has submitted.
  Some banks' branches in 嘉善 filed their own form for last year (分支机构
  单独披露: about a third submitted, a few drafts); the demo bank's first
  branch there has submitted, so the checklist shows a bank with its branch.

Written with bulk_create / bulk_update (no per-row audit); random numbers
from this builder's own streams; nothing dated after the build day.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q

from chanrong.finance.models import Branch, FinancialInstitution, InstitutionKind
from chanrong.green.models import SECTION_KEYS, Disclosure, DisclosureState
from chanrong.registry.models import ListEntry, ListType
from chanrong.risk.models import Collateral, GreenPledge, LoanAccount, LoanStatus

from .base import TZ, DemoContext, bulk_set

NAME = "green_disclosure"
MODELS = ("green.disclosure", "risk.greenpledge")

JIASHAN = "330421"
#: Second-level categories of the 绿色产业指导目录（2019年版）used when the
#: catalogue is not loaded (it is, by the green app's migration).
CATEGORIES = ("1.1", "1.2", "1.5", "1.6", "1.7", "2.1", "3.1", "3.2", "3.3", "5.2", "5.3")
LISTED_SHARE = 0.7  # loans to library members reported as green by use
PLEDGE_LOANS = 24  # at scale 1
AUTHORITIES = {
    "carbon_rights": ("全国碳排放权注册登记系统", "TPFQ"),
    "energy_rights": ("浙江省用能权交易服务平台", "ZJYN"),
    "pollutant_rights": ("浙江省排污权储备和交易中心", "ZJPW"),
}
WAN = Decimal(10000)
CENT = Decimal("0.01")


def build(ctx: DemoContext) -> None:
    rng = ctx.rng(NAME)
    _green_loans(ctx, rng)
    _pledges(ctx, ctx.rng(f"{NAME}:pledges"))
    _disclosures(ctx, ctx.rng(f"{NAME}:forms"))


def _categories() -> tuple[str, ...]:
    from chanrong.green.models import CatalogueItem

    codes = tuple(
        CatalogueItem.objects.filter(edition__code="2019", level=2)
        .order_by("sort_key")
        .values_list("code", flat=True)
    )
    return codes or CATEGORIES


def _green_loans(ctx: DemoContext, rng) -> None:
    listed = (
        ListEntry.objects.filter(version__list__list_type=ListType.GREEN)
        .members()
        .filter(version__status="published")
        .values("enterprise_id")
    )
    categories = _categories()
    marked = []
    rows = (
        LoanAccount.objects.filter(green_category="", enterprise_id__in=listed)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in rows.iterator(chunk_size=ctx.batch_size):
        if rng.random() < LISTED_SHARE:
            marked.append(LoanAccount(pk=pk, green_category=rng.choice(categories)))
    bulk_set(LoanAccount, marked, ["green_category"], batch_size=ctx.batch_size)
    ctx.counts["green_loans"] = len(marked)


def _pledges(ctx: DemoContext, rng) -> None:
    candidates = list(
        LoanAccount.objects.filter(
            Q(enterprise__industry__code__startswith="C")
            | Q(enterprise__industry__code__startswith="D")
        )
        .filter(
            status=LoanStatus.ACTIVE,
            collateral__in=("", Collateral.CREDIT, Collateral.PLEDGE),
        )
        .order_by("pk")
        .only("pk", "disbursed_on", "principal", "collateral")
    )
    count = min(len(candidates), max(3, round(PLEDGE_LOANS * ctx.scale)))
    chosen = sorted(rng.sample(candidates, count), key=lambda loan: loan.pk) if count else []
    pledges, serial = [], 0
    for loan in chosen:
        kinds = ["pollutant_rights"] + (["carbon_rights"] if rng.random() < 0.3 else [])
        if rng.random() < 0.4:
            kinds = [rng.choice(("carbon_rights", "energy_rights"))]
        for kind in kinds:
            serial += 1
            authority, prefix = AUTHORITIES[kind]
            registered = loan.disbursed_on - timedelta(days=rng.randint(1, 20))
            value = (loan.principal * Decimal(rng.uniform(1.2, 2.0))).quantize(WAN)
            pledges.append(
                GreenPledge(
                    loan=loan,
                    kind=kind,
                    registration_no=f"{prefix}{registered.year}{serial:06d}",
                    authority=authority,
                    value=value,
                    registered_on=registered,
                )
            )
        loan.collateral = Collateral.PLEDGE
    GreenPledge.objects.bulk_create(pledges, batch_size=ctx.batch_size)
    bulk_set(LoanAccount, chosen, ["collateral"], batch_size=ctx.batch_size)
    ctx.counts["green_pledges"] = len(pledges)


SECTION_TEXT = {
    "overview": "{name}{year}年将绿色金融纳入发展战略，制定“双碳”行动方案，绿色信贷余额较上年增长{growth}%。",
    "governance": "董事会下设战略与可持续发展委员会，高管层设绿色金融领导小组，授信审批部设绿色金融专岗。",
    "policies": "制定《绿色信贷管理办法》《环境与社会风险管理实施细则》，执行国家及浙江省绿色金融政策。",
    "products": "推出碳排放权质押贷、排污权抵押贷、光伏贷、碳效贷等产品，支持绿色项目{projects}个。",
    "risk_management": "授信前开展环境与社会风险分类，贷中监测企业环保处罚，贷后对高碳行业客户开展压力测试。",
    "impact_on_institution": "识别气候转型风险对高耗能行业客户的影响，对火电、钢铁、水泥客户开展情景分析。",
    "financing_impact": "按PCAF方法测算投融资碳排放，绿色贷款支持项目年减排二氧化碳当量{reduction}吨。",
    "operations_impact": "营业网点推行节能改造和无纸化办公，全年耗电{electricity}万千瓦时，经营碳排放逐年下降。",
    "data": "建立环境信息统计口径，数据由业务系统提取并经内控部门校验，按数据安全制度分级保护。",
    "research": "与高校合作开展碳核算在授信中应用的研究，形成碳效信贷案例{cases}篇。",
    "other": "无。",
}


def _form(rng, institution, year: int, *, complete: bool, branch=None) -> Disclosure:
    scale = (80, 4000) if branch is None else (2, 80)  # 亿元: a head office, a branch
    total = (Decimal(rng.uniform(*scale)) * WAN * WAN).quantize(CENT)
    green = (total * Decimal(rng.uniform(0.03, 0.15))).quantize(CENT)
    values = {
        "name": branch.name if branch else institution.short_name or institution.name,
        "year": year,
        "growth": rng.randint(12, 45),
        "projects": rng.randint(20, 400),
        "reduction": rng.randint(20_000, 900_000),
        "electricity": rng.randint(200, 9000),
        "cases": rng.randint(2, 12),
    }
    keys = SECTION_KEYS if complete else SECTION_KEYS[: rng.randint(3, 8)]
    return Disclosure(
        institution=institution,
        branch=branch,
        year=year,
        sections={key: SECTION_TEXT[key].format(**values) for key in keys},
        green_loan_balance=green,
        total_loan_balance=total,
        green_loans_disbursed=(green * Decimal(rng.uniform(0.3, 0.6))).quantize(CENT),
        financed_emissions=Decimal(rng.randint(50_000, 5_000_000)),
        emission_reduction=Decimal(values["reduction"]),
        operational_emissions=Decimal(rng.randint(2_000, 80_000)),
        operational_electricity=Decimal(values["electricity"]) * WAN,
    )


def _disclosures(ctx: DemoContext, rng) -> None:
    banks = list(
        FinancialInstitution.objects.filter(kind=InstitutionKind.BANK)
        .present_in(JIASHAN)
        .order_by("name")
    )
    institutions = ctx.refs.get("institutions", {})
    demo_bank, second_bank = institutions.get("jsrcb"), institutions.get("icbc")
    last, before = ctx.today.year - 1, ctx.today.year - 2
    filed_at = datetime.combine(ctx.today.replace(month=1, day=1), time(10), tzinfo=TZ)
    returned_at = min(filed_at + timedelta(days=20), ctx.history_end - timedelta(days=1))
    forms: list[Disclosure] = []
    for index, bank in enumerate(banks):
        earlier = _form(rng, bank, before, complete=True)
        earlier.state = DisclosureState.SUBMITTED
        earlier.submitted_at = filed_at - timedelta(days=365 - index)
        forms.append(earlier)
        draw = rng.random()
        if demo_bank is not None and bank.pk == demo_bank.pk:
            state = DisclosureState.DRAFT
        elif second_bank is not None and bank.pk == second_bank.pk or draw < 0.55:
            state = DisclosureState.SUBMITTED
        elif draw < 0.65:
            state = DisclosureState.RETURNED
        elif draw < 0.8:
            state = DisclosureState.DRAFT
        else:
            continue  # not started
        form = _form(rng, bank, last, complete=state != DisclosureState.DRAFT)
        form.state = state
        if state != DisclosureState.DRAFT:
            form.submitted_at = filed_at + timedelta(days=index % 60)
        if state == DisclosureState.RETURNED:
            form.return_reason = "投融资活动碳排放未说明测算方法和覆盖范围，请补充后重新提交。"
            form.returned_at = returned_at
        forms.append(form)
    forms += _branch_forms(ctx, ctx.rng(f"{NAME}:branch_forms"), last, filed_at, demo_bank)
    for form in forms:
        if form.submitted_at and form.submitted_at >= ctx.history_end:
            form.submitted_at = ctx.history_end - timedelta(hours=1)
    Disclosure.objects.bulk_create(forms, batch_size=ctx.batch_size)
    ctx.counts["env_disclosures"] = len(forms)


def _branch_forms(ctx: DemoContext, rng, year: int, filed_at, demo_bank) -> list[Disclosure]:
    """Last year's own forms of some bank branches in 嘉善 (分支机构单独披露)."""
    branches = list(
        Branch.objects.filter(
            region__code__startswith=JIASHAN, institution__kind=InstitutionKind.BANK
        )
        .select_related("institution")
        .order_by("institution__name", "name")
    )
    forms, demo_done = [], False
    for index, branch in enumerate(branches):
        draw = rng.random()
        if demo_bank is not None and branch.institution_id == demo_bank.pk and not demo_done:
            state, demo_done = DisclosureState.SUBMITTED, True
        elif draw < 0.3:
            state = DisclosureState.SUBMITTED
        elif draw < 0.4:
            state = DisclosureState.DRAFT
        else:
            continue  # covered by its head office's form
        form = _form(
            rng, branch.institution, year, complete=state != DisclosureState.DRAFT, branch=branch
        )
        form.state = state
        if state == DisclosureState.SUBMITTED:
            form.submitted_at = filed_at + timedelta(days=10 + index % 50)
        forms.append(form)
    return forms
