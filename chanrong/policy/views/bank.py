"""待确认, for a bank: the applications on its loans waiting for it to
confirm the loan and the interest (or fee) actually paid in the period
(`services.bank_confirm`, which computes the amount again with the
confirmed figure), and the off-platform loans enterprises registered with it
(`services.confirm_loan`). Each application shows the calculator's lines as
they stand."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chanrong.core.errors import NotAllowed, ServiceError, ValidationFailed
from chanrong.core.paging import paginate
from chanrong.core.scope import ScopeKind, scope_of

from .. import services
from ..forms_apply import BankConfirmForm
from ..models import Application, ApplicationState, Loan, LoanSource


def _institution(request) -> int:
    scope = scope_of(request.user)
    if scope.kind != ScopeKind.INSTITUTION:
        raise Http404
    return scope.institution_id


def _pending(user, institution_id: int):
    return (
        Application.objects.visible_to(user)
        .filter(state=ApplicationState.BANK_PENDING, loan__institution_id=institution_id)
        .select_related("programme", "enterprise", "loan")
        .order_by("submitted_at", "pk")
    )


def _context(request, institution_id: int, failed: dict | None = None) -> dict:
    """Both queues page on their own parameter (`page`, `lpage`)."""
    user = request.user
    failed = failed or {}
    pager = paginate(request, _pending(user, institution_id))
    applications = list(pager["page_obj"].object_list)
    for application in applications:
        application.form = failed.get(application.pk) or BankConfirmForm(
            prefix=f"a{application.pk}",
            initial={"paid_cost": "" if application.paid_cost is None else application.paid_cost},
        )
        application.lines = (application.calculation or {}).get("lines") or []
        application.estimate = bool((application.calculation or {}).get("estimate"))
    loans = paginate(
        request,
        Loan.objects.visible_to(user)
        .filter(source=LoanSource.OFF_PLATFORM, confirmed_at__isnull=True)
        .select_related("enterprise", "guarantor")
        .order_by("created_at", "pk"),
        param="lpage",
    )
    return {
        "applications": applications,
        "pager": pager,
        "loans": loans["page_obj"].object_list,
        "loans_pager": loans,
    }


@login_required
@require_GET
def pending(request):
    institution_id = _institution(request)
    return render(request, "policy/apply/bank_pending.html", _context(request, institution_id))


@login_required
@require_POST
def confirm_application(request, pk: int):
    institution_id = _institution(request)
    user = request.user
    application = get_object_or_404(_pending(user, institution_id), pk=pk)
    form = BankConfirmForm(request.POST, prefix=f"a{application.pk}")
    if form.is_valid():
        try:
            services.bank_confirm(user, application, form.cleaned_data.get("paid_cost"))
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except NotAllowed:
            raise PermissionDenied from None
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("policy:bank_pending")
        else:
            messages.success(
                request,
                _("已确认 %(ent)s 的贷款信息和实付金额，申请进入初审")
                % {"ent": application.enterprise.name if application.enterprise_id else ""},
            )
            return redirect("policy:bank_pending")
    context = _context(request, institution_id, failed={application.pk: form})
    return render(request, "policy/apply/bank_pending.html", context, status=422)


@login_required
@require_POST
def confirm_loan(request, pk: int):
    _institution(request)
    user = request.user
    loan = get_object_or_404(
        Loan.objects.visible_to(user).filter(
            source=LoanSource.OFF_PLATFORM, confirmed_at__isnull=True
        ),
        pk=pk,
    )
    try:
        services.confirm_loan(user, loan)
    except NotAllowed:
        raise PermissionDenied from None
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已确认贷款 %(no)s") % {"no": loan.contract_no})
    return redirect("policy:bank_pending")
