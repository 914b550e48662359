"""Programme management for 财政 / 经信 agencies: the agency's programmes,
a draft's form (its parameter fields follow the kind), the yearly
appropriation, and publishing and closing.

Views translate between HTTP and `chanrong.policy.services`: the services
validate everything and name the field of each error, which
`forms.ProgrammeForms` shows beside the control; a refusal of the state
("请先安排年度预算") is a message on the page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed

from .. import permissions as perms
from .. import rules, services
from ..forms import PARAMS_FORMS, AppropriationForm, ProgrammeForms
from ..models import (
    APPLICATION_KINDS,
    POOL_KINDS,
    ApplicationState,
    Programme,
    ProgrammeKind,
    ProgrammeState,
)
from ..workflows import PROGRAMME
from .gov import PAGE_SIZE, flash, government_only, managed_programme, run

PENDING_STATES = (
    ApplicationState.SUBMITTED,
    ApplicationState.VERIFIED,
    ApplicationState.APPROVED,
)


def _optional_url(name: str, *args) -> str | None:
    """A page another part of the app provides, if it is installed yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


@login_required
@require_GET
def programme_list(request):
    government_only(request)
    user = request.user
    queryset = (
        Programme.objects.managed_by(user)
        .select_related("agency", "region")
        .annotate(
            pending=Count("applications", filter=Q(applications__state__in=PENDING_STATES)),
            in_notice=Count("applications", filter=Q(applications__state=ApplicationState.NOTICE)),
        )
        .order_by("state", "-starts_on", "name", "pk")
    )
    state = request.GET.get("state", "")
    if state in ProgrammeState.values:
        queryset = queryset.filter(state=state)
    kind = request.GET.get("kind", "")
    if kind in ProgrammeKind.values:
        queryset = queryset.filter(kind=kind)
    paginator = Paginator(queryset, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    querystring = "".join(f"{k}={v}&" for k, v in (("state", state), ("kind", kind)) if v)
    return render(
        request,
        "policy/gov/programme_list.html",
        {
            "page_obj": page_obj,
            "programmes": page_obj.object_list,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": querystring,
            "states": ProgrammeState.choices,
            "kinds": ProgrammeKind.choices,
            "selected_state": state,
            "selected_kind": kind,
            "can_create": perms.can_manage_programmes(user) and user.agency_id is not None,
            "tab": "programmes",
        },
    )


def _kind_from(request, default: str = ProgrammeKind.INTEREST) -> str:
    kind = request.POST.get("kind") or request.GET.get("kind") or default
    return kind if kind in PARAMS_FORMS else default


def _save(request, forms: ProgrammeForms, save, success: str):
    """Validate the form, call the service; None when the page must be shown again."""
    if not forms.is_valid():
        return None
    try:
        programme = save(forms.service_data())
    except ValidationFailed as exc:
        forms.add_service_errors(exc)
        return None
    except NotAllowed:
        raise PermissionDenied from None
    except Conflict as exc:
        flash(request, exc)
        return None
    messages.success(request, success)
    return redirect("policy:gov_programme", pk=programme.pk)


@login_required
@require_http_methods(["GET", "POST"])
def programme_create(request):
    government_only(request)
    user = request.user
    if not perms.can_manage_programmes(user) or user.agency_id is None:
        raise PermissionDenied
    kind = _kind_from(request)
    if request.method == "POST":
        add_item = "add_item" in request.POST
        switching = "switch_kind" in request.POST
        forms = ProgrammeForms(request.POST, kind=kind, add_item=add_item, user=user)
        if not (add_item or switching):
            response = _save(
                request,
                forms,
                lambda data: services.create_programme(user, data),
                _("政策已保存为草稿；安排年度预算后即可发布"),
            )
            if response is not None:
                return response
        elif switching:
            # Another kind: keep what was typed in the shared parts, fresh parameters.
            forms = ProgrammeForms(request.POST, kind=kind, user=user)
            forms.fresh_params()
    else:
        forms = ProgrammeForms(kind=kind, user=user)
    return _render_form(request, forms, None)


@login_required
@require_GET
def programme_params(request):
    """The parameter fields of one kind (htmx swaps them in when the kind changes)."""
    government_only(request)
    forms = ProgrammeForms(kind=_kind_from(request))
    return render(
        request,
        "policy/gov/_params.html",
        {"forms": forms, "form_action": _form_action(None, forms.kind)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def programme_edit(request, pk: int):
    government_only(request)
    user = request.user
    programme = managed_programme(user, pk)
    if not perms.can_manage_programme(user, programme):
        raise PermissionDenied
    if programme.state != ProgrammeState.DRAFT:
        messages.error(request, _("已发布的政策不能修改参数；如需调整请结束后另行发布"))
        return redirect("policy:gov_programme", pk=programme.pk)
    if request.method == "POST":
        add_item = "add_item" in request.POST
        forms = ProgrammeForms(
            request.POST, kind=programme.kind, programme=programme, add_item=add_item, user=user
        )
        if not add_item:
            response = _save(
                request,
                forms,
                lambda data: services.update_programme(user, programme, data),
                _("政策已保存"),
            )
            if response is not None:
                return response
    else:
        forms = ProgrammeForms(kind=programme.kind, programme=programme, user=user)
    return _render_form(request, forms, programme)


def _form_action(programme: Programme | None, kind: str) -> str:
    if programme is not None:
        return reverse("policy:gov_programme_edit", args=[programme.pk])
    return f"{reverse('policy:gov_programme_new')}?kind={kind}"


def _render_form(request, forms: ProgrammeForms, programme: Programme | None):
    return render(
        request,
        "policy/gov/programme_form.html",
        {
            "forms": forms,
            "programme": programme,
            "kinds": ProgrammeKind.choices,
            "kind": forms.kind,
            "kind_label": ProgrammeKind(forms.kind).label,
            "form_action": _form_action(programme, forms.kind),
        },
    )


def _conditions(programme: Programme) -> list[str]:
    try:
        return rules.describe(services.check(programme).conditions)
    except ValidationFailed:
        return []


def programme_context(request, programme: Programme, appropriation_form=None) -> dict:
    user = request.user
    params_form = PARAMS_FORMS[programme.kind]()
    budgets = list(programme.budget_years.order_by("year"))
    today = timezone.localdate()
    default_year = (
        today.year
        if programme.starts_on.year <= today.year <= programme.ends_on.year
        else programme.starts_on.year
    )
    manageable = perms.can_manage_programme(user, programme)
    counts = dict(programme.applications.values_list("state").annotate(n=Count("pk")).order_by())
    return {
        "programme": programme,
        "params_rows": params_form.describe(programme.params),
        "award_items": programme.params.get("items") or []
        if programme.kind == ProgrammeKind.AWARD
        else [],
        "conditions": _conditions(programme),
        "budgets": budgets,
        "actions": [t.name for t in PROGRAMME.available(programme, user)],
        "can_edit": manageable and programme.state == ProgrammeState.DRAFT,
        "can_budget": manageable
        and programme.kind in APPLICATION_KINDS
        and programme.state != ProgrammeState.CLOSED,
        "appropriation_form": appropriation_form or AppropriationForm(default_year=default_year),
        "is_pool": programme.kind in POOL_KINDS,
        "pool": getattr(programme, "pool", None) if programme.kind in POOL_KINDS else None,
        "pool_url": _optional_url("policy:pool", programme.pk)
        if programme.kind in POOL_KINDS
        else None,
        "state_counts": [
            (value, label, counts.get(value, 0))
            for value, label in ApplicationState.choices
            if counts.get(value)
        ],
        "public_url": _optional_url("policy:public_programme", programme.pk),
    }


@login_required
@require_GET
def programme_detail(request, pk: int):
    government_only(request)
    programme = managed_programme(request.user, pk)
    return render(
        request, "policy/gov/programme_detail.html", programme_context(request, programme)
    )


@login_required
@require_POST
def programme_budget(request, pk: int):
    """Set a year's appropriation (services.set_appropriation)."""
    government_only(request)
    user = request.user
    programme = managed_programme(user, pk)
    if not perms.can_manage_programme(user, programme):
        raise PermissionDenied
    form = AppropriationForm(request.POST)
    if form.is_valid():
        year, amount = form.cleaned_data["year"], form.cleaned_data["appropriation"]
        try:
            services.set_appropriation(user, programme, year, amount)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except NotAllowed:
            raise PermissionDenied from None
        except Conflict as exc:
            flash(request, exc)
            return redirect("policy:gov_programme", pk=programme.pk)
        else:
            messages.success(
                request,
                _("%(year)s 年度预算已设为 %(amount)s 元")
                % {"year": year, "amount": f"{amount:,.2f}"},
            )
            return redirect("policy:gov_programme", pk=programme.pk)
    context = programme_context(request, programme, appropriation_form=form)
    return render(request, "policy/gov/programme_detail.html", context)


PROGRAMME_ACTIONS = {
    "publish": (
        services.publish_programme,
        gettext_lazy("政策已发布，企业可以在政策发布页看到并申请"),
    ),
    "close": (services.close_programme, gettext_lazy("政策已结束，不再受理新的申请")),
}


@login_required
@require_POST
def programme_action(request, pk: int, action: str):
    government_only(request)
    if action not in PROGRAMME_ACTIONS:
        raise Http404
    programme = managed_programme(request.user, pk)
    call, success = PROGRAMME_ACTIONS[action]
    run(request, lambda: call(request.user, programme), str(success))
    return redirect("policy:gov_programme", pk=programme.pk)
