"""The demo county's 财政金融政策: programmes of every kind, applications in
every state, a ledger whose totals are its rows, pools whose balances are
their movements, nothing after the build day, and the accounts and pages
that show it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum
from django.test import Client

from chanrong.accounts.models import AgencyFunction, Role, User
from chanrong.core.models import AuditEntry, Region
from chanrong.demo import services as demo
from chanrong.insights.models import IndicatorDefinition
from chanrong.insights.services import indicator_value
from chanrong.policy import services as policy
from chanrong.policy import sources
from chanrong.policy.models import (
    COMMITTED_STATES,
    Application,
    ApplicationState,
    BridgeDraw,
    BridgeState,
    BudgetYear,
    EnterpriseYear,
    LedgerEntry,
    LedgerKind,
    Loan,
    LossClaim,
    Pool,
    PoolMovement,
    PoolRegistration,
    Programme,
    ProgrammeKind,
    ProgrammeState,
)
from chanrong.policy.services import stats
from tests.module_demo import PASSWORD, demo_for_module

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 7, 15)
TZ = ZoneInfo("Asia/Shanghai")
ZERO = Decimal(0)


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """Built once for the module (tests/module_demo.py); each test sees it fresh."""
    with demo_for_module(django_db_blocker, seed=11, scale=0.05, today=TODAY) as result:
        yield result


def _sum(qs, field="amount") -> Decimal:
    return qs.aggregate(s=Sum(field))["s"] or ZERO


def test_programmes_of_every_kind_built_through_the_services(built):
    finance = User.objects.get(username="gov_jiashan_finance")
    assert finance.agency.name == "嘉善县财政局"
    assert finance.agency.function == AgencyFunction.FINANCE
    assert finance.agency.region_id == "330421" and finance.role == Role.GOV_ADMIN
    staff = User.objects.get(username="gov_jiashan_finance_staff")
    assert (staff.agency_id, staff.role) == (finance.agency_id, Role.GOV_STAFF)
    published = Programme.objects.filter(state=ProgrammeState.PUBLISHED)
    assert set(published.values_list("kind", flat=True)) == set(ProgrammeKind.values)
    assert Programme.objects.filter(state=ProgrammeState.CLOSED).exists()
    assert Programme.objects.filter(state=ProgrammeState.DRAFT).exists()
    interest = Programme.objects.get(name__contains="三类企业、五类项目")
    assert interest.params["method"] == "lpr_share" and interest.params["lpr_share"] == "50"
    assert interest.eligibility["chongqing_classes"] and interest.eligibility["project_classes"]
    jiashan = Programme.objects.filter(region_id="330421", state=ProgrammeState.PUBLISHED)
    fee = jiashan.get(kind=ProgrammeKind.GUARANTEE_FEE)
    assert Decimal(fee.params["fee_rate_ceiling"]) == 1
    bridge = jiashan.get(kind=ProgrammeKind.BRIDGE)
    assert int(bridge.params["max_days"]) == 15 and Decimal(bridge.params["daily_fee_rate"]) > 0
    assert Decimal(jiashan.get(kind=ProgrammeKind.RISK_POOL).params["share"]) == 40
    items = {
        i["code"]
        for p in Programme.objects.filter(kind=ProgrammeKind.AWARD)
        for i in p.params["items"]
    }
    assert {"main_board", "neeq", "first_loan", "key", "growth"} <= items
    # Every programme parses (as the services will read it) and was audited.
    for programme in Programme.objects.all():
        policy.check(programme)
    created = AuditEntry.objects.filter(action="policy.programme.create").count()
    assert created == Programme.objects.count()
    assert AuditEntry.objects.filter(action="policy.budget.appropriate").exists()
    assert AuditEntry.objects.filter(action="policy.programme.publish").exists()


def test_every_application_state_occurs(built):
    states = set(Application.objects.values_list("state", flat=True))
    assert states == set(ApplicationState.values)
    paid = Application.objects.filter(state=ApplicationState.PAID)
    assert paid.count() >= 10
    assert not paid.filter(voucher_no="").exists() and not paid.filter(paid_on=None).exists()
    assert paid.values("voucher_no").distinct().count() == paid.count()
    for state in (ApplicationState.REJECTED, ApplicationState.WITHDRAWN):
        assert not Application.objects.filter(state=state, reason="").exists()
    # In 公示 right now, so the public 公示 page shows something.
    notices = Application.objects.filter(state=ApplicationState.NOTICE, notice_ends_on__gte=TODAY)
    assert notices.exists()
    # Waiting for 嘉善农商行 to confirm ent_user's loan: both of them see it.
    ent_user = User.objects.get(username="ent_user")
    bank_staff = User.objects.get(username="bank_staff")
    waiting = Application.objects.filter(
        state=ApplicationState.BANK_PENDING, enterprise__name="嘉善精工机械有限公司"
    )
    assert Application.objects.visible_to(bank_staff).filter(pk__in=waiting).exists()
    assert Application.objects.visible_to(ent_user).filter(pk__in=waiting).exists()
    # Every kind of money went out: 贴息, 担保费补贴, awards (to enterprises and to banks).
    kinds = set(paid.values_list("programme__kind", flat=True))
    assert kinds == {ProgrammeKind.INTEREST, ProgrammeKind.GUARANTEE_FEE, ProgrammeKind.AWARD}
    assert paid.filter(enterprise__isnull=True, institution__isnull=False).exists()
    # On the platform's own loans and on loans the banks confirmed off it.
    assert paid.filter(loan__source="platform").exists()
    assert paid.filter(loan__source="off_platform").exists()
    platform = Loan.objects.filter(source="platform")
    assert not platform.filter(demand__isnull=True).exists()
    for loan in platform.select_related("demand")[:20]:
        assert (loan.principal, loan.loan_date) == (
            loan.demand.disbursed_amount,
            loan.demand.disbursed_on,
        )
    # The amount is the calculator's, line by line.
    for app in Application.objects.all():
        assert app.calculation["amount"] == str(app.amount), app.pk
        assert app.calculation["lines"], app.pk


def test_the_ledger_totals_are_its_rows(built):
    """committed + paid ≤ appropriation; each budget year's totals equal the
    applications it holds and the sum of its ledger entries; enterprise-year
    totals likewise; no loan or enterprise above its programme's caps."""
    for budget in BudgetYear.objects.select_related("programme"):
        apps = Application.objects.filter(programme=budget.programme, year=budget.year)
        committed = _sum(apps.filter(state__in=COMMITTED_STATES))
        paid = _sum(apps.filter(state=ApplicationState.PAID))
        assert (budget.committed, budget.paid) == (committed, paid), budget
        assert budget.committed + budget.paid <= budget.appropriation, budget
        entries = LedgerEntry.objects.filter(budget=budget)
        by_kind = {k: _sum(entries.filter(kind=k)) for k in LedgerKind.values}
        assert by_kind[LedgerKind.PAY] == paid
        assert (
            by_kind[LedgerKind.COMMIT] + by_kind[LedgerKind.RELEASE] - by_kind[LedgerKind.PAY]
            == committed
        )
        assert by_kind[LedgerKind.APPROPRIATE] == budget.appropriation
        last = entries.order_by("created_at", "pk").last()
        assert (last.committed_after, last.paid_after) == (committed, paid), budget
    holdings = defaultdict(lambda: [ZERO, ZERO])
    for app in Application.objects.filter(
        state__in=[*COMMITTED_STATES, ApplicationState.PAID], enterprise__isnull=False
    ):
        slot = holdings[(app.programme_id, app.year, app.enterprise_id)]
        slot[1 if app.state == ApplicationState.PAID else 0] += app.amount
    rows = {
        (e.programme_id, e.year, e.enterprise_id): [e.committed, e.paid]
        for e in EnterpriseYear.objects.all()
    }
    assert {k: v for k, v in rows.items() if v != [ZERO, ZERO]} == dict(holdings)
    for programme in Programme.objects.filter(kind__in=["interest", "guarantee_fee"]):
        params = programme.params
        held = Application.objects.filter(
            programme=programme, state__in=[*COMMITTED_STATES, ApplicationState.PAID]
        )
        for row in held.values("loan_id").annotate(s=Sum("amount")):
            assert row["s"] <= Decimal(params["cap_per_loan"]), programme
        for row in held.values("enterprise_id", "year").annotate(s=Sum("amount")):
            assert row["s"] <= Decimal(params["cap_per_enterprise_year"]), programme


def test_pools_balances_are_their_movements(built):
    for pool in Pool.objects.select_related("programme"):
        moves = PoolMovement.objects.filter(pool=pool)

        def total(kind, moves=moves):
            return _sum(moves.filter(kind=kind))

        assert pool.capital == total("capital") > 0
        assert pool.paid_out == total("compensate")
        assert pool.recovered == total("recover")
        assert pool.fee_income == total("fee")
        assert pool.outstanding == total("draw") - total("repay")
        assert pool.balance >= 0
    draws = BridgeDraw.objects.all()
    assert draws.filter(state=BridgeState.REPAID).exists()
    for pool in Pool.objects.filter(programme__kind="bridge"):
        out = _sum(draws.filter(programme=pool.programme, state=BridgeState.DRAWN))
        assert pool.outstanding == out, pool
    for draw in draws.filter(state=BridgeState.REPAID):
        assert draw.fee > 0 and draw.repaid_on >= draw.drawn_on and draw.renewed_loan_id
    assert PoolRegistration.objects.exists()
    claims = set(LossClaim.objects.values_list("state", flat=True))
    assert {"claimed", "paid", "rejected"} <= claims
    assert (
        PoolMovement.objects.filter(kind="recover").exists()
        or not LossClaim.objects.filter(recovered__gt=0).exists()
    )


def test_nothing_happens_after_the_build_day(built):
    cutoff = dt.datetime.combine(TODAY, dt.time.min, tzinfo=TZ)
    assert not Application.objects.filter(paid_on__gte=TODAY).exists()
    assert not Application.objects.filter(notice_starts_on__gte=TODAY).exists()
    assert not Application.objects.filter(period_end__gte=TODAY).exists()
    for name in ("created_at", "submitted_at", "bank_confirmed_at", "decided_at", "updated_at"):
        assert not Application.objects.filter(**{f"{name}__gte": cutoff}).exists(), name
    assert not LedgerEntry.objects.filter(created_at__gte=cutoff).exists()
    assert not Loan.objects.filter(loan_date__gte=TODAY).exists()
    assert not Loan.objects.filter(created_at__gte=cutoff).exists()
    assert not PoolMovement.objects.filter(on__gte=TODAY).exists()
    assert not BridgeDraw.objects.filter(drawn_on__gte=TODAY).exists()
    assert not BridgeDraw.objects.filter(requested_at__gte=cutoff).exists()
    assert not LossClaim.objects.filter(claimed_on__gte=TODAY).exists()
    assert not PoolRegistration.objects.filter(registered_on__gte=TODAY).exists()
    assert not Programme.objects.filter(published_at__gte=cutoff).exists()
    first = Application.objects.order_by("created_at").first().created_at
    assert first < cutoff - dt.timedelta(days=500)  # two years of history


def test_the_accounts_log_in_and_find_their_pages(built):
    for username in (
        "gov_jiashan_finance",
        "gov_jiashan_finance_staff",
        "gov_jiashan",
        "bank_staff",
        "ent_user",
        "admin",
    ):
        assert Client().login(username=username, password=PASSWORD), username
    printed = {line.username for line in demo.account_lines()}
    assert {"gov_jiashan_finance", "gov_jiashan_finance_staff", "ent2_user"} <= printed
    finance = Client()
    finance.login(username="gov_jiashan_finance", password=PASSWORD)
    page = finance.get("/policy/stats/", {"start": "2024-07-15", "end": "2026-07-15"})
    assert page.status_code == 200
    assert 'id="policy-month-chart"' in page.content.decode()
    result = stats.summarise(
        User.objects.get(username="gov_jiashan_finance"),
        stats.Filters(TODAY.replace(year=2024), TODAY),
    )
    assert result.total.paid_count > 0 and result.total.bridge_count > 0
    assert result.total.compensation_count > 0
    notice = (
        Application.objects.filter(state=ApplicationState.NOTICE)
        .select_related("enterprise")
        .first()
    )
    public = Client().get("/policy/notices/")
    assert public.status_code == 200
    assert (notice.enterprise or notice.institution).name in public.content.decode()


def test_indicators_read_the_demo_policy_tables(built):
    jiashan = Region.objects.get(code="330421")
    start, end = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    definition = IndicatorDefinition.objects.get(code="interest-subsidy")
    value = indicator_value(definition, jiashan, start, end)
    paid = _sum(
        Application.objects.filter(
            programme__kind="interest",
            state=ApplicationState.PAID,
            paid_on__range=(start, end),
            enterprise__region_id="330421",
        )
    )
    assert paid > 0 and value.computed
    assert value.value == paid / Decimal(100_000_000)
    assert sources.interest_subsidy("330421", start, end) == paid


def test_the_builders_shortcuts_compute_as_the_services_do(built):
    """The builder reads the LPR from a table loaded once and counts working
    days with a cache; both must agree with the services' own functions."""
    from chanrong.core.workdays import add_workdays
    from chanrong.demo.builders import policy as builder
    from chanrong.policy import calculator as calc

    world = builder.World(None, None, TODAY, {})
    programme = Programme.objects.get(name__contains="三类企业、五类项目")
    loans = Loan.objects.filter(loan_date__gte=programme.starts_on).order_by("pk")[:12]
    assert loans
    for loan in loans:
        for paid in (None, Decimal("50000"), Decimal("10")):
            claim = policy.Claim(dt.date(2025, 1, 1), dt.date(2025, 3, 31), paid)
            held = calc.Held(Decimal("1000"), Decimal("2000"))
            ours = builder._compute(world, programme, claim, loan, loan.enterprise_id, held)
            theirs = policy.compute(
                programme, claim, loan=loan, enterprise_id=loan.enterprise_id, held=held
            )
            assert ours.as_json() == theirs.as_json(), loan.contract_no
    day = dt.date(2025, 9, 25)  # across the National Day holiday and its 调休
    for offset in range(30):
        start = day + dt.timedelta(days=offset)
        for n in (1, 3, 5, 8):
            assert builder._after(start, n) == add_workdays(start, n)


def test_other_counties_have_their_own_programmes_and_plan_years(built):
    """平湖 and 海宁's 财政局 run their own programmes from 2020, and 嘉善 had
    an earlier round (2020–2023, closed, only settled applications), so the
    policy indicators have figures in more than one county for every year of
    嘉善's plan (2021–2023); each county's money stays its own."""
    counties = {"330482": "平湖市财政局", "330481": "海宁市财政局"}
    for code, agency in counties.items():
        programmes = Programme.objects.filter(region_id=code)
        assert {p.agency.name for p in programmes} == {agency}
        kinds = set(programmes.values_list("kind", flat=True))
        assert kinds == {"interest", "guarantee_fee", "bridge", "risk_pool"}, code
        paid = Application.objects.filter(programme__in=programmes, state=ApplicationState.PAID)
        assert not paid.exclude(enterprise__region_id=code).exists()
    earlier = Programme.objects.filter(name__contains="（2020—2023年）")
    assert {p.state for p in earlier} == {ProgrammeState.CLOSED} and earlier.count() == 2
    held = Application.objects.filter(programme__in=earlier)
    assert set(held.values_list("state", flat=True)) <= {"paid", "rejected", "withdrawn"}
    assert not held.filter(paid_on__gt=dt.date(2023, 12, 31)).exists()
    for year in (2021, 2022, 2023):
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        for code in (*counties, "330421"):
            assert sources.interest_subsidy(code, start, end) > 0, (code, year)
    vouchers = Application.objects.exclude(voucher_no="").values_list("voucher_no", flat=True)
    assert len(set(vouchers)) == len(vouchers)
