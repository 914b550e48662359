"""供应链金融 landing page: what the user's role can do here, with counts.

An enterprise: its receivables, what awaits its 确权, its vouchers, its
chains. A bank: receivables offered to it, its financings, vouchers it may
discount. An agency: the chains it sees, the receivables and financings in
its region, 政采 contracts awaiting its confirmation."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..models import Chain, Financing, FinancingState, Receivable, Voucher, VoucherState
from ..services import pages


@login_required
@require_GET
def home(request):
    user = request.user
    context = {
        "chains": Chain.objects.visible_to(user).count(),
        "is_bank": pages.is_bank_user(user),
        "is_enterprise": user.is_enterprise_user,
        "is_government": user.is_government_user,
        "can_create_chain": pages.can_create_chain(user),
        "inbox": pages.awaiting_my_confirmation(user).count(),
    }
    if user.is_enterprise_user:
        context["receivables"] = pages.my_receivables(user).count()
        context["vouchers"] = (
            Voucher.objects.visible_to(user)
            .filter(holder_id=user.enterprise_id, state=VoucherState.HELD)
            .count()
        )
    if context["is_bank"]:
        context["financeable"] = pages.financeable(user).count()
        context["financings"] = (
            Financing.objects.visible_to(user).exclude(state=FinancingState.REPAID).count()
        )
        context["offered_vouchers"] = pages.vouchers_offered(user).count()
    if user.is_government_user or user.is_platform_admin:
        context["receivables"] = Receivable.objects.visible_to(user).count()
        context["financings"] = Financing.objects.visible_to(user).count()
    return render(request, "supplychain/home.html", context)
