"""The policy app's state machines, each declared once.

State only moves through `chanrong.core.workflow.apply_transition` with one
of these tables (it checks the table and the actor, audits and notifies).
Conditions that are not about the actor — the budget, the caps, the notice
period, open objections — are checked by the services in the same
transaction.

    programme:    draft ─publish→ published ─close→ closed

    application:  proposed ─confirm→ bank_pending | submitted   (免申即享: the enterprise confirms)
                  bank_pending ─bank_confirm→ submitted         (lending bank)
                  submitted ─verify→ verified                   (主管部门初审)
                  verified ─approve→ notice                     (财政复核: budget committed)
                  notice ─conclude→ approved                    (公示期满, no open objection)
                  approved ─pay→ paid                           (拨付, voucher number)
                  any live state before paid ─reject→ rejected  (reason; budget released)
                  any live state before paid ─withdraw→ withdrawn (applicant; budget released)

    bridge draw:  requested ─approve→ approved ─draw→ drawn ─repay→ repaid
                  requested | approved ─reject→ rejected; requested ─withdraw→ withdrawn

    loss claim:   claimed ─pay→ paid; claimed ─reject→ rejected
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from chanrong.core.workflow import StateMachine, Transition

from . import permissions as p
from .models import ApplicationState as S
from .models import BridgeState as B
from .models import ClaimState as C
from .models import ProgrammeState

PROGRAMME = StateMachine.declare(
    "policy.programme",
    "state",
    [
        Transition(
            "publish",
            frozenset({ProgrammeState.DRAFT}),
            ProgrammeState.PUBLISHED,
            p.can_manage_programme,
            pgettext_lazy("workflow", "发布政策"),
        ),
        Transition(
            "close",
            frozenset({ProgrammeState.PUBLISHED}),
            ProgrammeState.CLOSED,
            p.can_manage_programme,
            pgettext_lazy("workflow", "结束政策"),
        ),
    ],
)

BEFORE_PAYMENT = frozenset(
    {S.PROPOSED, S.BANK_PENDING, S.SUBMITTED, S.VERIFIED, S.NOTICE, S.APPROVED}
)

APPLICATION = StateMachine.declare(
    "policy.application",
    "state",
    [
        # 免申即享: the target depends on whether the bank must still confirm;
        # the service picks "confirm" or "confirm_direct".
        Transition(
            "confirm",
            frozenset({S.PROPOSED}),
            S.BANK_PENDING,
            p.is_applicant,
            pgettext_lazy("workflow", "确认申请"),
        ),
        Transition(
            "confirm_direct",
            frozenset({S.PROPOSED}),
            S.SUBMITTED,
            p.is_applicant,
            pgettext_lazy("workflow", "确认申请"),
        ),
        Transition(
            "bank_confirm",
            frozenset({S.BANK_PENDING}),
            S.SUBMITTED,
            p.is_lender,
            pgettext_lazy("workflow", "银行确认"),
        ),
        Transition(
            "verify",
            frozenset({S.SUBMITTED}),
            S.VERIFIED,
            p.can_verify,
            pgettext_lazy("workflow", "初审通过"),
        ),
        Transition(
            "approve",
            frozenset({S.VERIFIED}),
            S.NOTICE,
            p.can_approve,
            pgettext_lazy("workflow", "复核通过并公示"),
        ),
        Transition(
            "conclude",
            frozenset({S.NOTICE}),
            S.APPROVED,
            lambda actor, obj: actor is None or p.can_pay(actor, obj),
            pgettext_lazy("workflow", "公示期满"),
        ),
        Transition(
            "pay",
            frozenset({S.APPROVED}),
            S.PAID,
            p.can_pay,
            pgettext_lazy("workflow", "拨付"),
        ),
        Transition(
            "reject",
            BEFORE_PAYMENT,
            S.REJECTED,
            lambda actor, obj: (
                p.can_reject(actor, obj)
                or (obj.state == S.BANK_PENDING and p.is_lender(actor, obj))
            ),
            pgettext_lazy("workflow", "驳回"),
        ),
        Transition(
            "withdraw",
            BEFORE_PAYMENT,
            S.WITHDRAWN,
            p.is_applicant,
            pgettext_lazy("workflow", "撤回申请"),
        ),
    ],
)

BRIDGE = StateMachine.declare(
    "policy.bridge",
    "state",
    [
        Transition(
            "approve",
            frozenset({B.REQUESTED}),
            B.APPROVED,
            lambda actor, draw: p.can_manage_programme(actor, draw.programme),
            pgettext_lazy("workflow", "同意转贷"),
        ),
        Transition(
            "draw",
            frozenset({B.APPROVED}),
            B.DRAWN,
            lambda actor, draw: p.can_manage_programme(actor, draw.programme),
            pgettext_lazy("workflow", "出款"),
        ),
        Transition(
            "repay",
            frozenset({B.DRAWN}),
            B.REPAID,
            lambda actor, draw: p.can_manage_programme(actor, draw.programme),
            pgettext_lazy("workflow", "归还"),
        ),
        Transition(
            "reject",
            frozenset({B.REQUESTED, B.APPROVED}),
            B.REJECTED,
            lambda actor, draw: p.can_manage_programme(actor, draw.programme),
            pgettext_lazy("workflow", "驳回"),
        ),
        Transition(
            "withdraw",
            frozenset({B.REQUESTED}),
            B.WITHDRAWN,
            lambda actor, draw: getattr(actor, "enterprise_id", None) == draw.enterprise_id,
            pgettext_lazy("workflow", "撤回"),
        ),
    ],
)

CLAIM = StateMachine.declare(
    "policy.claim",
    "state",
    [
        Transition(
            "pay",
            frozenset({C.CLAIMED}),
            C.PAID,
            lambda actor, claim: p.can_manage_programme(actor, claim.registration.programme),
            pgettext_lazy("workflow", "代偿"),
        ),
        Transition(
            "reject",
            frozenset({C.CLAIMED}),
            C.REJECTED,
            lambda actor, claim: p.can_manage_programme(actor, claim.registration.programme),
            pgettext_lazy("workflow", "驳回"),
        ),
    ],
)
