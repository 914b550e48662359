"""Early warnings on pages: the board of live alerts (by severity, region and
industry) with acknowledge and dispose, and the rules a government admin
configures. What the user may not see is a 404; a rule or an alert the user
may see but not handle is a 403 from the services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.paging import paginate

from .models import Alert, AlertState, RuleKind, Severity, WarningRule
from .services import warnings


def _alerts(user):
    return Alert.objects.visible_to(user).select_related("enterprise", "enterprise__region", "rule")


def _rank(field: str, values: list[str]) -> Case:
    """Order by the choices' declared order, not alphabetically."""
    return Case(
        *(When(**{field: value}, then=i) for i, value in enumerate(values)),
        output_field=IntegerField(),
    )


@login_required
@require_GET
def alert_board(request):
    user = request.user
    if user.is_enterprise_user:
        raise Http404
    alerts = _alerts(user)
    state = request.GET.get("state", "live")
    severity = request.GET.get("severity", "")
    listed = alerts.live() if state == "live" else alerts
    if state in AlertState.values:
        listed = alerts.filter(state=state)
    if severity in Severity.values:
        listed = listed.filter(severity=severity)
    # Open first, then acknowledged, then disposed; red before orange before yellow.
    ranked = listed.annotate(
        state_rank=_rank("state", AlertState.values),
        severity_rank=_rank("severity", Severity.values),
    )
    pager = paginate(request, ranked.order_by("state_rank", "severity_rank", "-opened_on", "-pk"))
    context = {
        "board": warnings.board(alerts),
        "alerts": pager["page_obj"].object_list,
        "pager": pager,
        "state": state,
        "severity": severity,
        "states": AlertState.choices,
        "severities": Severity.choices,
    }
    return render(request, "risk/alerts.html", context)


@login_required
@require_POST
def alert_action(request, pk: int, action: str):
    alert = get_object_or_404(_alerts(request.user), pk=pk)
    try:
        if action == "acknowledge":
            warnings.acknowledge(request.user, alert)
            messages.success(request, _("已签收预警"))
        elif action == "dispose":
            warnings.dispose(request.user, alert, request.POST.get("disposal", ""))
            messages.success(request, _("已登记处置情况"))
        else:
            raise Http404
    except ValidationFailed as exc:
        messages.error(request, "；".join(e.message for e in exc.errors) or exc.message)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except Conflict as exc:
        messages.error(request, exc.message)
    return redirect("risk:alerts")


@login_required
@require_http_methods(["GET", "POST"])
def rules(request):
    user = request.user
    if not (user.is_government_user or user.is_platform_admin):
        raise Http404
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {key: request.POST.get(key, "").strip() for key in ("name", "kind", "severity")}
        kind = values["kind"]
        # Each kind's inputs are named p_<kind>_<param>: only the chosen kind's count.
        params = {
            name: request.POST.get(f"p_{kind}_{name}", "").strip()
            for name in warnings.PARAMS.get(kind, {})
        }
        values.update({f"p_{kind}_{name}": value for name, value in params.items()})
        try:
            warnings.create_rule(user, {**values, "params": {k: v for k, v in params.items() if v}})
        except ValidationFailed as exc:
            errors = {
                (f"p_{kind}_{e.field[7:]}" if e.field.startswith("params.") else e.field): e.message
                for e in exc.errors
            }
            status = 422
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from None
        else:
            messages.success(request, _("已新增预警规则"))
            return redirect("risk:rules")
    pager = paginate(
        request,
        WarningRule.objects.visible_to(user)
        .select_related("agency")
        .order_by("region_prefix", "severity", "name", "pk"),
    )
    context = {
        "rules": pager["page_obj"].object_list,
        "pager": pager,
        "kinds": RuleKind.choices,
        "severities": Severity.choices,
        "param_rows": [
            (
                kind,
                label,
                [
                    (f"p_{kind}_{name}", spec[0], spec[3])
                    for name, spec in warnings.PARAMS[kind].items()
                ],
            )
            for kind, label in RuleKind.choices
        ],
        "can_manage": warnings.can_manage_rules(user) and user.is_government_user,
        "errors": errors,
        "values": values,
    }
    return render(request, "risk/rules.html", context, status=status)


@login_required
@require_POST
def rule_toggle(request, pk: int):
    rule = get_object_or_404(WarningRule.objects.visible_to(request.user), pk=pk)
    try:
        warnings.set_enabled(request.user, rule, not rule.enabled)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    return redirect("risk:rules")
