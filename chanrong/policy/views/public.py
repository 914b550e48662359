"""The public side, no login: 政策发布 (programmes in force and recently
ended, each with its parameters, conditions and remaining budget in plain
Chinese) and the 公示 list with its objection form.

Nothing private is on these pages: the 公示 shows who, which programme, how
much and until when — never the loan, its contract number, its rate or the
calculation. Views translate HTTP to `policy.services` and back; what is
listed comes from `Programme.objects.visible_to` and
`Application.objects.in_notice`.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from chanrong.core.context import client_ip
from chanrong.core.errors import Conflict, ValidationFailed
from chanrong.core.models import Region
from chanrong.core.scope import ScopeKind, scope_of

from .. import services
from ..forms_apply import ObjectionForm, ProgrammeFilterForm
from ..models import APPLICATION_KINDS, Application, Programme
from ..services import public_pages

PAGE_SIZE = 30


@require_GET
def programme_list(request):
    user = request.user
    today = timezone.localdate()
    form = ProgrammeFilterForm(request.GET or None, regions=public_pages.region_choices(user))
    chosen = form.values()
    region = Region.objects.filter(pk=chosen["region"]).first() if chosen["region"] else None
    in_force = public_pages.programmes_in_force(user, today, kind=chosen["kind"], region=region)
    closed = public_pages.recently_closed(user, today, kind=chosen["kind"], region=region)
    paginator = Paginator(in_force, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "policy/public/programme_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "programmes": list(page_obj.object_list),
            "closed": list(closed[:20]),
            "querystring_base": (query.urlencode() + "&") if query else "",
            "is_enterprise": scope_of(user).kind == ScopeKind.ENTERPRISE,
        },
    )


@require_GET
def programme_detail(request, pk: int):
    user = request.user
    programme = get_object_or_404(
        Programme.objects.visible_to(user).select_related("agency", "region"), pk=pk
    )
    today = timezone.localdate()
    overview = public_pages.overview(programme, today)
    is_enterprise = scope_of(user).kind == ScopeKind.ENTERPRISE
    eligibility = None
    if is_enterprise and not overview.broken:
        eligibility = services.evaluate(programme, user.enterprise, today=today)
    in_force = Programme.objects.filter(pk=programme.pk).in_force(today).exists()
    return render(
        request,
        "policy/public/programme_detail.html",
        {
            "programme": programme,
            "overview": overview,
            "eligibility": eligibility,
            "is_enterprise": is_enterprise,
            "in_force": in_force,
            "can_apply": is_enterprise and in_force and programme.kind in APPLICATION_KINDS,
        },
    )


@require_GET
def notice_list(request):
    notices = (
        Application.objects.in_notice()
        .select_related("programme__region", "enterprise", "institution")
        .order_by("notice_ends_on", "programme__name", "pk")
    )
    paginator = Paginator(notices, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "policy/public/notice_list.html",
        {
            "page_obj": page_obj,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "notices": list(page_obj.object_list),
            "querystring_base": "",
        },
    )


def _notice(pk: int) -> Application:
    return get_object_or_404(
        Application.objects.in_notice().select_related("programme", "enterprise", "institution"),
        pk=pk,
    )


@require_http_methods(["GET", "POST"])
def objection(request, pk: int):
    """Anyone may object to an application while it is in 公示."""
    try:
        application = _notice(pk)
    except Http404:
        if request.method == "POST":
            messages.error(request, _("该申请已不在公示期，不能再提出异议"))
            return redirect("policy:notices")
        raise
    form = ObjectionForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            public_pages.note_objection_attempt(client_ip(request))
            services.raise_objection(
                application, {k: form.cleaned_data.get(k) for k in ("name", "contact", "text")}
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc)
            status = exc.status if isinstance(exc, public_pages.Throttled) else 200
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("policy:notices")
        else:
            messages.success(request, _("异议已提交，审核部门将依法核实处理"))
            return redirect("policy:notices")
    return render(
        request,
        "policy/public/objection.html",
        {"application": application, "form": form},
        status=status,
    )
