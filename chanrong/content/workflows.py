"""The public side's state machines, declared once.

Articles (融资知识):

    草稿 draft ─publish→ 已发布 published ─withdraw→ 草稿 draft

Consultations (留言咨询):

    待答复 submitted ─answer→ 已答复 answered ─publish→ 已公开 published
    待答复 submitted ─reassign→ 待答复 submitted   (another agency of the region)
    待答复 / 已答复 ─close→ 已关闭 closed
    已公开 published ─unpublish→ 已答复 answered

Who may take each step is in permissions.py: the addressee answers,
publishes, unpublishes and closes; government of the region (or the
platform) reassigns.
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from chanrong.core.workflow import StateMachine, Transition

from . import permissions as p
from .models import ArticleState as A
from .models import ConsultationState as C

ARTICLE = StateMachine.declare(
    "content.article",
    "state",
    [
        Transition(
            "publish",
            frozenset({A.DRAFT}),
            A.PUBLISHED,
            p.may_edit,
            pgettext_lazy("workflow", "发布"),
        ),
        Transition(
            "withdraw",
            frozenset({A.PUBLISHED}),
            A.DRAFT,
            p.may_edit,
            pgettext_lazy("workflow", "撤回"),
        ),
    ],
)

CONSULTATION = StateMachine.declare(
    "content.consultation",
    "state",
    [
        Transition(
            "answer",
            frozenset({C.SUBMITTED}),
            C.ANSWERED,
            p.is_addressee,
            pgettext_lazy("workflow", "答复"),
        ),
        Transition(
            "publish",
            frozenset({C.ANSWERED}),
            C.PUBLISHED,
            p.is_addressee,
            pgettext_lazy("workflow", "公开"),
        ),
        Transition(
            "unpublish",
            frozenset({C.PUBLISHED}),
            C.ANSWERED,
            p.is_addressee,
            pgettext_lazy("workflow", "取消公开"),
        ),
        Transition(
            "reassign",
            frozenset({C.SUBMITTED}),
            C.SUBMITTED,
            p.may_reassign,
            pgettext_lazy("workflow", "转办"),
        ),
        Transition(
            "close",
            frozenset({C.SUBMITTED, C.ANSWERED}),
            C.CLOSED,
            p.is_addressee,
            pgettext_lazy("workflow", "关闭"),
        ),
    ],
)
