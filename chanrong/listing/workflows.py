"""The listing pipeline's state machine, declared once.

    孵化 incubation ─shareholding→ 股改 ─tutoring→ 辅导备案 ─filing→ 申报
      ─review→ 审核/注册 ─listed→ 上市   (主板, 创业板, 科创板, 北交所)
                         ─quoted→ 挂牌   (新三板, 区域性股权市场, 专精特新专板)
    any stage before the last ─withdraw→ 撤回/终止

Each transition is named after the stage it reaches, so "advance to X" is
the transition X; a stage can only be reached from the one before it.
Which final transition fits the board, and the dates, are checked by
services.stages under the same row lock. Government of the enterprise's
region takes every step; the enterprise may withdraw its own application
while it is at 孵化 (permissions.py).
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from chanrong.core.workflow import StateMachine, Transition

from . import permissions as p
from .models import PATH
from .models import Stage as S


def _advance(actor, pipeline) -> bool:
    return p.may_advance(actor, pipeline)


def _withdraw(actor, pipeline) -> bool:
    return p.may_withdraw(actor, pipeline)


PIPELINE = StateMachine.declare(
    "listing.pipeline",
    "stage",
    [
        Transition(
            S.SHAREHOLDING,
            frozenset({S.INCUBATION}),
            S.SHAREHOLDING,
            _advance,
            pgettext_lazy("workflow", "完成股改"),
        ),
        Transition(
            S.TUTORING,
            frozenset({S.SHAREHOLDING}),
            S.TUTORING,
            _advance,
            pgettext_lazy("workflow", "辅导备案"),
        ),
        Transition(
            S.FILING,
            frozenset({S.TUTORING}),
            S.FILING,
            _advance,
            pgettext_lazy("workflow", "申报受理"),
        ),
        Transition(
            S.REVIEW,
            frozenset({S.FILING}),
            S.REVIEW,
            _advance,
            pgettext_lazy("workflow", "审核/注册"),
        ),
        Transition(
            S.LISTED,
            frozenset({S.REVIEW}),
            S.LISTED,
            _advance,
            pgettext_lazy("workflow", "上市"),
        ),
        Transition(
            S.QUOTED,
            frozenset({S.REVIEW}),
            S.QUOTED,
            _advance,
            pgettext_lazy("workflow", "挂牌"),
        ),
        Transition(
            "withdraw",
            frozenset(PATH),
            S.WITHDRAWN,
            _withdraw,
            pgettext_lazy("workflow", "撤回/终止"),
        ),
    ],
)
