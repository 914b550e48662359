"""The enterprise's application, step by step:

1. the programme (from 政策发布 or 我的政策);
2. the loan: one of its disbursed platform demands (the facts are copied
   from the disbursement by `services.loan_from_demand`, nothing retyped),
   a loan registered before, or a new off-platform loan
   (`services.register_loan`, which its bank must confirm);
3. the period (or the award item) and the interest or fee actually paid,
   with a live preview: htmx posts the form to `apply_preview` on every
   change, which runs `claim_preview.preview` (the calculator's lines, the
   conditions missed, an application already on the loan) and writes nothing;
4. submit (`services.apply`), then the materials page: attachments (checked
   by `chanrong.core.uploads`), and 确认申请 for a 免申即享 application.

No rule here: views pick the objects through `visible_to` and hand input to
the services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from chanrong.core.errors import Conflict, NotAllowed, NotFound, ServiceError, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of

from .. import services
from ..forms_apply import AttachmentForm, ClaimForm, LoanForm
from ..models import (
    APPLICATION_KINDS,
    Application,
    ApplicationState,
    Loan,
    LoanSource,
    Programme,
    ProgrammeKind,
)
from ..services import attachments as attach
from ..services import claim_preview, public_pages


def _enterprise(request):
    if scope_of(request.user).kind != ScopeKind.ENTERPRISE:
        raise Http404
    return request.user.enterprise


def _open_programme(user, pk: int) -> Programme:
    """A programme in force that takes applications."""
    return get_object_or_404(
        Programme.objects.visible_to(user)
        .in_force(timezone.localdate())
        .filter(kind__in=APPLICATION_KINDS)
        .select_related("agency", "region"),
        pk=pk,
    )


def _own_loan(user, raw) -> Loan | None:
    """The loan named by `raw` if the user may see it (an enterprise: its own)."""
    try:
        pk = int(str(raw or "").strip())
    except ValueError:
        return None
    return (
        Loan.objects.visible_to(user)
        .select_related("institution", "guarantor", "project")
        .filter(pk=pk)
        .first()
    )


def _claim_url(programme: Programme, loan: Loan | None) -> str:
    url = reverse("policy:apply_claim", args=[programme.pk])
    return f"{url}?loan={loan.pk}" if loan is not None else url


# --- step 2: the loan -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def choose_loan(request, pk: int):
    enterprise = _enterprise(request)
    user = request.user
    programme = _open_programme(user, pk)
    loan_form = LoanForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "demand":
            demand = (
                services.eligible_platform_loans(enterprise.pk)
                .filter(pk=_int(request.POST.get("demand")))
                .first()
            )
            if demand is None:
                raise Http404
            try:
                loan = services.loan_from_demand(demand, user)
            except Conflict as exc:
                messages.error(request, exc.message)
            else:
                return redirect(_claim_url(programme, loan))
        elif action == "loan":
            loan = _own_loan(user, request.POST.get("loan"))
            if loan is None:
                raise Http404
            return redirect(_claim_url(programme, loan))
        elif action == "register":
            loan_form = LoanForm(request.POST)
            if loan_form.is_valid():
                try:
                    loan = services.register_loan(user, loan_form.cleaned_data)
                except ValidationFailed as exc:
                    loan_form.add_service_errors(exc)
                except Conflict as exc:
                    loan_form.add_error("contract_no", exc.message)
                    status = 409
                except NotAllowed:
                    raise PermissionDenied from None
                else:
                    messages.success(request, _("贷款已登记，贷款银行确认后计算结果才作为申请依据"))
                    return redirect(_claim_url(programme, loan))
        else:
            raise Http404
    demands = list(
        services.eligible_platform_loans(enterprise.pk).select_related("outcome_institution")
    )
    used = dict(
        Loan.objects.filter(demand__in=[d.pk for d in demands]).values_list("demand_id", "pk")
    )
    for demand in demands:
        demand.loan_id = used.get(demand.pk)
    registered = list(
        Loan.objects.visible_to(user)
        .filter(source=LoanSource.OFF_PLATFORM)
        .select_related("institution", "guarantor")
    )
    return render(
        request,
        "policy/apply/choose_loan.html",
        {
            "programme": programme,
            "overview": public_pages.overview(programme, timezone.localdate()),
            "eligibility": services.evaluate(programme, enterprise),
            "demands": demands,
            "registered": registered,
            "loan_form": loan_form,
            "is_award": programme.kind == ProgrammeKind.AWARD,
        },
        status=status,
    )


def _int(raw) -> int:
    try:
        return int(str(raw or "").strip())
    except ValueError:
        return 0


# --- step 3: the claim, its preview and the submission ----------------------------------------


def _claim_form(programme: Programme, data=None, initial=None) -> ClaimForm:
    overview = public_pages.overview(programme, timezone.localdate())
    return ClaimForm(data, initial=initial, kind=programme.kind, award_items=overview.award_items)


def _claim_context(programme, loan, form, **extra) -> dict:
    preview = extra.get("preview")
    errors = []
    if preview is not None:
        for error in preview.errors:
            field = form.fields.get(error.field)
            label = field.label if field is not None and field.label else ""
            errors.append((label, error.message))
    return {
        "programme": programme,
        "loan": loan,
        "form": form,
        "overview": public_pages.overview(programme, timezone.localdate()),
        "is_award": programme.kind == ProgrammeKind.AWARD,
        "preview_errors": errors,
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def claim(request, pk: int):
    _enterprise(request)
    user = request.user
    programme = _open_programme(user, pk)
    raw_loan = request.POST.get("loan") if request.method == "POST" else request.GET.get("loan")
    loan = _own_loan(user, raw_loan)
    if raw_loan and loan is None:
        raise Http404
    if loan is None and programme.kind != ProgrammeKind.AWARD:
        return redirect("policy:apply_loan", pk=programme.pk)
    if request.method == "GET":
        form = _claim_form(programme, initial={"loan": loan.pk if loan else ""})
        return render(request, "policy/apply/claim.html", _claim_context(programme, loan, form))
    form = _claim_form(programme, request.POST)
    form.is_valid()
    reasons: list[str] = []
    status = 200
    conflict = ""
    try:
        application = services.apply(user, programme, form.data_for_service(), loan=loan)
    except ValidationFailed as exc:
        reasons = [e.message for e in exc.errors if e.field == "eligibility"]
        others = [e for e in exc.errors if e.field != "eligibility"]
        if others:
            form.add_service_errors(ValidationFailed(others, message=exc.message))
        elif not reasons:
            form.add_error(None, exc.message)
        status = 422
    except Conflict as exc:
        conflict = exc.message
        status = 409
    except NotAllowed:
        raise PermissionDenied from None
    else:
        if application.state == ApplicationState.BANK_PENDING:
            messages.success(request, _("申请已提交，已请贷款银行确认贷款信息和实付金额"))
        else:
            messages.success(request, _("申请已提交，等待主管部门初审"))
        return redirect("policy:application_materials", pk=application.pk)
    preview = _safe_preview(user, programme, form, loan)
    context = _claim_context(
        programme, loan, form, reasons=reasons, conflict=conflict, preview=preview
    )
    return render(request, "policy/apply/claim.html", context, status=status)


def _safe_preview(user, programme, form: ClaimForm, loan):
    try:
        return claim_preview.preview(user, programme, form.data_for_service(), loan=loan)
    except ServiceError:
        return None


@login_required
@require_POST
def preview(request, pk: int):
    """The calculation for what the form says now; writes nothing. htmx gets
    the fragment, a browser without JavaScript the whole page."""
    _enterprise(request)
    user = request.user
    programme = _open_programme(user, pk)
    loan = _own_loan(user, request.POST.get("loan"))
    if request.POST.get("loan") and loan is None:
        raise Http404
    form = _claim_form(programme, request.POST)
    form.is_valid()
    try:
        result = claim_preview.preview(user, programme, form.data_for_service(), loan=loan)
    except NotAllowed:
        raise PermissionDenied from None
    context = _claim_context(programme, loan, form, preview=result)
    if request.headers.get("HX-Request"):
        return render(request, "policy/apply/_preview.html", context)
    return render(request, "policy/apply/claim.html", context)


# --- step 4: materials, 确认申请 ----------------------------------------------------------------


def _visible_application(user, pk: int) -> Application:
    return get_object_or_404(
        Application.objects.visible_to(user).select_related(
            "programme", "enterprise", "institution", "loan__institution"
        ),
        pk=pk,
    )


@login_required
@require_http_methods(["GET", "POST"])
def materials(request, pk: int):
    user = request.user
    application = _visible_application(user, pk)
    form = AttachmentForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                attach.add_attachment(
                    user, application, form.cleaned_data["slot"], request.FILES.get("file")
                )
            except ValidationFailed as exc:
                for error in exc.errors:
                    form.add_error(
                        error.field if error.field in form.fields else None, error.message
                    )
                status = 422
            except NotAllowed:
                raise PermissionDenied from None
            except Conflict as exc:
                messages.error(request, exc.message)
                return redirect("policy:application_materials", pk=application.pk)
            else:
                messages.success(request, _("材料已上传"))
                return redirect("policy:application_materials", pk=application.pk)
        else:
            status = 422
    return render(
        request,
        "policy/apply/materials.html",
        _materials_context(user, application, form),
        status=status,
    )


def _materials_context(user, application: Application, form) -> dict:
    rows = list(application.attachments.all())
    for row in rows:
        row.slot_label = attach.slot_label(row.slot)
    calculation = application.calculation or {}
    award_label = ""
    if application.award_item:
        items = dict(public_pages.overview(application.programme, timezone.localdate()).award_items)
        award_label = items.get(application.award_item, application.award_item)
    return {
        "application": application,
        "award_label": award_label,
        "attachments": rows,
        "form": form,
        "can_change": attach.can_change(user, application),
        "can_confirm": application.state == ApplicationState.PROPOSED
        and scope_of(user).kind == ScopeKind.ENTERPRISE
        and application.enterprise_id == user.enterprise_id,
        "lines": calculation.get("lines") or [],
        "estimate": bool(calculation.get("estimate")),
        "max_upload_mb": attach.uploads.max_upload_bytes() // (1024 * 1024),
    }


@login_required
@require_POST
def attachment_delete(request, pk: int):
    try:
        attachment = attach.visible_attachment(request.user, pk)
    except NotFound:
        raise Http404 from None
    application_pk = attachment.application_id
    try:
        attach.remove_attachment(request.user, attachment)
    except NotAllowed:
        raise PermissionDenied from None
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("材料已删除"))
    return redirect("policy:application_materials", pk=application_pk)


@login_required
@require_POST
def confirm(request, pk: int):
    """免申即享: the enterprise confirms the application the platform built."""
    application = _visible_application(request.user, pk)
    try:
        services.confirm(request.user, application)
    except NotAllowed:
        raise PermissionDenied from None
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已确认申请"))
    target = request.POST.get("next")
    if target == "mine":
        return redirect("policy:mine")
    return redirect("policy:application_materials", pk=application.pk)
