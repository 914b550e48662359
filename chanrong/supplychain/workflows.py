"""The supply-chain app's state machines, each declared once.

State only moves through `chanrong.core.workflow.apply_transition` with one
of these tables (it checks the table and the actor, audits and notifies).
Conditions that are not about the actor — the unfinanced balance, the sum of
a split, maturity — are checked by the services under the same row lock.

    receivable:  registered ─confirm→ confirmed            (debtor, full amount)
                 registered ─confirm_part→ partly_confirmed (debtor, less than the amount)
                 registered ─dispute→ disputed              (debtor, with a reason)
                 registered | disputed ─withdraw→ withdrawn (creditor; frees its invoices)

    financing:   (created active by the bank)
                 active ─overdue→ overdue                   (the periodic job)
                 active | overdue ─repay→ repaid            (the bank reports the debtor's payment)

    voucher:     (root issued held by the core enterprise; children created held)
                 held ─split→ transferred                   (holder: parts to others and/or a remainder)
                 held ─split_for_discount→ transferred      (a bank discounting part of a node)
                 held ─discount→ discounted                 (a bank)
                 held | discounted ─pay→ paid               (issuer, at maturity)

    discount application (a holder asks a bank it authorised to discount a node):
                 (created pending by the holder)
                 pending ─accept→ accepted                  (the chosen bank; records the discount)
                 pending ─decline→ declined                 (the chosen bank, with a reason)
                 pending ─withdraw→ withdrawn               (the holder)

A confirmed amount never changes: no transition leaves confirmed or
partly_confirmed.
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from chanrong.core.workflow import StateMachine, Transition

from . import permissions as p
from .models import DiscountApplicationState as D
from .models import FinancingState as F
from .models import ReceivableState as R
from .models import VoucherState as V

RECEIVABLE = StateMachine.declare(
    "supplychain.receivable",
    "state",
    [
        Transition(
            "confirm",
            frozenset({R.REGISTERED}),
            R.CONFIRMED,
            p.is_debtor,
            pgettext_lazy("workflow", "确权"),
        ),
        Transition(
            "confirm_part",
            frozenset({R.REGISTERED}),
            R.PARTLY_CONFIRMED,
            p.is_debtor,
            pgettext_lazy("workflow", "部分确权"),
        ),
        Transition(
            "dispute",
            frozenset({R.REGISTERED}),
            R.DISPUTED,
            p.is_debtor,
            pgettext_lazy("workflow", "提出异议"),
        ),
        Transition(
            "withdraw",
            frozenset({R.REGISTERED, R.DISPUTED}),
            R.WITHDRAWN,
            p.is_creditor,
            pgettext_lazy("workflow", "撤回"),
        ),
    ],
)

FINANCING = StateMachine.declare(
    "supplychain.financing",
    "state",
    [
        Transition(
            "overdue",
            frozenset({F.ACTIVE}),
            F.OVERDUE,
            lambda actor, financing: p.is_system(actor),
            pgettext_lazy("workflow", "逾期"),
        ),
        Transition(
            "repay",
            frozenset({F.ACTIVE, F.OVERDUE}),
            F.REPAID,
            p.is_financing_bank,
            pgettext_lazy("workflow", "还款"),
        ),
    ],
)

VOUCHER = StateMachine.declare(
    "supplychain.voucher",
    "state",
    [
        Transition(
            "split",
            frozenset({V.HELD}),
            V.TRANSFERRED,
            p.is_holder,
            pgettext_lazy("workflow", "拆分转让"),
        ),
        Transition(
            "split_for_discount",
            frozenset({V.HELD}),
            V.TRANSFERRED,
            p.is_bank,
            pgettext_lazy("workflow", "拆分贴现"),
        ),
        Transition(
            "discount",
            frozenset({V.HELD}),
            V.DISCOUNTED,
            p.is_bank,
            pgettext_lazy("workflow", "贴现"),
        ),
        Transition(
            "pay",
            frozenset({V.HELD, V.DISCOUNTED}),
            V.PAID,
            p.is_issuer,
            pgettext_lazy("workflow", "兑付"),
        ),
    ],
)

DISCOUNT_APPLICATION = StateMachine.declare(
    "supplychain.discount_application",
    "state",
    [
        Transition(
            "accept",
            frozenset({D.PENDING}),
            D.ACCEPTED,
            p.is_chosen_bank,
            pgettext_lazy("workflow", "受理贴现"),
        ),
        Transition(
            "decline",
            frozenset({D.PENDING}),
            D.DECLINED,
            p.is_chosen_bank,
            pgettext_lazy("workflow", "拒绝贴现"),
        ),
        Transition(
            "withdraw",
            frozenset({D.PENDING}),
            D.WITHDRAWN,
            p.is_applicant,
            pgettext_lazy("workflow", "撤回申请"),
        ),
    ],
)
