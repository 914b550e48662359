"""The green library application's state machine, declared once.

An enterprise applies (submitted); the agency keeping the green list
approves it or rejects it with a reason. An approved application is drafted
into the list's next version and is in the library once that version is
published (the registry's list workflow). The enterprise may withdraw its
application while it is under review or in the library; the agency may
remove an approved one with a reason. Withdrawn and removed applications
stay (their reason and the version that took them out); a rejected one
stays too, and the enterprise applies again with a new application.

Who is who:
- applicant: a user of the applying enterprise;
- reviewer: a government user of the agency that keeps the list, or a
  platform admin (registry.workflows.is_drafter: the same people draft the
  list's versions).
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import StateMachine, Transition
from chanrong.registry.workflows import is_drafter

from .models import LibraryStatus


def is_applicant(actor, application) -> bool:
    scope = scope_of(actor)
    return scope.kind == ScopeKind.ENTERPRISE and scope.enterprise_id == application.enterprise_id


def is_reviewer(actor, application) -> bool:
    return is_drafter(actor, application.green_list)


S = LibraryStatus
LIBRARY_APPLICATION = StateMachine.declare(
    "green_library_application",
    "status",
    [
        Transition(
            "approve",
            frozenset({S.SUBMITTED}),
            S.APPROVED,
            is_reviewer,
            pgettext_lazy("workflow", "审核通过"),
        ),
        Transition(
            "reject",
            frozenset({S.SUBMITTED}),
            S.REJECTED,
            is_reviewer,
            pgettext_lazy("workflow", "审核不通过"),
        ),
        Transition(
            "withdraw",
            frozenset({S.SUBMITTED, S.APPROVED}),
            S.WITHDRAWN,
            is_applicant,
            pgettext_lazy("workflow", "撤回"),
        ),
        Transition(
            "remove",
            frozenset({S.APPROVED}),
            S.REMOVED,
            is_reviewer,
            pgettext_lazy("workflow", "移出绿色库"),
        ),
    ],
)
