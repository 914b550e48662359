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
