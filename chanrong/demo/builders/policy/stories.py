"""Application stories: each application's timeline up to the build day, and its amount from the calculator."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Min

from chanrong.demands.models import Demand, DemandState
from chanrong.finance import lpr
from chanrong.policy import calculator as calc
from chanrong.policy import params as pm
from chanrong.policy import services
from chanrong.policy.models import (
    ApplicationState,
    Loan,
    LoanSource,
    ProgrammeKind,
)
from chanrong.policy.services.applications import loan_facts
from chanrong.registry.models import Enterprise

from .common import (
    BANK_REJECT,
    FINANCE_STAFF,
    INDUSTRY_ADMIN,
    OBJECTION_TEXT,
    REJECT_REASONS,
    WITHDRAW_REASONS,
    _add_months,
    _after,
    _yuan,
)
from .loans import _eligible
from .programmes import Spec
from .world import World

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
        if key not in world.specs:
            continue  # another county's programmes: not every kind
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
    if world.settled_only:
        stories = [s for s in stories if s.events[-1][0] in ("pay", "reject", "withdraw")]
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
    if "first_loan" not in world.specs:
        return stories  # the awards are 嘉善's only
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
        Enterprise.objects.filter(region_id=world.region, size__in=("large", "medium"))
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
