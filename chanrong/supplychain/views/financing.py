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

from chanrong.core.paging import paginate

from .. import services
from ..forms import FinancingForm, RepayForm
from ..models import (
    DiscountApplication,
    DiscountApplicationState,
    Financing,
    FinancingState,
    Receivable,
)
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
    chain = request.GET.get("chain", "")
    financing_pager = paginate(
        request,
        pages.on_chain(
            Financing.objects.visible_to(user).select_related("receivable", "receivable__creditor"),
            user,
            chain,
            "receivable__creditor_id",
        ).order_by("-financed_on", "-pk"),
        param="fpage",
    )
    financings = list(financing_pager["page_obj"].object_list)
    for financing in financings:
        if financing.state != FinancingState.REPAID:
            financing.repay_form = RepayForm(auto_id=f"f{financing.pk}_%s")
    offered = paginate(
        request,
        pages.on_chain(pages.financeable(user), user, chain, "creditor_id")
        .select_related("creditor")
        .order_by("due_on", "pk"),
    )
    vouchers = paginate(
        request,
        pages.on_chain(pages.vouchers_offered(user), user, chain, "holder_id")
        .select_related("holder", "issuer")
        .order_by("due_on", "pk"),
        param="vpage",
    )
    context = {
        "offered": offered["page_obj"].object_list,
        "offered_pager": offered,
        "financings": financings,
        "financings_pager": financing_pager,
        "vouchers": vouchers["page_obj"].object_list,
        "vouchers_pager": vouchers,
        "chains": pages.chain_choices(user),
        "chain": chain,
        "pending_applications": DiscountApplication.objects.visible_to(user)
        .filter(state=DiscountApplicationState.PENDING)
        .count(),
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
