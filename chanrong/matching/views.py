"""Matching pages: the government's policy-weights page. (The demand page
and the institution workbench include the matching partials; their views
call `matching.access`.) Views only translate between HTTP and the
services: who may see what is in `access` / `policy`, not here."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from chanrong.core import pickers
from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.core.models import Region
from chanrong.core.scope import ScopeKind, scope_of

from . import access, policy
from .forms import PolicyWeightsForm, RegionLookupForm
from .models import POLICY_KEYS, PolicyWeights


def _region_prefix_or_404(user) -> str:
    """Government users (their subtree) and platform admins (everything)."""
    scope = scope_of(user)
    if scope.kind == ScopeKind.PLATFORM:
        return ""
    if scope.kind == ScopeKind.GOVERNMENT:
        return scope.region_prefix
    raise Http404


def _page_url(region: Region | None) -> str:
    url = reverse("matching:policy")
    return f"{url}?{urlencode({'region': region.code})}" if region else url


@login_required
@require_http_methods(["GET", "POST"])
def policy_weights(request):
    """政策权重: the weights in force for a region of the user's subtree (and
    where they come from); set or clear the region's own weights."""
    user = request.user
    prefix = _region_prefix_or_404(user)
    params = request.POST if request.method == "POST" else request.GET
    region: Region | None = None
    # The picker sends each chip's key and its search box: any non-blank value.
    picked = any(value.strip() for value in params.getlist("region"))
    lookup = pickers.bind(RegionLookupForm(params if picked else None), user)
    if picked:
        if lookup.is_valid():
            region = (
                Region.objects.filter(pk=lookup.cleaned_data["region"], code__startswith=prefix)
                .select_related("parent__parent")
                .first()
            )
            if region is None:
                lookup.add_error("region", _("地区不存在或不在辖区内"))
    elif getattr(user, "agency_id", None) and user.agency.region_id:
        region = (
            Region.objects.filter(pk=user.agency.region_id).select_related("parent__parent").first()
        )
        lookup = pickers.bind(RegionLookupForm(initial={"region": user.agency.region_id}), user)

    form = None
    own = None
    in_force = None
    can_edit = False
    if region is not None:
        own = PolicyWeights.objects.filter(region=region).select_related("set_by").first()
        weights, source = policy.weights_for_region(region.code)
        in_force = access.weights_in_force(weights, source)
        can_edit = policy.can_set_weights(user, region)
        if request.method == "POST":
            try:
                if request.POST.get("action") == "clear":
                    if policy.clear_weights(user, region):
                        messages.success(request, _("已清除本地区的政策权重，改用上级地区的设置。"))
                    return redirect(_page_url(region))
                form = PolicyWeightsForm(request.POST)
                if form.is_valid():
                    policy.set_weights(user, region, form.cleaned_data)
                    messages.success(request, _("政策权重已保存。"))
                    return redirect(_page_url(region))
            except NotAllowed as exc:
                raise PermissionDenied(exc.message) from None
            except ValidationFailed as exc:
                for error in exc.errors:
                    field = error.field if error.field in POLICY_KEYS else None
                    form.add_error(field, error.message)
        else:
            form = PolicyWeightsForm(
                initial=policy.complete_weights(own.weights) if own else in_force.weights
            )
    elif request.method == "POST":
        raise Http404

    rows = (
        PolicyWeights.objects.filter(region__code__startswith=prefix)
        .select_related("region__parent__parent", "set_by")
        .order_by("region_id")
    )
    labels = policy.policy_labels()
    return render(
        request,
        "matching/policy.html",
        {
            "region": region,
            "lookup": lookup,
            "in_force": in_force,
            "own": own,
            "own_weights": policy.complete_weights(own.weights) if own else None,
            "can_edit": can_edit,
            "form": form,
            "labels": labels,
            "rows": [
                {
                    "row": row,
                    "values": [policy.complete_weights(row.weights)[key] for key in labels],
                }
                for row in rows
            ],
        },
    )


@login_required
@require_http_methods(["POST"])
def outreach_invite(request, enterprise_id: int):
    """邀请发布需求 from a row of the workbench's outreach list; back to the workbench."""
    from chanrong.core.errors import Conflict, NotFound

    from . import invite

    try:
        invite.invite_to_publish(request.user, enterprise_id)
    except NotAllowed:
        raise PermissionDenied from None
    except NotFound:
        raise Http404 from None
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已邀请该企业发布融资需求"))
    back = request.POST.get("next", "")
    if not (back.startswith("/") and not back.startswith("//")):
        back = reverse("demands:workbench")
    return redirect(back)
