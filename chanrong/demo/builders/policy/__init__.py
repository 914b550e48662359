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

- Other counties (counties.py): 平湖市 and 海宁市's 财政局 with their own
  贴息, 担保费补贴, 转贷应急 and 风险补偿 programmes from 2020, built by the same
  steps, so the policy indicators have figures for every year of 嘉善's plan
  in more than one county.

Every date is placed relative to the build day and drawn from this
builder's own random stream; the services' clock-stamped times (created_at,
decided_at …) are set back to the story's dates afterwards, so the same
seed, scale and build day give the same rows. Bank-side service calls need
an actor per lending bank: banks without a demo account get one staff user
here (`policy_<bank key>`), as the pilots builder adds its officials.
"""

from __future__ import annotations

from django.db.models import F

from chanrong.accounts.models import User
from chanrong.policy.models import (
    Application,
    BridgeDraw,
    BudgetYear,
    LedgerEntry,
    Loan,
    LossClaim,
    Pool,
    PoolMovement,
    PoolRegistration,
    Programme,
)

from ..base import DemoContext
from .common import _after
from .counties import build_counties
from .history import _budgets_and_publish, _write_history
from .loans import _loans
from .pools import _pools
from .showcase import _restamp_setup, _showcase
from .stories import _compute, _stories
from .world import World, _bank_users, _create_programmes, _designate_classes, _named_users

# The package splits the builder by subdomain (common, programmes, world,
# loans, stories, history, pools, showcase, counties); World, _after and
# _compute are what the tests reach for.
__all__ = ["MODELS", "NAME", "World", "_after", "_compute", "build", "digest_rows"]

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
    others = build_counties(world)
    ctx.counts["policy_programmes"] = Programme.objects.count()
    ctx.counts["policy_loans"] = Loan.objects.count()
    ctx.counts["policy_applications"] = Application.objects.count()
    ctx.counts["policy_ledger_entries"] = LedgerEntry.objects.count()
    ctx.counts["policy_bridge_draws"] = BridgeDraw.objects.count()
    ctx.counts["policy_pool_registrations"] = PoolRegistration.objects.count()
    ctx.counts["policy_loss_claims"] = LossClaim.objects.count()
    _restamp_setup(world, others)


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
