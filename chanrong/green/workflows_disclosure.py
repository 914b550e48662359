"""The disclosure's state machine, declared once (JR/T 0227-2021 yearly form).

    draft ─submit→ submitted ─return→ returned ─submit→ submitted

- submit: a manager of the disclosing institution (the disclosure is the
  institution's statement; its staff fill the form, its management signs it
  off, as the standard puts the responsibility on the board and senior
  management);
- return (退回修改, with a reason): government staff or admin of an agency in
  whose region subtree the institution is present (based or with a branch);
  for a branch's own form, in whose subtree the branch is.

Edits are not transitions: the institution's staff and manager may edit in
draft and returned (services.disclosure.save_disclosure, audited).
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from chanrong.accounts.models import Role
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import StateMachine, Transition

from .models.disclosure import DisclosureState as S


def is_discloser(actor, disclosure) -> bool:
    """Staff or manager of the disclosing institution (a branch's own form
    included: the institution's users file for its branches)."""
    scope = scope_of(actor)
    return scope.kind == ScopeKind.INSTITUTION and scope.institution_id == disclosure.institution_id


def can_submit(actor, disclosure) -> bool:
    return is_discloser(actor, disclosure) and actor.role == Role.INSTITUTION_MANAGER


def can_return(actor, disclosure) -> bool:
    """An agency of a region the institution is present in; for a branch's
    form, of a region the branch is in."""
    from chanrong.finance.models import FinancialInstitution

    scope = scope_of(actor)
    if scope.kind != ScopeKind.GOVERNMENT:
        return False
    if disclosure.branch_id:
        return disclosure.branch.region_id.startswith(scope.region_prefix or "")
    return (
        FinancialInstitution.objects.present_in(scope.region_prefix)
        .filter(pk=disclosure.institution_id)
        .exists()
    )


DISCLOSURE = StateMachine.declare(
    "green.disclosure",
    "state",
    [
        Transition(
            "submit",
            frozenset({S.DRAFT, S.RETURNED}),
            S.SUBMITTED,
            can_submit,
            pgettext_lazy("workflow", "提交环境信息披露"),
        ),
        Transition(
            "return",
            frozenset({S.SUBMITTED}),
            S.RETURNED,
            can_return,
            pgettext_lazy("workflow", "退回修改"),
        ),
    ],
)
