"""The pilot programme's state machines, each declared once.

State only ever moves through `chanrong.core.workflow.apply_transition` with
one of these tables (it checks the table and the actor, audits and
notifies). Conditions that are not about the actor — deadlines, quotas,
completeness — are checked by services.py in the same transaction.

    batch:                draft ─open→ open ─publish→ published
    application:          draft ─submit→ submitted ─withdraw→ draft
    provincial review:    pending ─recommend→ recommended ─forward→ forwarded
                          pending ─decline→ not_recommended
                          recommended | not_recommended ─reopen→ pending
    provincial submission: open ─confirm→ confirmed
    ministry review:      scoring ─approve→ approved | ─reject→ rejected
                          approved | rejected ─reconsider→ scoring
    progress report:      draft ─submit→ submitted ─return→ draft
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from chanrong.core.workflow import StateMachine, Transition

from . import permissions as p
from .models import (
    ApplicationState,
    BatchState,
    MinistryState,
    ReportState,
    ReviewState,
    SubmissionState,
)


def _ministry_admin(actor, obj) -> bool:
    return p.is_ministry_admin(actor)


def _applicant(actor, application) -> bool:
    return p.is_applicant_admin(actor, application.region_id)


def _unit_lead(actor, review) -> bool:
    return p.is_unit_lead(actor, review.review_region_id)


def _unit_admin(actor, obj) -> bool:
    return p.is_unit_admin(actor, obj.review_region_id)


def _report_author(actor, report) -> bool:
    return p.is_applicant_admin(actor, report.application.region_id)


BATCH = StateMachine.declare(
    "pilots.batch",
    "state",
    [
        Transition(
            "open",
            frozenset({BatchState.DRAFT}),
            BatchState.OPEN,
            _ministry_admin,
            pgettext_lazy("workflow", "发布通知"),
        ),
        Transition(
            "publish",
            frozenset({BatchState.OPEN}),
            BatchState.PUBLISHED,
            _ministry_admin,
            pgettext_lazy("workflow", "公布试点城市名单"),
        ),
    ],
)

APPLICATION = StateMachine.declare(
    "pilots.application",
    "state",
    [
        Transition(
            "submit",
            frozenset({ApplicationState.DRAFT}),
            ApplicationState.SUBMITTED,
            _applicant,
            pgettext_lazy("workflow", "提交申报"),
        ),
        Transition(
            "withdraw",
            frozenset({ApplicationState.SUBMITTED}),
            ApplicationState.DRAFT,
            _applicant,
            pgettext_lazy("workflow", "撤回申报"),
        ),
    ],
)

PROVINCIAL_REVIEW = StateMachine.declare(
    "pilots.provincial_review",
    "state",
    [
        Transition(
            "recommend",
            frozenset({ReviewState.PENDING}),
            ReviewState.RECOMMENDED,
            _unit_lead,
            pgettext_lazy("workflow", "确认推荐"),
        ),
        Transition(
            "decline",
            frozenset({ReviewState.PENDING}),
            ReviewState.NOT_RECOMMENDED,
            _unit_lead,
            pgettext_lazy("workflow", "不予推荐"),
        ),
        Transition(
            "reopen",
            frozenset({ReviewState.RECOMMENDED, ReviewState.NOT_RECOMMENDED}),
            ReviewState.PENDING,
            _unit_lead,
            pgettext_lazy("workflow", "撤销审核决定"),
        ),
        Transition(
            "forward",
            frozenset({ReviewState.RECOMMENDED}),
            ReviewState.FORWARDED,
            _unit_admin,
            pgettext_lazy("workflow", "报送部级评审"),
        ),
    ],
)

PROVINCIAL_SUBMISSION = StateMachine.declare(
    "pilots.provincial_submission",
    "state",
    [
        Transition(
            "confirm",
            frozenset({SubmissionState.OPEN}),
            SubmissionState.CONFIRMED,
            _unit_admin,
            pgettext_lazy("workflow", "确认上报推荐名单"),
        ),
    ],
)

MINISTRY_REVIEW = StateMachine.declare(
    "pilots.ministry_review",
    "state",
    [
        Transition(
            "approve",
            frozenset({MinistryState.SCORING}),
            MinistryState.APPROVED,
            _ministry_admin,
            pgettext_lazy("workflow", "确定为试点"),
        ),
        Transition(
            "reject",
            frozenset({MinistryState.SCORING}),
            MinistryState.REJECTED,
            _ministry_admin,
            pgettext_lazy("workflow", "不予入选"),
        ),
        Transition(
            "reconsider",
            frozenset({MinistryState.APPROVED, MinistryState.REJECTED}),
            MinistryState.SCORING,
            _ministry_admin,
            pgettext_lazy("workflow", "重新评审"),
        ),
    ],
)

PROGRESS_REPORT = StateMachine.declare(
    "pilots.progress_report",
    "state",
    [
        Transition(
            "submit",
            frozenset({ReportState.DRAFT}),
            ReportState.SUBMITTED,
            _report_author,
            pgettext_lazy("workflow", "报送进展报告"),
        ),
        Transition(
            "return",
            frozenset({ReportState.SUBMITTED}),
            ReportState.DRAFT,
            _ministry_admin,
            pgettext_lazy("workflow", "退回修改"),
        ),
    ],
)
