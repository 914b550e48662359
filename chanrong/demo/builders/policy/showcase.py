"""The showcase (what the demo accounts find, through the application services) and the restamping of service-stamped times."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from chanrong.accounts.models import User
from chanrong.core import audit, notify
from chanrong.core.errors import ServiceError
from chanrong.policy import services
from chanrong.policy.models import (
    Application,
    ApplicationState,
    LedgerEntry,
    LedgerKind,
    Loan,
    Objection,
    PoolMovement,
    Programme,
    ProgrammeKind,
)
from chanrong.registry.models import Enterprise, Qualification

from ..base import bulk_set, workdays_before
from .common import (
    ENT2_USER,
    ENT_USER,
    FINANCE_ADMIN,
    FINANCE_STAFF,
    INDUSTRY_ADMIN,
    JIASHAN,
    OBJECTION_TEXT,
    PURPOSES,
    REJECT_REASONS,
    WAN,
    _after,
    _at,
)
from .loans import _eligible, _off_platform
from .stories import _interest_paid, _periods
from .world import World

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
    bulk_set(
        Application,
        apps,
        ["created_at", "submitted_at", "bank_confirmed_at", "decided_at", "updated_at"],
    )
    entries = list(LedgerEntry.objects.filter(application__in=apps).select_related("application"))
    for entry in entries:
        entry.created_at = _at(rng, entry.application.notice_starts_on or last)
    bulk_set(LedgerEntry, entries, ["created_at"])
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
        bulk_set(LedgerEntry, entries, ["committed_after", "paid_after"], batch_size=2000)


def _restamp_setup(world: World, others: list[World] | tuple = ()) -> None:
    """Programmes (嘉善's and the other counties'), loans, appropriations and
    pool movements as of their own dates."""
    rng = world.rng
    programmes = [*world.programmes.values(), *(p for w in others for p in w.programmes.values())]
    for programme in programmes:
        programme.refresh_from_db()
        if programme.published_at is None:
            programme.created_at = programme.updated_at = _at(rng, world.today - timedelta(days=12))
            continue
        published = _at(rng, programme.starts_on - timedelta(days=12))
        programme.created_at = _at(rng, programme.starts_on - timedelta(days=30))
        programme.published_at = published
        programme.updated_at = published
    bulk_set(Programme, programmes, ["created_at", "published_at", "updated_at"])
    loans = list(Loan.objects.select_related("demand"))
    for loan in loans:
        day = loan.loan_date
        loan.created_at = _at(rng, day)
        if loan.confirmed_at is not None:
            loan.confirmed_at = loan.created_at
    bulk_set(Loan, loans, ["created_at", "confirmed_at"], batch_size=2000)
    entries = list(
        LedgerEntry.objects.filter(kind=LedgerKind.APPROPRIATE).select_related("budget__programme")
    )
    for entry in entries:
        day = max(date(entry.budget.year, 1, 4), entry.budget.programme.starts_on)
        entry.created_at = _at(rng, day)
    bulk_set(LedgerEntry, entries, ["created_at"])
    movements = list(PoolMovement.objects.all())
    for movement in movements:
        movement.created_at = _at(rng, movement.on)
    bulk_set(PoolMovement, movements, ["created_at"], batch_size=2000)
    _rerun_ledger(world.touched_budgets)
