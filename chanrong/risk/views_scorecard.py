"""The scorecard on pages: its versions with their test-period metrics, one
version's points table (and, for a government admin, the approval), and an
enterprise's score with its top reasons.

Versions and points tables are for government, institutions and platform
admins (`ModelVersion.visible_to`); an enterprise's score for whoever
`scoring.scorable_enterprises` lets see that enterprise. Anything else is a
404. Approval is the service's decision: a non-admin gets 403, a version
below the AUC floor is refused with the reason (422), a version no longer
proposed is a 409.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chanrong.core.errors import Conflict, NotAllowed
from chanrong.core.paging import paginate

from . import permissions as perms
from .models import EnterpriseScore, ModelStatus, ModelVersion
from .services import scoring


def _versions(user):
    return ModelVersion.objects.visible_to(user).select_related("approved_by")


def version_rows(versions) -> list[dict]:
    """The list's figures of each version, read from its stored metrics."""
    rows = []
    for v in versions:
        m = v.metrics or {}
        rows.append(
            {
                "version": v,
                "train": m.get("train") or {},
                "test": m.get("test") or {},
                "psi": m.get("psi_test_vs_train"),
                "population_psi": (m.get("population_psi") or {}).get("value"),
                "baseline": m.get("baseline_tax_grade") or {},
            }
        )
    return rows


@login_required
@require_GET
def model_list(request):
    if not scoring.can_see_models(request.user):
        raise Http404
    pager = paginate(request, _versions(request.user).order_by("-number", "-pk"))
    context = {
        "rows": version_rows(pager["page_obj"].object_list),
        "pager": pager,
        "floor": scoring.auc_floor(),
    }
    return render(request, "risk/scorecard_list.html", context)


def _detail(request, version: ModelVersion, *, errors=None, status: int = 200):
    user = request.user
    context = {
        "row": version_rows([version])[0],
        "version": version,
        "table": scoring.points_table(version),
        "floor": scoring.auc_floor(),
        "floor_failure": scoring.floor_failure(version)
        if version.status == ModelStatus.PROPOSED
        else "",
        "can_approve": version.status == ModelStatus.PROPOSED
        and perms.can_approve_model(user, version),
        "errors": errors or {},
        "split": (version.metrics or {}).get("split") or {},
    }
    return render(request, "risk/scorecard_detail.html", context, status=status)


@login_required
@require_GET
def model_detail(request, pk: int):
    version = get_object_or_404(_versions(request.user), pk=pk)
    return _detail(request, version)


@login_required
@require_POST
def model_approve(request, pk: int):
    """批准上线: the admin ticks the confirmation; the service checks the
    actor and the AUC floor again."""
    version = get_object_or_404(_versions(request.user), pk=pk)
    if not perms.can_approve_model(request.user, version):
        raise PermissionDenied
    if request.POST.get("confirm") != "1":
        errors = {"confirm": _("请勾选确认后再批准上线")}
        return _detail(request, version, errors=errors, status=422)
    try:
        scoring.approve(request.user, version)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except Conflict as exc:
        version.refresh_from_db()
        if exc.code == "auc_below_floor" or version.status == ModelStatus.REFUSED:
            reason = version.refusal_reason or exc.message
            messages.error(request, _("未能批准：%(reason)s") % {"reason": reason})
            return _detail(request, version, status=422)
        messages.error(request, exc.message)
        return _detail(request, version, status=409)
    messages.success(request, _("评分卡 v%(n)s 已批准上线") % {"n": version.number})
    return redirect("risk:model", pk=version.pk)


@login_required
@require_GET
def enterprise_score(request, pk: int):
    """风险评分: the latest score under the live version, with the points the
    enterprise lost against the best bin of each feature, and the history."""
    enterprise = get_object_or_404(
        scoring.scorable_enterprises(request.user).select_related("region", "industry"), pk=pk
    )
    current = scoring.score_of(enterprise)
    history = list(
        EnterpriseScore.objects.visible_to(request.user)
        .filter(enterprise=enterprise)
        .select_related("version")
        .order_by("-as_of", "-pk")[:12]
    )
    context = {
        "enterprise": enterprise,
        "score": current,
        "band": scoring.band_of(current.probability) if current else None,
        "history": history,
        "can_see_models": scoring.can_see_models(request.user),
    }
    return render(request, "risk/scorecard_score.html", context)
