"""The registry's state machines, declared once.

List versions (名单版本): the owning agency's staff draft a version and
submit it; the agency's government admin (or a platform admin) publishes
it with an effective date, or sends it back with a reason, after which the
drafters reopen it as a draft. A drafter may also withdraw a submitted
version to change it. Who is who:

- drafters: every government user of the agency that keeps the list, and
  platform admins;
- approvers: the gov_admin users of that same agency, and platform admins.
  An agency above (the province for a county's list) neither drafts nor
  approves: each list has exactly one accountable agency.

Facts' provenance (issue 15): a qualification or the enterprise's figures
declared by the enterprise is verified (or, a qualification, rejected with a
reason) by government whose subtree holds the enterprise, or a platform
admin. An enterprise's own later edit makes a verified fact declared again
(recorded in that edit's audit entry, services.qualifications / enterprises).

Operating data review: an implausible record is "flagged" when it is entered
(the flags are derived from the figures, see services.plausibility_flags);
a government reviewer whose subtree holds the enterprise (or a platform
admin) confirms it, or corrects the figures, which derives the status anew.
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import StateMachine, Transition

from .models import FactStatus, ReviewStatus, VersionStatus


def is_drafter(actor, lst) -> bool:
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return scope.kind == ScopeKind.GOVERNMENT and scope.agency_id == lst.agency_id


def is_approver(actor, lst) -> bool:
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return (
        scope.kind == ScopeKind.GOVERNMENT
        and scope.agency_id == lst.agency_id
        and actor.is_government_admin
    )


def _drafter(actor, version) -> bool:
    return is_drafter(actor, version.list)


def _approver(actor, version) -> bool:
    return is_approver(actor, version.list)


V = VersionStatus
LIST_VERSION = StateMachine.declare(
    "list_version",
    "status",
    [
        Transition(
            "submit",
            frozenset({V.DRAFT}),
            V.SUBMITTED,
            _drafter,
            pgettext_lazy("workflow", "提交审批"),
        ),
        Transition(
            "withdraw",
            frozenset({V.SUBMITTED}),
            V.DRAFT,
            _drafter,
            pgettext_lazy("workflow", "撤回"),
        ),
        Transition(
            "reject",
            frozenset({V.SUBMITTED}),
            V.REJECTED,
            _approver,
            pgettext_lazy("workflow", "退回"),
        ),
        Transition(
            "reopen",
            frozenset({V.REJECTED}),
            V.DRAFT,
            _drafter,
            pgettext_lazy("workflow", "重新编辑"),
        ),
        Transition(
            "publish",
            frozenset({V.SUBMITTED}),
            V.PUBLISHED,
            _approver,
            pgettext_lazy("workflow", "审批发布"),
        ),
    ],
)


def can_review_operating_data(actor, record) -> bool:
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return scope.kind == ScopeKind.GOVERNMENT and record.enterprise.region_id.startswith(
        scope.region_prefix
    )


def _reviewer(actor, record) -> bool:
    return can_review_operating_data(actor, record)


R = ReviewStatus
OPERATING_REVIEW = StateMachine.declare(
    "operating_record",
    "review_status",
    [
        Transition(
            "confirm",
            frozenset({R.FLAGGED}),
            R.CONFIRMED,
            _reviewer,
            pgettext_lazy("workflow", "核实无误"),
        )
    ],
)


def can_verify_facts(actor, obj) -> bool:
    """Government whose subtree holds the enterprise (of a qualification, or
    the enterprise itself), and platform admins."""
    enterprise = getattr(obj, "enterprise", obj)
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return scope.kind == ScopeKind.GOVERNMENT and str(enterprise.region_id).startswith(
        scope.region_prefix
    )


F = FactStatus
QUALIFICATION_REVIEW = StateMachine.declare(
    "qualification",
    "status",
    [
        Transition(
            "verify",
            frozenset({F.DECLARED, F.REJECTED}),
            F.VERIFIED,
            can_verify_facts,
            pgettext_lazy("workflow", "核验通过"),
        ),
        Transition(
            "reject",
            frozenset({F.DECLARED}),
            F.REJECTED,
            can_verify_facts,
            pgettext_lazy("workflow", "核验不通过"),
        ),
    ],
)
FIGURES_REVIEW = StateMachine.declare(
    "enterprise_figures",
    "figures_status",
    [
        Transition(
            "verify",
            frozenset({F.DECLARED}),
            F.VERIFIED,
            can_verify_facts,
            pgettext_lazy("workflow", "核验通过"),
        ),
    ],
)
