"""The fund's life, declared once.

    fund:  raising ─start_investing→ investing ─start_exit→ exiting
           raising | investing | exiting ─close→ closed   (清算, with its date)

Investments are records of a fund (recorded, exited), not states: see
services.investments. Every transition goes through
core.workflow.apply_transition (actor checked, audited, notified).
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from chanrong.core.workflow import StateMachine, Transition

from . import permissions as p
from .models import FundStatus as S

FUND = StateMachine.declare(
    "funds.fund",
    "status",
    [
        Transition(
            "start_investing",
            frozenset({S.RAISING}),
            S.INVESTING,
            p.can_keep,
            pgettext_lazy("workflow", "进入投资期"),
        ),
        Transition(
            "start_exit",
            frozenset({S.INVESTING}),
            S.EXITING,
            p.can_keep,
            pgettext_lazy("workflow", "进入退出期"),
        ),
        Transition(
            "close",
            frozenset({S.RAISING, S.INVESTING, S.EXITING}),
            S.CLOSED,
            p.can_keep,
            pgettext_lazy("workflow", "基金清算"),
        ),
    ],
)
