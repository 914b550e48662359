"""The risk app's state machines, each declared once.

    loan:  active ─settle→ settled            (the last principal repaid)
           active ─renew→ renewed             (无还本续贷: a new loan replaces it)
           active ─recall→ recalled           (提前收回 / 抽贷, with a reason)
           active | recalled ─write_off→ written_off   (核销, a manager)

    alert: open ─acknowledge→ acknowledged ─dispose→ disposed   (open ─dispose→ disposed too)

    consultation (抽贷断贷会商): see CONSULTATION below.

Classification, days overdue and repayments are reports on an active loan,
not states: each is kept as a LoanEvent by `services.loanbook`.
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from chanrong.core.workflow import StateMachine, Transition

from . import permissions as p
from .models import AlertState as A
from .models import LoanStatus as L

LOAN = StateMachine.declare(
    "risk.loan",
    "status",
    [
        Transition(
            "settle",
            frozenset({L.ACTIVE}),
            L.SETTLED,
            p.is_lender,
            pgettext_lazy("workflow", "贷款结清"),
        ),
        Transition(
            "renew",
            frozenset({L.ACTIVE}),
            L.RENEWED,
            p.is_lender,
            pgettext_lazy("workflow", "无还本续贷"),
        ),
        Transition(
            "recall",
            frozenset({L.ACTIVE}),
            L.RECALLED,
            p.is_lender,
            pgettext_lazy("workflow", "提前收回"),
        ),
        Transition(
            "write_off",
            frozenset({L.ACTIVE, L.RECALLED}),
            L.WRITTEN_OFF,
            p.can_write_off,
            pgettext_lazy("workflow", "贷款核销"),
        ),
    ],
)


# Scorecard versions (services.scoring):
#   proposed ─approve→ live ─retire→ retired   (a government admin)
#   proposed ─refuse→ refused                  (below the AUC floor, or a government admin)
from .models import ModelStatus as M  # noqa: E402

MODEL_VERSION = StateMachine.declare(
    "risk.model",
    "status",
    [
        Transition(
            "approve",
            frozenset({M.PROPOSED}),
            M.LIVE,
            p.can_approve_model,
            pgettext_lazy("workflow", "批准评分卡上线"),
        ),
        Transition(
            "retire",
            frozenset({M.LIVE}),
            M.RETIRED,
            p.can_approve_model,
            pgettext_lazy("workflow", "停用评分卡"),
        ),
        Transition(
            "refuse",
            frozenset({M.PROPOSED}),
            M.REFUSED,
            p.can_refuse_model,
            pgettext_lazy("workflow", "拒绝评分卡"),
        ),
    ],
)

ALERT = StateMachine.declare(
    "risk.alert",
    "state",
    [
        Transition(
            "acknowledge",
            frozenset({A.OPEN}),
            A.ACKNOWLEDGED,
            p.can_handle_alert,
            pgettext_lazy("workflow", "签收预警"),
        ),
        Transition(
            "dispose",
            frozenset({A.OPEN, A.ACKNOWLEDGED}),
            A.DISPOSED,
            p.can_handle_alert,
            pgettext_lazy("workflow", "处置预警"),
        ),
    ],
)


# 抽贷断贷会商 (services.consultation):
#   requested ─accept→ accepted ─convene→ convened ─decide→ decided ─close→ closed
#   requested ─decline→ declined                 (the agency, with a reason)
#   requested ─withdraw→ withdrawn               (the requester, before acceptance)
# Positions, the meeting's minutes and follow-ups are records inside a state
# (audited), not states.
from .models import ConsultationState as C  # noqa: E402

CONSULTATION = StateMachine.declare(
    "risk.consultation",
    "state",
    [
        Transition(
            "withdraw",
            frozenset({C.REQUESTED}),
            C.WITHDRAWN,
            p.is_consultation_requester,
            pgettext_lazy("workflow", "撤回会商申请"),
        ),
        Transition(
            "accept",
            frozenset({C.REQUESTED}),
            C.ACCEPTED,
            p.is_supervising_agency,
            pgettext_lazy("workflow", "受理会商申请"),
        ),
        Transition(
            "decline",
            frozenset({C.REQUESTED}),
            C.DECLINED,
            p.is_supervising_agency,
            pgettext_lazy("workflow", "不予受理会商申请"),
        ),
        Transition(
            "convene",
            frozenset({C.ACCEPTED}),
            C.CONVENED,
            p.is_supervising_agency,
            pgettext_lazy("workflow", "召集会商"),
        ),
        Transition(
            "decide",
            frozenset({C.CONVENED}),
            C.DECIDED,
            p.is_supervising_agency,
            pgettext_lazy("workflow", "形成会商意见"),
        ),
        Transition(
            "close",
            frozenset({C.DECIDED}),
            C.CLOSED,
            p.is_supervising_agency,
            pgettext_lazy("workflow", "会商办结"),
        ),
    ],
)
