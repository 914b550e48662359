"""The demand lifecycle and the dispatch lifecycle, declared once.

Demand: 草稿 → 已发布 → 已派单 → 已接单 → 对接中 → 已授信 → 已放款, or 未获批,
企业撤回, and 超时 → 重新派单. Dispatch (one per demand and institution):
待接单 → 已接单 → 已提交方案 → 方案已被采纳 → 已授信 → 已放款 / 未获批, or
已谢绝, 已超时 (→ 重新派单), 已取消, 方案未被采纳.

Who may take each transition is the `allowed` predicate beside it. The
predicates marked "internal" are consequences of another, checked transition
(another institution's exclusive claim cancels this dispatch; the
enterprise's acceptance of one offer sets the others aside; the deadline
sweep expires what is overdue): services take them, never a request directly.
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import StateMachine, Transition

from .models import DemandState as D
from .models import Dispatch
from .models import DispatchState as P


def is_system(actor) -> bool:
    """Scheduled jobs act as None; platform admins may act for the system."""
    return actor is None or scope_of(actor).kind == ScopeKind.PLATFORM


def is_owner(actor, demand) -> bool:
    scope = scope_of(actor)
    return scope.kind == ScopeKind.ENTERPRISE and scope.enterprise_id == demand.enterprise_id


def is_supervisor(actor, demand) -> bool:
    """Government of the enterprise's region (督导), or the platform."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return scope.kind == ScopeKind.GOVERNMENT and demand.enterprise.region_id.startswith(
        scope.region_prefix
    )


def _institution_id(actor) -> int | None:
    scope = scope_of(actor)
    return scope.institution_id if scope.kind == ScopeKind.INSTITUTION else None


def has_dispatch(actor, demand) -> bool:
    institution = _institution_id(actor)
    return (
        institution is not None
        and Dispatch.objects.filter(demand_id=demand.pk, institution_id=institution).exists()
    )


def holds_accepted_offer(actor, demand) -> bool:
    institution = _institution_id(actor)
    return institution is not None and demand.outcome_institution_id == institution


def owner_or_system(actor, demand) -> bool:
    return is_system(actor) or is_owner(actor, demand)


def dispatcher(actor, demand) -> bool:
    return is_system(actor) or is_owner(actor, demand) or is_supervisor(actor, demand)


def system_only(actor, obj) -> bool:
    return is_system(actor)


def internal(actor, obj) -> bool:
    return True


DEMAND = StateMachine.declare(
    "demand",
    "state",
    [
        Transition(
            "publish",
            frozenset({D.DRAFT}),
            D.PUBLISHED,
            is_owner,
            pgettext_lazy("workflow", "发布"),
        ),
        Transition(
            "dispatch",
            frozenset({D.PUBLISHED}),
            D.DISPATCHED,
            dispatcher,
            pgettext_lazy("workflow", "派单"),
        ),
        Transition(
            "redispatch",
            frozenset({D.EXPIRED, D.PUBLISHED}),
            D.DISPATCHED,
            dispatcher,
            pgettext_lazy("workflow", "重新派单"),
        ),
        Transition(
            "claim",
            frozenset({D.DISPATCHED}),
            D.CLAIMED,
            has_dispatch,
            pgettext_lazy("workflow", "接单"),
        ),
        Transition(
            "offer",
            frozenset({D.CLAIMED}),
            D.NEGOTIATING,
            has_dispatch,
            pgettext_lazy("workflow", "提交融资方案"),
        ),
        Transition(
            "accept",
            frozenset({D.NEGOTIATING}),
            D.NEGOTIATING,
            is_owner,
            pgettext_lazy("workflow", "采纳融资方案"),
        ),
        Transition(
            "grant",
            frozenset({D.NEGOTIATING}),
            D.GRANTED,
            holds_accepted_offer,
            pgettext_lazy("workflow", "授信"),
        ),
        Transition(
            "disburse",
            frozenset({D.GRANTED}),
            D.DISBURSED,
            holds_accepted_offer,
            pgettext_lazy("workflow", "放款"),
        ),
        Transition(
            "reject",
            frozenset({D.NEGOTIATING, D.GRANTED}),
            D.REJECTED,
            holds_accepted_offer,
            pgettext_lazy("workflow", "未获批"),
        ),
        Transition(
            "withdraw",
            frozenset(
                {
                    D.DRAFT,
                    D.PUBLISHED,
                    D.DISPATCHED,
                    D.CLAIMED,
                    D.NEGOTIATING,
                    D.GRANTED,
                    D.EXPIRED,
                }
            ),
            D.WITHDRAWN,
            is_owner,
            pgettext_lazy("workflow", "撤回"),
        ),
        Transition(
            "expire",
            frozenset({D.DISPATCHED, D.CLAIMED, D.NEGOTIATING}),
            D.EXPIRED,
            internal,
            pgettext_lazy("workflow", "超时"),
        ),
    ],
)


def owns_dispatch(actor, dispatch) -> bool:
    institution = _institution_id(actor)
    return institution is not None and institution == dispatch.institution_id


def demand_owner(actor, dispatch) -> bool:
    return is_owner(actor, dispatch.demand)


DISPATCH = StateMachine.declare(
    "dispatch",
    "state",
    [
        Transition(
            "claim",
            frozenset({P.DISPATCHED}),
            P.CLAIMED,
            owns_dispatch,
            pgettext_lazy("workflow", "接单"),
        ),
        Transition(
            "decline",
            frozenset({P.DISPATCHED, P.CLAIMED}),
            P.DECLINED,
            owns_dispatch,
            pgettext_lazy("workflow", "谢绝"),
        ),
        Transition(
            "offer",
            frozenset({P.CLAIMED}),
            P.OFFERED,
            owns_dispatch,
            pgettext_lazy("workflow", "提交融资方案"),
        ),
        Transition(
            "revise",
            frozenset({P.OFFERED}),
            P.OFFERED,
            owns_dispatch,
            pgettext_lazy("workflow", "修改融资方案"),
        ),
        Transition(
            "accept",
            frozenset({P.OFFERED}),
            P.ACCEPTED,
            demand_owner,
            pgettext_lazy("workflow", "采纳融资方案"),
        ),
        Transition(
            "set_aside",
            frozenset({P.OFFERED}),
            P.NOT_SELECTED,
            internal,
            pgettext_lazy("workflow", "未采纳"),
        ),
        Transition(
            "cancel",
            frozenset({P.DISPATCHED, P.CLAIMED, P.OFFERED, P.ACCEPTED, P.GRANTED}),
            P.CANCELLED,
            internal,
            pgettext_lazy("workflow", "取消"),
        ),
        Transition(
            "expire",
            frozenset({P.DISPATCHED, P.CLAIMED}),
            P.EXPIRED,
            internal,
            pgettext_lazy("workflow", "超时"),
        ),
        Transition(
            "redispatch",
            frozenset({P.EXPIRED, P.CANCELLED}),
            P.DISPATCHED,
            internal,
            pgettext_lazy("workflow", "重新派单"),
        ),
        Transition(
            "grant",
            frozenset({P.ACCEPTED}),
            P.GRANTED,
            owns_dispatch,
            pgettext_lazy("workflow", "授信"),
        ),
        Transition(
            "disburse",
            frozenset({P.GRANTED}),
            P.DISBURSED,
            owns_dispatch,
            pgettext_lazy("workflow", "放款"),
        ),
        Transition(
            "reject",
            frozenset({P.ACCEPTED, P.GRANTED}),
            P.REJECTED,
            owns_dispatch,
            pgettext_lazy("workflow", "未获批"),
        ),
    ],
)
