"""Financing, for banks: the confirmed receivables offered to the bank (the
supplier authorised it) with an unfinanced balance, the financing form
(pledge or factoring, backing, advance ratio, the 中登网 registration number,
the 回款账户 of a 政采 contract), and the bank's financings with 还款.
A conflict — another bank financed the balance first — is a message on the
form, never an error page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import services
from ..forms import FinancingForm, RepayForm
from ..models import Financing, FinancingState, Receivable
from ..services import pages
from .common import OK, attempt


def _bank(request) -> None:
    if not pages.is_bank_user(request.user):
        raise Http404


@login_required
@require_GET
def bank(request):
    _bank(request)
    user = request.user
    financings = list(
        Financing.objects.visible_to(user).select_related("receivable", "receivable__creditor")
    )
    for financing in financings:
        if financing.state != FinancingState.REPAID:
            financing.repay_form = RepayForm(auto_id=f"f{financing.pk}_%s")
    context = {
        "offered": pages.financeable(user).select_related("creditor")[:500],
        "financings": financings,
        "vouchers": pages.vouchers_offered(user).select_related("holder", "issuer")[:500],
    }
    return render(request, "supplychain/financing/bank.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def finance(request, pk: int):
    _bank(request)
    user = request.user
    receivable = get_object_or_404(
        Receivable.objects.visible_to(user).select_related("creditor"), pk=pk
    )
    form = FinancingForm(request.POST or None)
    status = OK
    if request.method == "POST":
        status = 422
        if form.is_valid():
            financing, status = attempt(
                request, lambda: services.finance(user, receivable, form.cleaned_data), form
            )
            if financing is not None:
                messages.success(
                    request,
                    _("已登记融资 %(a)s 元（合同 %(no)s）")
                    % {"a": f"{financing.amount:,.2f}", "no": financing.contract_no},
                )
                return redirect("supplychain:receivable", receivable.pk)
            receivable.refresh_from_db()
    context = {"r": receivable, "form": form}
    return render(request, "supplychain/financing/form.html", context, status=status)


@login_required
@require_POST
def repay(request, pk: int):
    user = request.user
    financing = get_object_or_404(Financing.objects.visible_to(user), pk=pk)
    form = RepayForm(request.POST)
    if form.is_valid():
        when = form.cleaned_data.get("repaid_on") or None
        done, _status = attempt(request, lambda: services.repay(user, financing, repaid_on=when))
        if done is not None:
            messages.success(request, _("已登记还款（合同 %(no)s）") % {"no": done.contract_no})
    if request.POST.get("next") == "receivable":
        return redirect("supplychain:receivable", financing.receivable_id)
    return redirect("supplychain:bank")
