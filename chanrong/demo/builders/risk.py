"""The loan book (贷款台账) in the demo: every platform loan the demands
builder disbursed, plus off-platform loans the banks report, with three
years of repayment, overdue and five-category history.

Defaults are not random noise: each borrower's chance of going 90+ days
overdue comes from a logit over facts the platform held WHEN THE LOAN WAS
MADE — the 纳税信用等级 published before that year, the trend of its reported
revenue, its profit margin, its age, its size, its qualifications and
whether it was on the 失信黑名单 — read with the scorecard's own feature
query (`chanrong.risk.features.snapshot`) at the quarter end before the
disbursement. So a scorecard trained on this book learns something real from
what it can see at each observation day, and a tax-grade-only baseline
learns less. No outcome feeds a fact: the facts come from the registry
builder, the loans and their defaults from them. The weights are in `LOGIT`;
docs/risk.md repeats them. Off-platform loans go back `REPORTED_YEARS`, so
the scorecard's time-ordered split has a real training window.

At the end, the monthly retraining runs once (`scoring.train_and_propose`),
嘉善县经信局's admin approves the version and every enterprise is scored.
Then `risk_warnings` gives the early-warning rules a year of history: evaluated
at each month end as of that day, and a share of the alerts handled since.

- A defaulting loan falls overdue in some month of its term; the bank then
  reports 关注 (30 days), 次级 (90 days), 可疑 (180 days) and 损失 (360
  days), each as a LoanEvent on its date, up to the build day; some losses
  are written off.
- A performing loan is repaid at maturity (结清) if that is past; one in
  twelve of those is instead renewed without repayment (无还本续贷) into a
  new loan; a few are recalled early (提前收回), the 抽贷 the consultation
  mechanism is about.

Deterministic by seed: one random stream, dates from the build day, rows in
a stable order; bulk writes, no per-row audit.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from chanrong.demands.models import Demand, DemandState
from chanrong.finance.models import FinancialInstitution, InstitutionKind
from chanrong.registry.models import (
    Enterprise,
    TaxCreditGrade,
)
from chanrong.risk import features
from chanrong.risk.models import (
    Classification,
    Collateral,
    LoanAccount,
    LoanEvent,
    LoanEventKind,
    LoanOrigin,
    LoanStatus,
    ModelStatus,
    Repayment,
)
from chanrong.risk.scorecard.trainer import TrainingError
from chanrong.risk.services import scoring
from chanrong.risk.services.collateral import collateral_of_demand
from chanrong.risk.services.fields import add_months

from . import risk_warnings
from .base import DemoContext, bulk_set

NAME = "risk"
MODELS = ("risk.loanaccount", "risk.warningrule", "risk.modelversion")

#: The data-generating model: log-odds of a 90+ day default over a loan's term.
LOGIT = {
    "intercept": -3.0,
    # The latest published grade (A best … D worst); none published: "".
    "grade": {"A": -1.2, "B": 0.0, "M": 0.6, "C": 1.6, "D": 2.4, "": 0.4},
    "revenue_falling": 0.9,  # last 12 months' revenue below the 12 before by more than 2 %
    "loss_making": 1.0,  # profit over the last 12 months below zero
    "young": 1.2,  # founded less than three years before
    "size": {"large": -1.0, "medium": -0.4, "small": 0.1, "micro": 0.8, "": 0.2},
    "qualified": -0.5,  # holds at least one valid qualification (高新、专精特新 …)
    "blacklisted": 1.8,
}
#: Off-platform loans are drawn over this many years before the build day.
REPORTED_YEARS = 5
#: The share of enterprises with tax grades that also borrow off the platform.
OFF_PLATFORM_SHARE = 0.45
#: Stages of a default: (days overdue, classification).
STAGES = (
    (30, Classification.SPECIAL_MENTION),
    (90, Classification.SUBSTANDARD),
    (180, Classification.DOUBTFUL),
    (360, Classification.LOSS),
)
RECALL_REASONS = (
    "企业主要客户流失，经营现金流紧张，按合同约定提前收回",
    "企业涉及民间借贷纠纷，触发提前到期条款",
    "抵押物被查封，银行宣布贷款提前到期",
)
WAN = Decimal(10000)


@dataclass
class Borrower:
    enterprise_id: int
    uscc: str
    founded_on: date | None
    size: str


GRADE_NAMES = {0: "A", 1: "B", 2: "M", 3: "C", 4: "D"}


def default_probability(facts: dict | None, borrower: Borrower, on: date) -> float:
    """The logit over what the platform knew of the borrower on the quarter
    end before `on` (`facts`: a row of `features.snapshot`, None if none)."""
    facts = facts or {}
    grade = _code(facts.get("tax_grade"))
    growth = facts.get("revenue_growth")
    margin = facts.get("profit_margin")
    years = None if borrower.founded_on is None else (on - borrower.founded_on).days / 365
    young = years is not None and years < 3
    z = (
        LOGIT["intercept"]
        + LOGIT["grade"][GRADE_NAMES.get(grade, "")]
        + LOGIT["revenue_falling"] * (growth is not None and growth == growth and growth < -0.02)
        + LOGIT["loss_making"] * (margin is not None and margin == margin and margin < 0)
        + LOGIT["young"] * young
        + LOGIT["size"].get(borrower.size, 0.2)
        + LOGIT["qualified"] * bool((facts.get("qualifications") or 0) > 0)
        + LOGIT["blacklisted"] * bool((facts.get("black_list") or 0) > 0)
    )
    return 1 / (1 + math.exp(-z))


def _code(value) -> int | None:
    if value is None or value != value:  # NaN
        return None
    return int(value)


@dataclass
class Book:
    ctx: DemoContext
    rng: random.Random
    today: date
    loans: list[LoanAccount] = field(default_factory=list)
    events: list[LoanEvent] = field(default_factory=list)
    repayments: list[Repayment] = field(default_factory=list)
    renewals: list[tuple[LoanAccount, LoanAccount]] = field(default_factory=list)
    #: Quarter end → {enterprise id: the scorecard's feature row as of that day}.
    facts: dict[date, dict[int, dict]] = field(default_factory=dict)
    borrower_ids: list[int] = field(default_factory=list)
    #: Institution → contract numbers already used (numbers are unique per bank).
    contracts: dict[int, set[str]] = field(default_factory=dict)
    #: The 担保方式 of reported loans: a stream of its own, so the book's
    #: defaults and dates do not move with it.
    collateral_rng: random.Random = field(default_factory=random.Random)

    def facts_of(self, enterprise_id: int, on: date) -> dict | None:
        """The borrower's facts as of the quarter end before `on` (computed
        for every borrower at once, the first time a quarter is asked for)."""
        day = _quarter_end_before(on)
        if day not in self.facts:
            frame = features.snapshot(day, self.borrower_ids)
            self.facts[day] = frame.to_dict(orient="index")
        return self.facts[day].get(enterprise_id)


def build(ctx: DemoContext) -> None:
    book = Book(ctx, ctx.rng("risk"), ctx.today, collateral_rng=ctx.rng("risk_collateral"))
    borrowers = _borrowers()
    banks = list(FinancialInstitution.objects.filter(kind=InstitutionKind.BANK).order_by("name"))
    demands = (
        Demand.objects.filter(
            state=DemandState.DISBURSED,
            disbursed_on__isnull=False,
            outcome_institution__isnull=False,
        )
        .select_related("enterprise", "accepted_offer__product")
        .order_by("disbursed_on", "enterprise__uscc", "pk")
    )
    book.borrower_ids = sorted(set(borrowers) | {d.enterprise_id for d in demands})
    for demand in demands:
        borrower = borrowers.get(demand.enterprise_id) or _plain(demand.enterprise)
        term = demand.disbursed_term_months or demand.term_months or 12
        _lend(
            book,
            borrower,
            institution_id=demand.outcome_institution_id,
            source=LoanOrigin.PLATFORM,
            demand=demand,
            principal=demand.disbursed_amount,
            rate=demand.disbursed_rate,
            on=demand.disbursed_on,
            months=max(int(term), 1),
        )
    if banks:
        for borrower in sorted(borrowers.values(), key=lambda b: b.uscc):
            if book.rng.random() >= OFF_PLATFORM_SHARE:
                continue
            # A bank relationship: a loan, and when it is repaid at
            # maturity the next one, until a default, a recall, a renewal
            # or the build day ends it. Each loan's risk is read from the
            # facts of its own disbursement day.
            on = book.today - timedelta(days=book.rng.randint(20, REPORTED_YEARS * 365))
            bank = book.rng.choice(banks)
            amount = Decimal(book.rng.choice((50, 100, 200, 300, 500, 800, 1000))) * WAN
            while on < book.today:
                loan = _lend(
                    book,
                    borrower,
                    institution_id=bank.pk,
                    source=LoanOrigin.REPORTED,
                    demand=None,
                    principal=amount,
                    rate=Decimal(book.rng.choice(("3.45", "3.65", "3.85", "4.20", "4.75"))),
                    on=on,
                    months=book.rng.choice((6, 12, 12, 12, 24, 36)),
                )
                if loan.status != LoanStatus.SETTLED:
                    break
                on = loan.closed_on + timedelta(days=book.rng.randint(0, 60))
    _write(book)
    _scorecard(ctx)
    # A year of warning history on the book just written (risk_warnings.py).
    risk_warnings.build(ctx)


def _scorecard(ctx: DemoContext) -> None:
    """The monthly retraining, run once on the book just written: proposed,
    approved by 嘉善县经信局's admin when it clears the AUC floor, and every
    enterprise scored as of the build day. A book too small to train on (a
    tiny scale) or a version below the floor leaves no live version."""
    from chanrong.accounts.models import User

    admin = User.objects.filter(username="gov_jiashan").first()
    try:
        version = scoring.train_and_propose(as_of=ctx.today)
    except TrainingError:
        return
    ctx.counts["risk_model_test_auc_x1000"] = round((version.test_auc or 0) * 1000)
    if version.status != ModelStatus.PROPOSED or admin is None:
        return
    scoring.approve(admin, version)
    ctx.counts["risk_scores"] = scoring.score_all(version, as_of=ctx.today)["scored"]


def _plain(enterprise: Enterprise) -> Borrower:
    return Borrower(enterprise.pk, enterprise.uscc, enterprise.founded_on, enterprise.size or "")


def _borrowers() -> dict[int, Borrower]:
    """The enterprises the registry builder gave a tax-grade history: the
    ones banks also lend to off the platform."""
    graded = TaxCreditGrade.objects.values("enterprise_id")
    return {e.pk: _plain(e) for e in Enterprise.objects.filter(pk__in=graded).order_by("uscc")}


#: The 担保方式 banks report for their off-platform loans, with weights: about a
#: third on credit, the rest secured — so the split by 信用贷 vs 担保类 shows both.
REPORTED_COLLATERAL = (
    (Collateral.CREDIT, 35),
    (Collateral.GUARANTEE, 25),
    (Collateral.MORTGAGE, 30),
    (Collateral.PLEDGE, 10),
)


def _collateral(book: Book) -> str:
    kinds, weights = zip(*REPORTED_COLLATERAL, strict=True)
    return book.collateral_rng.choices(kinds, weights)[0]


def _quarter_end_before(on: date) -> date:
    """The last quarter end strictly before `on` (what was known when the
    loan was made)."""
    first = date(on.year, (on.month - 1) // 3 * 3 + 1, 1)
    return first - timedelta(days=1)


def _contract_no(book: Book, borrower: Borrower, on: date, institution_id: int) -> str:
    base = f"DK{on:%Y%m%d}{borrower.uscc[-6:]}"
    taken = book.contracts.setdefault(institution_id, set())
    number, n = base, 2
    while number in taken:
        number, n = f"{base}-{n}", n + 1
    taken.add(number)
    return number


def _lend(
    book: Book, borrower: Borrower, *, institution_id, source, demand, principal, rate, on, months
) -> LoanAccount:
    """One loan and its life up to the build day; returned so a bank's
    relationship can go on with the next loan once this one is settled."""
    rng = book.rng
    maturity = add_months(on, months)
    loan = LoanAccount(
        enterprise_id=borrower.enterprise_id,
        institution_id=institution_id,
        source=source,
        demand=demand,
        contract_no=_contract_no(book, borrower, on, institution_id),
        principal=principal,
        rate=rate,
        collateral=collateral_of_demand(demand) if demand is not None else _collateral(book),
        disbursed_on=on,
        maturity_on=maturity,
        outstanding=principal,
    )
    book.loans.append(loan)
    _event(book, loan, LoanEventKind.OPENED, on, "")
    # Over a year-long term the logit's probability; shorter or longer terms scale it.
    chance = default_probability(book.facts_of(borrower.enterprise_id, on), borrower, on)
    p = 1 - (1 - chance) ** (months / 12)
    if rng.random() < p:
        _default(book, loan, on + timedelta(days=rng.randint(45, max(46, (maturity - on).days))))
        return loan
    if maturity > book.today:
        if rng.random() < 0.02 and (book.today - on).days > 60:
            _recall(book, loan, on + timedelta(days=rng.randint(30, (book.today - on).days)))
        return loan
    if rng.random() < 1 / 12:
        _renew(book, loan, borrower, maturity)
        return loan
    _repay(book, loan, maturity, loan.principal)
    loan.status = LoanStatus.SETTLED
    loan.closed_on = maturity
    _event(book, loan, LoanEventKind.SETTLED, maturity, "")
    return loan


def _event(book: Book, loan: LoanAccount, kind: str, on: date, previous: str, note: str = ""):
    book.events.append(
        LoanEvent(
            loan=loan,
            kind=kind,
            on=on,
            classification=loan.classification,
            previous_classification=previous,
            days_overdue=loan.days_overdue,
            outstanding=loan.outstanding,
            note=note,
        )
    )


def _repay(book: Book, loan: LoanAccount, on: date, principal: Decimal) -> None:
    interest = (loan.outstanding * (loan.rate or Decimal(4)) / 100 / 12).quantize(Decimal("0.01"))
    book.repayments.append(Repayment(loan=loan, paid_on=on, principal=principal, interest=interest))
    loan.repaid_principal += principal
    loan.outstanding = loan.principal - loan.repaid_principal
    loan.reported_on = on
    _event(book, loan, LoanEventKind.REPAYMENT, on, "", note=f"{principal}/{interest}")


def _default(book: Book, loan: LoanAccount, first_missed: date) -> None:
    """Missed from `first_missed`: the bank reports each stage up to the build day."""
    if first_missed >= book.today:
        return
    # Some principal was repaid before the trouble began.
    if book.rng.random() < 0.4:
        _repay(
            book,
            loan,
            first_missed - timedelta(days=30),
            (loan.principal * Decimal("0.2")).quantize(Decimal("0.01")),
        )
    for days, classification in STAGES:
        on = first_missed + timedelta(days=days)
        if on >= book.today:
            break
        previous = loan.classification
        loan.classification = classification
        loan.days_overdue = days
        loan.overdue_amount = loan.outstanding
        loan.reported_on = on
        _event(book, loan, LoanEventKind.STATUS, on, previous)
    if loan.classification == Classification.LOSS and book.rng.random() < 0.5:
        on = loan.reported_on + timedelta(days=30)
        if on < book.today:
            loan.status = LoanStatus.WRITTEN_OFF
            loan.closed_on = on
            _event(book, loan, LoanEventKind.WRITTEN_OFF, on, "", note="经审批核销")


def _recall(book: Book, loan: LoanAccount, on: date) -> None:
    loan.status = LoanStatus.RECALLED
    loan.closed_on = on
    loan.reported_on = on
    _event(book, loan, LoanEventKind.RECALLED, on, "", note=book.rng.choice(RECALL_REASONS))


def _renew(book: Book, loan: LoanAccount, borrower: Borrower, on: date) -> None:
    loan.status = LoanStatus.RENEWED
    loan.closed_on = on
    new_maturity = add_months(on, 12)
    _event(book, loan, LoanEventKind.RENEWED, on, "")
    new = LoanAccount(
        enterprise_id=loan.enterprise_id,
        institution_id=loan.institution_id,
        source=loan.source,
        contract_no=f"{loan.contract_no}-XD",
        principal=loan.outstanding,
        rate=loan.rate,
        collateral=loan.collateral,
        disbursed_on=on,
        maturity_on=new_maturity,
        outstanding=loan.outstanding,
    )
    book.loans.append(new)
    book.renewals.append((loan, new))
    _event(book, new, LoanEventKind.OPENED, on, "", note=loan.contract_no)
    if new_maturity <= book.today:
        _repay(book, new, new_maturity, new.principal)
        new.status = LoanStatus.SETTLED
        new.closed_on = new_maturity


#: 绿色贷款 by use (issue 18): a share of the book financing a 绿色产业指导目录
#: category (its second-level code), drawn from a stream of its own so the
#: book's defaults and dates do not move with it; a renewal keeps its
#: loan's category. The green_disclosure builder adds the loans to green-
#: library members once the libraries are built.
GREEN_SHARE = 0.06
GREEN_CATEGORIES = ("1.1", "1.5", "1.6", "2.1", "3.1", "3.2", "3.3", "5.2")


def _green_by_use(book: Book) -> None:
    rng = book.ctx.rng("risk_green")
    for loan in book.loans:
        if loan.renewed_from_id is None and rng.random() < GREEN_SHARE:
            loan.green_category = rng.choice(GREEN_CATEGORIES)
    for old, new in book.renewals:
        new.green_category = old.green_category


def _write(book: Book) -> None:
    ctx = book.ctx
    _green_by_use(book)
    LoanAccount.objects.bulk_create(book.loans, batch_size=ctx.batch_size)
    # The renewed-from link needs both rows' keys.
    for old, new in book.renewals:
        new.renewed_from = old
    bulk_set(
        LoanAccount,
        [new for _old, new in book.renewals],
        ["renewed_from"],
        batch_size=ctx.batch_size,
    )
    for row in book.events:
        row.loan_id = row.loan.pk
    for row in book.repayments:
        row.loan_id = row.loan.pk
    LoanEvent.objects.bulk_create(book.events, batch_size=ctx.batch_size)
    Repayment.objects.bulk_create(book.repayments, batch_size=ctx.batch_size)
    per_status = defaultdict(int)
    for loan in book.loans:
        per_status[loan.status] += 1
    ctx.counts["risk_loans"] = len(book.loans)
    ctx.counts["risk_loans_non_performing"] = sum(loan.is_non_performing for loan in book.loans)
    ctx.counts["risk_loan_events"] = len(book.events)
    ctx.counts["risk_repayments"] = len(book.repayments)
    ctx.counts["risk_green_loans"] = sum(bool(loan.green_category) for loan in book.loans)


def digest_rows():
    yield from risk_warnings.digest_rows()
    yield (
        "risk_loans",
        LoanAccount.objects.order_by("institution__name", "contract_no").values_list(
            "institution__name",
            "contract_no",
            "enterprise__uscc",
            "source",
            "principal",
            "outstanding",
            "disbursed_on",
            "maturity_on",
            "status",
            "classification",
            "days_overdue",
            "collateral",
        ),
    )
    yield (
        "risk_loan_events",
        LoanEvent.objects.order_by(
            "loan__institution__name", "loan__contract_no", "on", "kind"
        ).values_list("loan__contract_no", "kind", "on", "classification", "days_overdue"),
    )
