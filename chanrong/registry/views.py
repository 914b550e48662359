"""Enterprise pages. Views only translate between HTTP and the services:
visibility comes from `visible_to`, rules from `services`, and anything the
user may not see is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from chanrong.core.errors import NotAllowed, NotFound, ValidationFailed

from . import services
from .filtersets import EnterpriseFilterForm, size_label
from .forms import EnterpriseForm, RegionForm
from .models import Enterprise

PAGE_SIZE = 20


def _visible_or_404(user, pk: int) -> Enterprise:
    try:
        return services.get_visible_enterprise(user, pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def enterprise_list(request):
    form = EnterpriseFilterForm(request.GET or None, user=request.user)
    queryset = form.filter(
        Enterprise.objects.visible_to(request.user).select_related("region", "industry")
    )
    paginator = Paginator(queryset.order_by("name", "pk"), PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "registry/enterprise_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "enterprises": page_obj.object_list,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": form.querystring(),
            "can_create": services.can_create_enterprise(request.user),
            "is_institution": request.user.is_institution_user,
        },
    )


@login_required
@require_GET
def enterprise_detail(request, pk: int):
    enterprise = _visible_or_404(request.user, pk)
    enterprise = Enterprise.objects.select_related(
        "region__parent__parent", "industry__parent"
    ).get(pk=enterprise.pk)
    return render(
        request,
        "registry/enterprise_detail.html",
        {
            "enterprise": enterprise,
            "size_label": size_label(enterprise.size),
            "can_edit": services.can_edit_enterprise(request.user, enterprise),
        },
    )


def _refreshing(request) -> bool:
    """The no-script "update the region lists" button re-renders without saving."""
    return "_refresh" in request.POST


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_create(request):
    if not services.can_create_enterprise(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = EnterpriseForm(request.POST, user=request.user)
        if not _refreshing(request) and form.is_valid():
            try:
                enterprise = services.create_enterprise(request.user, form.service_data())
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except NotAllowed:
                raise PermissionDenied from None
            else:
                messages.success(request, _("企业已登记：%(name)s") % {"name": enterprise.name})
                return redirect("registry:detail", pk=enterprise.pk)
    else:
        form = EnterpriseForm(user=request.user)
    return render(request, "registry/enterprise_form.html", {"form": form, "enterprise": None})


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_edit(request, pk: int):
    enterprise = _visible_or_404(request.user, pk)
    if not services.can_edit_enterprise(request.user, enterprise):
        raise PermissionDenied
    if request.method == "POST":
        form = EnterpriseForm(request.POST, user=request.user, enterprise=enterprise)
        if not _refreshing(request) and form.is_valid():
            try:
                enterprise = services.update_enterprise(
                    request.user, enterprise, form.service_data()
                )
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except NotAllowed:
                raise PermissionDenied from None
            else:
                messages.success(request, _("企业信息已保存"))
                return redirect("registry:detail", pk=enterprise.pk)
    else:
        form = EnterpriseForm(user=request.user, enterprise=enterprise)
    return render(
        request, "registry/enterprise_form.html", {"form": form, "enterprise": enterprise}
    )


@login_required
@require_GET
def region_fields(request):
    """The 省/市/区县 selects for the values in the query (htmx swaps them in)."""
    mode = "form" if request.GET.get("mode") == "form" else "filter"
    form = RegionForm(request.GET, user=request.user, mode=mode)
    return render(request, "registry/partials/region_fields.html", {"form": form, "mode": mode})
