"""The loan book's pages: 风险监测 (the book summed for whoever looks), the
loan list with filters, and one loan with its schedule, repayments and
history — and, for the lending bank, the forms to report on it.

Views hold no rules: they read through `visible_to`, call
`services.loanbook`, and show its field errors beside the form (422) or its
conflict as a message (409). A loan the user may not see is a 404 before any
service is called; a report by someone who is not the lender is a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from chanrong.core import kept
from chanrong.core.errors import Conflict, NotAllowed, ServiceError, ValidationFailed
from chanrong.core.paging import paginate

from . import permissions as perms
from .models import (
    GREEN_RIGHT_CHOICES,
    Classification,
    Collateral,
    Consultation,
    LoanAccount,
    LoanOrigin,
    LoanStatus,
)
from .services import (
    book_kept,
    collateral,
    loanbook,
    monitoring,
    pledges,
    repayments,
    scoring,
)
from .tasks import refresh_book_figures_now

#: Report forms on a loan's page: action → (service, success message).
ACTIONS = {
    "status": (loanbook.report_status, _("已报送逾期与五级分类")),
    "collateral": (collateral.report_collateral, _("已报送担保方式")),
    "green": (pledges.report_green, _("已报送绿色贷款类别")),
    "pledge": (pledges.add_pledge, _("已登记绿色权益质押")),
    "repayment": (repayments.record_repayment, _("已登记还款")),
    "recall": (loanbook.recall, _("已登记提前收回")),
    "renew": (loanbook.renew, _("已登记无还本续贷")),
    "write_off": (loanbook.write_off, _("已核销")),
}


def _loans(user):
    return LoanAccount.objects.visible_to(user).select_related(
        "enterprise", "institution", "enterprise__region"
    )


@login_required
@require_GET
def home(request):
    """风险监测: balance, 不良, overdue and concentration of what the user
    sees, and its alerts by month: kept per scope (services.book_kept,
    数据截至) or, with ?live=1 or nothing kept for the scope, computed now."""
    user = request.user
    if user.is_enterprise_user:
        return redirect("risk:loans")
    shown = book_kept.shown_to(user, live=request.GET.get("live") == "1")
    book = shown.figures.book
    context = {
        "summary": book.summary,
        "by_region": book.by_region,
        "by_industry": book.by_industry,
        "by_institution": book.by_institution,
        "concentration": book.concentration,
        "is_bank": user.is_institution_user,
        "alert_months": shown.figures.alert_months,
        "alert_chart": monitoring.alert_chart(shown.figures.alert_months),
        "live_alerts": shown.figures.live_alerts,
        "open_consultations": Consultation.objects.visible_to(user).open().count(),
        "shown": shown,
        "can_refresh": book_kept.may_request(user),
    }
    return render(request, "risk/home.html", context)


@login_required
@require_POST
def refresh_home(request):
    """A government user asks for 风险监测's kept figures to be computed
    again (once while a request is pending); back to the page."""
    if request.user.is_enterprise_user:
        raise Http404
    kept.refresh_button(request, book_kept.request_refresh, refresh_book_figures_now)
    return redirect("risk:home")


@login_required
@require_GET
def loan_list(request):
    queryset = _loans(request.user)
    filters = {
        key: request.GET.get(key, "").strip() for key in ("q", "status", "classification", "source")
    }
    if filters["q"]:
        queryset = queryset.filter(
            Q(enterprise__name__contains=filters["q"])
            | Q(enterprise__uscc=filters["q"].upper())
            | Q(contract_no=filters["q"])
        )
    if filters["status"] in LoanStatus.values:
        queryset = queryset.filter(status=filters["status"])
    if filters["classification"] == "npl":
        queryset = queryset.non_performing()
    elif filters["classification"] in Classification.values:
        queryset = queryset.filter(classification=filters["classification"])
    if filters["source"] in LoanOrigin.values:
        queryset = queryset.filter(source=filters["source"])
    pager = paginate(request, queryset.order_by("-disbursed_on", "-pk"))
    context = {
        "loans": pager["page_obj"].object_list,
        "pager": pager,
        "filters": filters,
        "statuses": LoanStatus.choices,
        "classifications": Classification.choices,
        "sources": LoanOrigin.choices,
    }
    return render(request, "risk/loan_list.html", context)


def _detail(request, loan: LoanAccount, *, errors=None, action: str = "", values=None, status=200):
    user = request.user
    lender = perms.is_lender(user, loan)
    context = {
        "loan": loan,
        "schedule": list(loan.schedule.all()),
        "repayments": list(loan.repayments.order_by("paid_on", "pk")),
        "events": list(loan.events.order_by("on", "pk")),
        "can_report": lender and loan.status == LoanStatus.ACTIVE,
        "can_write_off": perms.can_write_off(user, loan)
        and loan.status in (LoanStatus.ACTIVE, LoanStatus.RECALLED),
        "classifications": Classification.choices,
        "collaterals": Collateral.choices,
        "green_rights": GREEN_RIGHT_CHOICES,
        "green_pledges": list(loan.green_pledges.all()),
        "can_see_score": scoring.scorable_enterprises(user).filter(pk=loan.enterprise_id).exists(),
        "errors": errors or {},
        "action": action,
        "values": values or {},
    }
    return render(request, "risk/loan_detail.html", context, status=status)


@login_required
@require_GET
def loan_detail(request, pk: int):
    loan = get_object_or_404(_loans(request.user), pk=pk)
    return _detail(request, loan)


@login_required
@require_POST
def loan_action(request, pk: int, action: str):
    if action not in ACTIONS:
        raise Http404
    loan = get_object_or_404(_loans(request.user), pk=pk)
    service, done = ACTIONS[action]
    data = {
        key: value.strip() for key, value in request.POST.items() if key != "csrfmiddlewaretoken"
    }
    try:
        result = service(request.user, loan, data)
    except ValidationFailed as exc:
        errors = {error.field: error.message for error in exc.errors}
        if not errors:
            messages.error(request, exc.message)
        return _detail(request, loan, errors=errors, action=action, values=data, status=422)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except Conflict as exc:
        messages.error(request, exc.message)
        return _detail(request, loan, status=409)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _detail(request, loan, status=exc.status)
    messages.success(request, done)
    if action == "renew":
        return redirect("risk:loan", pk=result.pk)
    return redirect("risk:loan", pk=loan.pk)
