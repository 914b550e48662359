"""The home page's to-do workbench (待办): what each role has to do next.

Every item is a COUNT over the same `visible_to(user)` queryset and filter
as the list its link opens (demands and dispatches through
`demands.todo`, the others through the filters their list pages take), so
the number shown is the number of rows the user finds there. A handful of
COUNT queries per role; no per-row work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import ScopeKind, scope_of
from chanrong.demands import todo as demand_todo


@dataclass(frozen=True)
class Todo:
    key: str
    label: Any
    count: int
    url: str


def _url(name: str, query: dict[str, str] | None = None) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(query)}" if query else url


def _demand_items(user, keys: list[str], now) -> list[Todo]:
    counts = demand_todo.demand_counts(user, keys, now)
    return [
        Todo(
            f"demands_{key}",
            demand_todo.DEMAND_TODOS[key],
            counts[key],
            _url("demands:list", {"todo": key}),
        )
        for key in keys
    ]


def _dispatch_items(user, keys: list[str], now) -> list[Todo]:
    counts = demand_todo.dispatch_counts(user, keys, now)
    return [
        Todo(
            f"dispatches_{key}",
            demand_todo.DISPATCH_TODOS[key],
            counts[key],
            _url("demands:workbench", {"todo": key}),
        )
        for key in keys
    ]


def _enterprise(user, now) -> list[Todo]:
    from chanrong.policy.models import Application, ApplicationState
    from chanrong.risk.models.consultation import Consultation

    items = _demand_items(user, ["decide", "expiring", "expired"], now)
    items.append(
        Todo(
            "policy_confirm",
            _("政策申请待确认（免申即享）"),
            Application.objects.visible_to(user).filter(state=ApplicationState.PROPOSED).count(),
            _url("policy:mine"),
        )
    )
    items.append(
        Todo(
            "consultations",
            _("进行中的抽贷断贷会商"),
            Consultation.objects.visible_to(user).open().count(),
            _url("risk:consultations", {"state": "open"}),
        )
    )
    return items


def _institution(user, scope, now) -> list[Todo]:
    from chanrong.policy.models import Application, ApplicationState
    from chanrong.risk.models.warnings import Alert, AlertState

    items = _dispatch_items(user, ["claim_today", "claim_overdue", "offered", "report"], now)
    items.append(
        Todo(
            "policy_bank",
            _("政策申请待银行确认"),
            Application.objects.visible_to(user)
            .filter(state=ApplicationState.BANK_PENDING, loan__institution_id=scope.institution_id)
            .count(),
            _url("policy:bank_pending"),
        )
    )
    items.append(
        Todo(
            "alerts",
            _("待处理的风险预警"),
            Alert.objects.visible_to(user).filter(state=AlertState.OPEN).count(),
            _url("risk:alerts", {"state": AlertState.OPEN}),
        )
    )
    return items


def _government(user, now) -> list[Todo]:
    from chanrong.pilots import permissions as pilot_perms
    from chanrong.pilots.models import Application as PilotApplication
    from chanrong.pilots.models import ReviewState
    from chanrong.policy.models import Application
    from chanrong.policy.views.review import TODO_STATES
    from chanrong.registry.models import Enterprise, OperatingRecord, Qualification
    from chanrong.registry.models.lists import ListVersion, VersionStatus
    from chanrong.registry.models.operating import ReviewStatus
    from chanrong.risk.models.consultation import Consultation, ConsultationState
    from chanrong.risk.models.warnings import Alert, AlertState

    today = timezone.localdate(now)
    declared = (
        Qualification.objects.visible_to(user).declared().active_on(today).count()
        + Enterprise.objects.visible_to(user).figures_to_review().count()
    )
    items = [
        Todo(
            "operating_review",
            _("经营数据待核实"),
            OperatingRecord.objects.visible_to(user)
            .filter(review_status=ReviewStatus.FLAGGED)
            .count(),
            _url("registry:operating_queue"),
        ),
        Todo(
            "provenance_review",
            _("资质与经营数据待核验"),
            declared,
            _url("registry:provenance_review"),
        ),
        Todo(
            "list_versions",
            _("名单版本待审批"),
            ListVersion.objects.visible_to(user).filter(status=VersionStatus.SUBMITTED).count(),
            _url("lists:index"),
        ),
        Todo(
            "policy_review",
            _("政策申请待审核"),
            Application.objects.visible_to(user).filter(state__in=TODO_STATES).count(),
            _url("policy:gov_applications", {"state": "todo"}),
        ),
    ]
    unit = pilot_perms.review_unit_of(user)
    if unit is not None and pilot_perms.is_unit_counterpart(user, unit.code):
        items.append(
            Todo(
                "pilot_review",
                _("试点申报待省级审核"),
                PilotApplication.objects.visible_to(user)
                .filter(provincial_review__state=ReviewState.PENDING)
                .count(),
                _url("pilots:province"),
            )
        )
    items.append(
        Todo(
            "alerts",
            _("待处理的风险预警"),
            Alert.objects.visible_to(user).filter(state=AlertState.OPEN).count(),
            _url("risk:alerts", {"state": AlertState.OPEN}),
        )
    )
    items.append(
        Todo(
            "consultations",
            _("抽贷断贷会商待受理"),
            Consultation.objects.visible_to(user).filter(state=ConsultationState.REQUESTED).count(),
            _url("risk:consultations", {"state": ConsultationState.REQUESTED}),
        )
    )
    items.extend(_demand_items(user, ["unclaimed"], now))
    return items


def todos_for(user, now=None) -> list[Todo]:
    """The user's to-do items, in the order the home page lists them."""
    now = now or timezone.now()
    scope = scope_of(user)
    if scope.kind == ScopeKind.ENTERPRISE:
        return _enterprise(user, now)
    if scope.kind == ScopeKind.INSTITUTION:
        return _institution(user, scope, now)
    if scope.kind == ScopeKind.GOVERNMENT:
        return _government(user, now)
    return []
