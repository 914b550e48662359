"""The registration's state machine, declared once, and who may move it.

    submitted ─approve→ approved    (the reviewer: see below)
    submitted ─reject→  rejected    (the reviewer, with a reason)
    submitted ─withdraw→ withdrawn  (the applicant, through the status link)

Reviewers: an enterprise's application is reviewed by the agency closest to
its region — the county's 经信/工信 agency (产融合作's lead department) when
the county has one, else any agency at the most specific level covering the
region (a city's, when the county has no agency on the platform); an
institution's by the platform admin.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import pgettext_lazy

from chanrong.core.workflow import StateMachine, Transition

from .models import AgencyFunction, GovernmentAgency
from .registration_models import Registration, RegistrationKind
from .registration_models import RegistrationStatus as S


@dataclass(frozen=True)
class Applicant:
    """The anonymous holder of a registration's status link (the view checked the token)."""

    registration_id: int
    is_authenticated: bool = False


def reviewing_agency_ids(region_code: str) -> set[int]:
    code = str(region_code)
    prefixes = {code[:2], code[:4], code}
    agencies = list(
        GovernmentAgency.objects.filter(region__prefix__in=prefixes).values_list(
            "pk", "function", "region__prefix"
        )
    )
    if not agencies:
        return set()
    deepest = max(len(prefix) for _pk, _function, prefix in agencies)
    closest = [(pk, function) for pk, function, prefix in agencies if len(prefix) == deepest]
    industry = {pk for pk, function in closest if function == AgencyFunction.INDUSTRY}
    return industry or {pk for pk, _function in closest}


def can_review(actor, registration: Registration) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if registration.kind == RegistrationKind.INSTITUTION:
        return actor.is_platform_admin
    return bool(
        actor.is_government_user
        and actor.agency_id
        and actor.agency_id in reviewing_agency_ids(registration.region_id)
    )


def is_applicant(actor, registration: Registration) -> bool:
    return isinstance(actor, Applicant) and actor.registration_id == registration.pk


REGISTRATION = StateMachine.declare(
    "accounts.registration",
    "status",
    [
        Transition(
            "approve",
            frozenset({S.SUBMITTED}),
            S.APPROVED,
            can_review,
            pgettext_lazy("workflow", "通过注册申请"),
        ),
        Transition(
            "reject",
            frozenset({S.SUBMITTED}),
            S.REJECTED,
            can_review,
            pgettext_lazy("workflow", "驳回注册申请"),
        ),
        Transition(
            "withdraw",
            frozenset({S.SUBMITTED}),
            S.WITHDRAWN,
            is_applicant,
            pgettext_lazy("workflow", "撤回注册申请"),
        ),
    ],
)
