"""政策找人 / 免申即享: who could use a programme and has not applied.

For one 贴息 or 担保费补贴 programme: the enterprises that meet its
conditions and hold a loan it could pay on, with no live application for
that loan this programme-year. The agency notifies them (at most once per
programme and enterprise), and where the programme is 免申即享 the platform
builds the application from its own data so the enterprise only confirms.

Set-based, not a loop over enterprises. The programme's conditions
(`rules.ProgrammeConditions`) become one WHERE clause over the enterprise
(region, industry, size, tax grade, 三类企业), EXISTS over the registry's
qualifications active on the day and list entries in force (with the list
codes `registry.services.eligibility` gives them), NOT EXISTS over the 黑名单
in force, and the loan conditions (kind, amount, date window, 五类项目 via
the loan's project) on the loans themselves: one query for the policy loans
and one for the platform loans not yet copied into one (disbursed demands).
What SQL cannot say exactly the same way on SQLite and PostgreSQL — the
term in whole months of a loan whose maturity is computed from the demand,
substring purpose keywords, whether the loan lives in the claim window — is
narrowed in SQL to a superset and then decided by the same Python functions
the applications use, for the few loans left.

`find_one_by_one` is the reference: a loop over the enterprises of the
region calling `services.evaluate(programme, enterprise, loan)` for each of
their loans. A test holds the two equal on a varied data set, and it is the
baseline of `bench/policy_outreach.py`.

The candidate loans (both ways):
- a policy `Loan` of the enterprise (platform, or off-platform even before
  the bank confirms it: the application then goes to the bank), or a
  disbursed demand not yet copied into a `Loan` (with amount, date and
  lending institution recorded), its facts as `loans.loan_from_demand`
  would copy them;
- alive in the claim window: the programme-year so far (1 January of the
  year, or the programme's start, to today or the programme's end);
- for 担保费补贴, with a guarantee fee rate recorded (platform demands carry
  none, so the calculator could not pay on them);
- no live application (LIVE_STATES) of this programme for it in that year.
Enterprises are those registered in the programme's region subtree (an
agency reaches out in its own jurisdiction; `evaluate` itself leaves the
region to the eligibility's own `regions`).
"""

from .acting import (
    build,
    notify_found,
    programme_link,
    run_auto,
    summary,
)
from .finding import (
    OUTREACH_KINDS,
    CandidateLoan,
    Found,
    Outreach,
    Window,
    can_act,
    can_view,
    claim_window,
    demand_rows,
    enterprise_condition,
    estimate,
    find,
    find_one_by_one,
    mark_notified,
    policy_loan_rows,
)

__all__ = [
    "CandidateLoan",
    "Found",
    "OUTREACH_KINDS",
    "Outreach",
    "Window",
    "build",
    "can_act",
    "can_view",
    "claim_window",
    "demand_rows",
    "enterprise_condition",
    "estimate",
    "find",
    "find_one_by_one",
    "mark_notified",
    "notify_found",
    "policy_loan_rows",
    "programme_link",
    "run_auto",
    "summary",
]
