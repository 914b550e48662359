"""产业链: the list (with a form to start one for agencies and enterprises),
the detail (链主, members by tier and role, 一链一策 measures by date) and the
keeper's forms to add or remove members and append measures."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core import pickers
from chanrong.core.paging import paginate

from .. import services
from ..forms import AdminChainForm, ChainForm, MeasureForm, MemberForm
from ..models import Chain, ChainMeasure, ChainMember, MemberRole
from ..services import pages
from .common import OK, attempt


def _chains(user):
    return Chain.objects.visible_to(user).select_related("region", "lead", "agency", "industry")


@login_required
@require_http_methods(["GET", "POST"])
def chain_list(request):
    user = request.user
    may_create = pages.can_create_chain(user)
    form = None
    if may_create and user.is_platform_admin:
        # The platform admin creates a chain for an agency (picks it here).
        form = AdminChainForm(request.POST or None, agencies=pages.chain_agencies())
    elif may_create:
        form = ChainForm(request.POST or None)
        if not user.is_government_user:
            # An enterprise is its own chain's 链主: no 链主 to pick.
            del form.fields["lead"]
    if form is not None:
        pickers.bind(form, user)
    status = OK
    if request.method == "POST":
        if not may_create:
            raise PermissionDenied
        if form.is_valid():
            chain, status = attempt(
                request, lambda: services.create_chain(user, form.cleaned_data), form
            )
            if chain is not None:
                messages.success(request, _("已建立产业链「%(n)s」") % {"n": chain.name})
                return redirect("supplychain:chain", chain.pk)
        else:
            status = 422
    pager = paginate(request, _chains(user).order_by("region_id", "name", "pk"))
    chains = list(pager["page_obj"].object_list)
    counts = {}
    for row in ChainMember.objects.visible_to(user).filter(chain__in=chains).values("chain_id"):
        counts[row["chain_id"]] = counts.get(row["chain_id"], 0) + 1
    for chain in chains:
        chain.member_count = counts.get(chain.pk, 0)
    return render(
        request,
        "supplychain/chains/list.html",
        {"chains": chains, "form": form, "pager": pager},
        status=status,
    )


def _detail(request, chain, *, member_form=None, measure_form=None, status=OK):
    user = request.user
    keeper = pages.can_keep_chain(user, chain)
    members = list(
        ChainMember.objects.visible_to(user)
        .filter(chain=chain)
        .select_related("enterprise")
        .order_by("role", "tier", "enterprise__name")
    )
    groups = []
    for role in MemberRole:
        for tier in (1, 2, 3):
            rows = [m for m in members if m.role == role and m.tier == tier]
            if rows:
                groups.append({"role": role.label, "tier": tier, "members": rows})
    context = {
        "chain": chain,
        "keeper": keeper,
        "groups": groups,
        "member_count": len(members),
        "measures": ChainMeasure.objects.visible_to(user).filter(chain=chain),
        "member_form": member_form or (MemberForm() if keeper else None),
        "measure_form": measure_form or (MeasureForm() if keeper else None),
    }
    return render(request, "supplychain/chains/detail.html", context, status=status)


@login_required
@require_GET
def chain_detail(request, pk: int):
    return _detail(request, get_object_or_404(_chains(request.user), pk=pk))


@login_required
@require_POST
def member_add(request, pk: int):
    user = request.user
    chain = get_object_or_404(_chains(user), pk=pk)
    form = MemberForm(request.POST)
    status = 422
    if form.is_valid():
        member, status = attempt(
            request, lambda: services.add_member(user, chain, form.cleaned_data), form
        )
        if member is not None:
            messages.success(request, _("已将 %(e)s 列入本链") % {"e": member.enterprise.name})
            return redirect("supplychain:chain", chain.pk)
    return _detail(request, chain, member_form=form, status=status)


@login_required
@require_POST
def member_remove(request, pk: int):
    user = request.user
    member = get_object_or_404(
        ChainMember.objects.visible_to(user).select_related("chain", "enterprise"), pk=pk
    )
    name = member.enterprise.name
    _done, status = attempt(request, lambda: services.remove_member(user, member))
    if status == OK:
        messages.success(request, _("已将 %(e)s 移出本链") % {"e": name})
    return redirect("supplychain:chain", member.chain_id)


@login_required
@require_POST
def measure_add(request, pk: int):
    user = request.user
    chain = get_object_or_404(_chains(user), pk=pk)
    form = MeasureForm(request.POST)
    status = 422
    if form.is_valid():
        measure, status = attempt(
            request, lambda: services.add_measure(user, chain, form.cleaned_data), form
        )
        if measure is not None:
            messages.success(request, _("已发布一链一策措施"))
            return redirect("supplychain:chain", chain.pk)
    return _detail(request, chain, measure_form=form, status=status)
