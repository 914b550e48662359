"""环境信息披露 pages: an institution's yearly forms, the form itself (edit,
submit), and the government's checklist of who has filed in its region (with
what is missing) and the return for revision. Rules are in
services.disclosure; these views translate its errors to the page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chanrong.core.errors import Conflict, NotAllowed, NotFound, ServiceError, ValidationFailed
from chanrong.core.paging import paginate
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.finance.models import Branch

from ..models.disclosure import FIGURES, MONEY_FIGURES, SECTIONS, Disclosure, DisclosureState
from ..services import disclosure as svc
from ..workflows_disclosure import can_return, can_submit, is_discloser


def _year(request) -> int:
    years = svc.year_range()
    try:
        year = int(request.GET.get("year") or 0)
    except ValueError:
        year = 0
    # Default: last year, the year a form is usually filed for.
    return year if year in years else max(years[0], timezone.localdate().year - 1)


@login_required
@require_GET
def disclosure_list(request):
    """An institution's own forms; for government and platform, the checklist."""
    scope = scope_of(request.user)
    if scope.kind in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        return redirect("green:disclosure_checklist")
    if scope.kind != ScopeKind.INSTITUTION:
        raise Http404
    forms = Disclosure.objects.visible_to(request.user).select_related("institution", "branch")
    pager = paginate(request, forms.order_by("-year", "branch_id", "pk"))
    branches = Branch.objects.filter(institution_id=scope.institution_id).order_by(
        "region_id", "name"
    )
    return render(
        request,
        "green/disclosure/list.html",
        {
            "disclosures": pager["page_obj"].object_list,
            "pager": pager,
            "years": list(reversed(svc.year_range())),
            "default_year": _year(request),
            "branches": branches,
        },
    )


@login_required
@require_POST
def disclosure_open(request):
    try:
        disclosure = svc.open_disclosure(
            request.user, request.POST.get("year"), request.POST.get("branch")
        )
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except ValidationFailed as exc:
        messages.error(request, "；".join(e.message for e in exc.errors))
        return redirect("green:disclosure_list")
    return redirect("green:disclosure", pk=disclosure.pk)


def _fields(disclosure: Disclosure, values=None, errors=None) -> tuple[list, list]:
    """(sections, figures) rows for the template: key, label, value, error."""
    errors = errors or {}
    text = disclosure.sections or {}
    sections = []
    for key, (title, hint) in SECTIONS.items():
        name = f"section_{key}"
        value = values.get(name, "") if values is not None else text.get(key, "")
        sections.append(
            {
                "key": key,
                "name": name,
                "title": title,
                "hint": hint,
                "value": value,
                "error": errors.get(f"sections.{key}", ""),
            }
        )
    figures = []
    for name, (label, unit, required) in FIGURES.items():
        value = values.get(name, "") if values is not None else getattr(disclosure, name)
        figures.append(
            {
                "name": name,
                "label": label,
                "unit": unit,
                "required": required,
                "money": name in MONEY_FIGURES,
                "value": "" if value is None else value,
                "error": errors.get(name, ""),
            }
        )
    return sections, figures


def _detail(request, disclosure: Disclosure, *, values=None, errors=None, status=200):
    user = request.user
    sections, figures = _fields(disclosure, values, errors)
    editable = disclosure.is_editable and is_discloser(user, disclosure)
    context = {
        "disclosure": disclosure,
        "sections": sections,
        "figures": figures,
        "editable": editable,
        "can_submit": editable and can_submit(user, disclosure),
        "can_return": disclosure.state == DisclosureState.SUBMITTED
        and can_return(user, disclosure),
        "missing": svc.missing_titles(disclosure.sections),
        "errors": errors or {},
    }
    return render(request, "green/disclosure/detail.html", context, status=status)


def _get(request, pk: int) -> Disclosure:
    try:
        return svc.disclosure_for(request.user, pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def disclosure_detail(request, pk: int):
    return _detail(request, _get(request, pk))


def _run(request, disclosure, call, done: str, values=None):
    try:
        call()
    except ValidationFailed as exc:
        errors = {e.field: e.message for e in exc.errors}
        messages.error(request, exc.message)
        return _detail(request, disclosure, values=values, errors=errors, status=422)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except (Conflict, ServiceError) as exc:
        messages.error(request, exc.message)
        return _detail(request, disclosure, status=exc.status)
    messages.success(request, done)
    return redirect("green:disclosure", pk=disclosure.pk)


def _posted(request) -> dict[str, str]:
    return {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}


@login_required
@require_POST
def disclosure_save(request, pk: int):
    disclosure = _get(request, pk)
    data = _posted(request)
    then_submit = data.pop("then", "") == "submit"

    def call():
        svc.save_disclosure(request.user, disclosure, data)
        if then_submit:
            svc.submit(request.user, disclosure)

    done = _("已提交环境信息披露") if then_submit else _("已保存")
    return _run(request, disclosure, call, done, values=data)


@login_required
@require_POST
def disclosure_return(request, pk: int):
    disclosure = _get(request, pk)
    data = _posted(request)
    return _run(
        request,
        disclosure,
        lambda: svc.return_for_revision(request.user, disclosure, data),
        _("已退回修改"),
    )


@login_required
@require_GET
def disclosure_checklist(request):
    """Who has filed for a year among the institutions present in the
    agency's region, and what each has not filled."""
    year = _year(request)
    try:
        rows = svc.checklist(request.user, year)
    except NotAllowed:
        raise Http404 from None
    state = request.GET.get("state", "")
    summary = svc.checklist_summary(rows)
    if state == "none":
        rows = rows.filter(d_state__isnull=True)
    elif state in DisclosureState.values:
        rows = rows.filter(d_state=state)
    pager = paginate(request, rows)
    page = list(pager["page_obj"].object_list)
    branch_rows = svc.branch_checklist(request.user, year, [row.pk for row in page])
    items = [
        {
            "institution": row,
            "id": row.d_id,
            "state": row.d_state,
            "state_label": DisclosureState(row.d_state).label if row.d_state else _("未填报"),
            "missing": svc.missing_titles(row.d_sections),
            "reason": row.d_reason,
            "visible": row.d_state in (DisclosureState.SUBMITTED, DisclosureState.RETURNED),
            "branches": branch_rows.get(row.pk, []),
        }
        for row in page
    ]
    return render(
        request,
        "green/disclosure/checklist.html",
        {
            "year": year,
            "years": list(reversed(svc.year_range())),
            "items": items,
            "pager": pager,
            "summary": summary,
            "branch_summary": svc.branch_summary(request.user, year),
            "state": state,
            "states": DisclosureState.choices,
            "section_count": len(SECTIONS),
        },
    )
