"""The policy app's services, by subdomain: programmes, loans, applications,
the budget ledger (and, beside them, the two pools and 政策找人)."""

from .applications import (
    Claim,
    apply,
    approve,
    bank_confirm,
    close_notices,
    compute,
    conclude,
    confirm,
    evaluate,
    handle_objection,
    pay,
    raise_objection,
    reject,
    verify,
    withdraw,
)
from .ledger import set_appropriation
from .loans import confirm_loan, eligible_platform_loans, loan_from_demand, register_loan
from .programmes import (
    check,
    close_programme,
    create_programme,
    publish_programme,
    update_programme,
)

__all__ = [
    "Claim",
    "apply",
    "approve",
    "bank_confirm",
    "check",
    "close_notices",
    "close_programme",
    "compute",
    "conclude",
    "confirm",
    "confirm_loan",
    "create_programme",
    "eligible_platform_loans",
    "evaluate",
    "handle_objection",
    "loan_from_demand",
    "pay",
    "publish_programme",
    "raise_objection",
    "register_loan",
    "reject",
    "set_appropriation",
    "update_programme",
    "verify",
    "withdraw",
]

# 转贷应急 and 风险补偿 (the pools engineer): the modules, and their entry points
# under names that do not clash with the applications' approve / reject / pay.
from . import bridge, pools, riskpool  # noqa: E402
from .bridge import approve as approve_draw  # noqa: E402
from .bridge import confirm_commitment, draw_funds, notify_overdue, request_draw  # noqa: E402
from .bridge import reject as reject_draw  # noqa: E402
from .bridge import repay as repay_draw  # noqa: E402
from .bridge import withdraw as withdraw_draw  # noqa: E402
from .pools import add_capital  # noqa: E402
from .riskpool import file_claim, pay_claim, reject_claim, report_recovery  # noqa: E402
from .riskpool import register as register_in_pool  # noqa: E402

__all__ += [
    "add_capital",
    "approve_draw",
    "bridge",
    "confirm_commitment",
    "draw_funds",
    "file_claim",
    "notify_overdue",
    "pay_claim",
    "pools",
    "register_in_pool",
    "reject_claim",
    "reject_draw",
    "repay_draw",
    "report_recovery",
    "request_draw",
    "riskpool",
    "withdraw_draw",
]

# 政策找人 / 免申即享 (outreach): find, estimate, notify_found, build, run_auto.
from . import outreach  # noqa: E402

__all__ += ["outreach"]
