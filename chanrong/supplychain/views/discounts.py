"""贴现申请: the holder applies, from the voucher page, to discount (part of)
a held node at a bank it authorised; both sides follow their applications on
one list (the bank's pending ones first) and one detail page, where the bank
accepts (rate and contract number → the discount is recorded) or declines
with a reason, and the holder may withdraw a pending one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chanrong.core.paging import paginate

from .. import services
from ..forms import DeclineForm, DiscountAcceptForm, DiscountApplyForm
from ..models import DiscountApplication, DiscountApplicationState
from ..permissions import is_applicant, is_chosen_bank
from .common import OK, attempt


def _visible(user):
    return DiscountApplication.objects.visible_to(user).select_related(
        "voucher", "voucher__issuer", "holder", "bank", "discounted"
    )


@login_required
@require_POST
def apply(request, pk: int):
    """From the voucher page (vouchers.views renders the form)."""
    from .vouchers import _page
    from .vouchers import _visible as visible_vouchers

    user = request.user
    node = get_object_or_404(visible_vouchers(user), pk=pk)
    form = DiscountApplyForm(request.POST, banks=services.authorised_banks(node.holder_id))
    status = 422
    if form.is_valid():
        application, status = attempt(
            request, lambda: services.apply_for_discount(user, node, form.cleaned_data), form
        )
        if application is not None:
            messages.success(
                request,
                _("已向 %(b)s 申请贴现 %(a)s 元，等待银行受理")
                % {"b": application.bank.name, "a": f"{application.amount:,.2f}"},
            )
            return redirect("supplychain:discount_application", application.pk)
    node.refresh_from_db()
    return _page(request, node, status=status, apply_form=form)


@login_required
@require_GET
def application_list(request):
    user = request.user
    state = request.GET.get("state", "")
    applications = _visible(user)
    if state in DiscountApplicationState.values:
        applications = applications.filter(state=state)
    pager = paginate(request, applications.order_by("-created_at", "-pk"))
    return render(
        request,
        "supplychain/discounts/list.html",
        {
            "pager": pager,
            "applications": pager["page_obj"].object_list,
            "states": DiscountApplicationState.choices,
            "state": state,
        },
    )


def _detail(request, application, *, status=OK, accept_form=None, decline_form=None):
    user = request.user
    pending = application.state == DiscountApplicationState.PENDING
    bank = pending and is_chosen_bank(user, application)
    context = {
        "a": application,
        "v": application.voucher,
        "accept_form": accept_form or (DiscountAcceptForm() if bank else None),
        "decline_form": decline_form or (DeclineForm() if bank else None),
        "may_withdraw": pending and is_applicant(user, application),
    }
    return render(request, "supplychain/discounts/detail.html", context, status=status)


@login_required
@require_GET
def application_detail(request, pk: int):
    return _detail(request, get_object_or_404(_visible(request.user), pk=pk))


@login_required
@require_POST
def accept(request, pk: int):
    user = request.user
    application = get_object_or_404(_visible(user), pk=pk)
    form = DiscountAcceptForm(request.POST)
    status = 422
    if form.is_valid():
        done, status = attempt(
            request,
            lambda: services.accept_discount_application(user, application, form.cleaned_data),
            form,
        )
        if done is not None:
            messages.success(
                request,
                _("已受理并贴现 %(a)s 元，实付 %(p)s 元")
                % {
                    "a": f"{done.amount:,.2f}",
                    "p": f"{done.discounted.discount_proceeds:,.2f}",
                },
            )
            return redirect("supplychain:discount_application", application.pk)
    if status == 409:
        return redirect("supplychain:discount_application", application.pk)
    return _detail(request, application, status=status, accept_form=form)


@login_required
@require_POST
def decline(request, pk: int):
    user = request.user
    application = get_object_or_404(_visible(user), pk=pk)
    form = DeclineForm(request.POST)
    status = 422
    if form.is_valid():
        done, status = attempt(
            request,
            lambda: services.decline_discount_application(
                user, application, form.cleaned_data.get("reason")
            ),
            form,
        )
        if done is not None:
            messages.success(request, _("已拒绝该贴现申请"))
            return redirect("supplychain:discount_application", application.pk)
    if status == 409:
        return redirect("supplychain:discount_application", application.pk)
    return _detail(request, application, status=status, decline_form=form)


@login_required
@require_POST
def withdraw(request, pk: int):
    user = request.user
    application = get_object_or_404(_visible(user), pk=pk)
    done, _status = attempt(
        request, lambda: services.withdraw_discount_application(user, application)
    )
    if done is not None:
        messages.success(request, _("已撤回贴现申请"))
    return redirect("supplychain:discount_application", application.pk)
