"""应收账款: the supplier registers one (invoice rows, 政采 contracts) and
lists its own; the debtor's inbox of receivables to confirm (in full, in
part, or dispute); the detail page (invoices, confirmation, financing on it,
the available balance, vouchers, history) with the actions the user may take
— the debtor's 确权 and, for a listed core enterprise, issuing a voucher; the
supplier's withdrawal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.paging import paginate

from .. import services
from ..forms import (
    AttachmentForm,
    ConfirmForm,
    DisputeForm,
    IssueVoucherForm,
    ReceivableForm,
    invoice_rows,
    row_count,
)
from ..models import (
    AttachmentKind,
    Financing,
    Receivable,
    ReceivableAttachment,
    ReceivableState,
    Voucher,
)
from ..services import pages
from ..services.attachments import can_change as can_change_attachments
from .common import OK, RowErrors, attempt


def _visible(user):
    return Receivable.objects.visible_to(user).select_related(
        "creditor", "debtor", "purchaser_agency"
    )


# --- register ---------------------------------------------------------------------------


def _rows_for_page(rows, errors):
    return [
        {"index": i, "code": row["code"], "number": row["number"], "errors": errors.get(i, [])}
        for i, row in enumerate(rows)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def register(request):
    user = request.user
    if not user.is_enterprise_user:
        raise Http404
    agencies = pages.purchasing_agencies()
    status = OK
    if request.method == "GET":
        form = ReceivableForm(agencies=agencies)
        rows = _rows_for_page(invoice_rows({}, row_count(request.GET)), {})
        return render(
            request,
            "supplychain/receivables/form.html",
            {"form": form, "rows": rows, "attachment_kinds": AttachmentKind.choices},
        )
    form = ReceivableForm(request.POST, agencies=agencies)
    count = row_count(request.POST)
    posted = invoice_rows(request.POST, count)
    if "add_row" in request.POST:  # without JavaScript: the same page, one row more
        posted.append({"code": "", "number": ""})
        return render(
            request,
            "supplychain/receivables/form.html",
            {
                "form": form,
                "rows": _rows_for_page(posted, {}),
                "attachment_kinds": AttachmentKind.choices,
            },
        )
    row_errors: dict[int, list[str]] = {}
    status = 422
    if form.is_valid():
        sent, index_map = [], []
        for i, row in enumerate(posted):
            if row["code"] or row["number"]:
                sent.append(row)
                index_map.append(i)
        data = {**form.cleaned_data, "invoices": sent, "payment_schedule": form.schedule()}
        files = [
            (kind, upload)
            for kind in AttachmentKind.values
            for upload in request.FILES.getlist(f"attachment_{kind}")
        ]
        sink = RowErrors(form, "invoices", index_map)
        receivable, status = attempt(
            request, lambda: services.register_with_attachments(user, data, files), sink
        )
        row_errors = sink.rows
        if receivable is not None:
            messages.success(
                request,
                _("已登记应收账款（合同 %(no)s），等待债务人确权") % {"no": receivable.contract_no},
            )
            return redirect("supplychain:receivable", receivable.pk)
    context = {
        "form": form,
        "rows": _rows_for_page(posted, row_errors),
        "attachment_kinds": AttachmentKind.choices,
    }
    return render(request, "supplychain/receivables/form.html", context, status=status)


@login_required
@require_GET
def invoice_row(request):
    """One more empty invoice row (htmx)."""
    if not request.user.is_enterprise_user:
        raise Http404
    try:
        index = max(0, min(int(request.GET.get("i", "0")), 49))
    except ValueError:
        index = 0
    row = {"index": index, "code": "", "number": "", "errors": []}
    return render(request, "supplychain/receivables/_invoice_row.html", {"row": row, "oob": True})


# --- lists ------------------------------------------------------------------------------


@login_required
@require_GET
def receivable_list(request):
    """An enterprise: the receivables it registered, and its payables; a
    bank: those offered to it or that it finances; an agency: its region's."""
    user = request.user
    if user.is_enterprise_user:
        receivables = pages.my_receivables(user)
        payables = pages.my_payables(user)
    else:
        receivables = _visible(user)
        payables = Receivable.objects.none()
    state = request.GET.get("state", "")
    if state in ReceivableState.values:
        receivables = receivables.filter(state=state)
    chain = request.GET.get("chain", "")
    receivables = pages.on_chain(receivables, user, chain, "creditor_id")
    payables = pages.on_chain(payables, user, chain, "creditor_id")
    mine = paginate(request, receivables.select_related("creditor").order_by("-created_at", "-pk"))
    theirs = paginate(
        request, payables.select_related("creditor").order_by("-created_at", "-pk"), param="ppage"
    )
    context = {
        "receivables": mine["page_obj"].object_list,
        "receivables_pager": mine,
        "payables": theirs["page_obj"].object_list,
        "payables_pager": theirs,
        "states": ReceivableState.choices,
        "state": state,
        "chains": pages.chain_choices(user),
        "chain": chain,
        "may_register": user.is_enterprise_user,
    }
    return render(request, "supplychain/receivables/list.html", context)


@login_required
@require_GET
def inbox(request):
    """The debtor's inbox: receivables registered against it, awaiting 确权."""
    user = request.user
    pager = paginate(
        request,
        pages.awaiting_my_confirmation(user).select_related("creditor").order_by("due_on", "pk"),
    )
    receivables = list(pager["page_obj"].object_list)
    for receivable in receivables:
        receivable.confirm_form = ConfirmForm(auto_id=f"r{receivable.pk}_%s")
        receivable.dispute_form = DisputeForm(auto_id=f"r{receivable.pk}_%s")
    return render(
        request,
        "supplychain/receivables/inbox.html",
        {"receivables": receivables, "pager": pager},
    )


# --- detail and actions -----------------------------------------------------------------


def _detail(request, receivable, *, status=OK, **forms):
    user = request.user
    roles = pages.receivable_roles(user, receivable)
    awaiting = receivable.state == ReceivableState.REGISTERED
    confirmed = receivable.state in (ReceivableState.CONFIRMED, ReceivableState.PARTLY_CONFIRMED)
    context = {
        "r": receivable,
        "roles": roles,
        "invoices": receivable.invoices.all(),
        "financings": Financing.objects.visible_to(user)
        .filter(receivable=receivable)
        .select_related("bank"),
        "vouchers": Voucher.objects.visible_to(user)
        .filter(receivable=receivable, parent__isnull=True)
        .select_related("holder"),
        "history": pages.history(user, receivable),
        "confirm_form": forms.get("confirm_form")
        or (ConfirmForm() if roles["debtor"] and awaiting else None),
        "dispute_form": forms.get("dispute_form")
        or (DisputeForm() if roles["debtor"] and awaiting else None),
        "issue_form": forms.get("issue_form")
        or (
            IssueVoucherForm()
            if roles["may_issue"] and confirmed and receivable.available > 0
            else None
        ),
        "attachments": ReceivableAttachment.objects.visible_to(user)
        .filter(receivable=receivable)
        .order_by("kind", "pk"),
        "attachment_form": forms.get("attachment_form")
        or (AttachmentForm() if can_change_attachments(user, receivable) else None),
        "may_remove_attachments": can_change_attachments(user, receivable),
        "may_withdraw": roles["creditor"]
        and receivable.state in (ReceivableState.REGISTERED, ReceivableState.DISPUTED),
        "may_finance": roles["bank"] and confirmed and receivable.available > 0,
    }
    return render(request, "supplychain/receivables/detail.html", context, status=status)


@login_required
@require_GET
def receivable_detail(request, pk: int):
    return _detail(request, get_object_or_404(_visible(request.user), pk=pk))


def _back(request, receivable):
    if request.POST.get("next") == "inbox":
        return redirect("supplychain:inbox")
    return redirect("supplychain:receivable", receivable.pk)


@login_required
@require_POST
def confirm(request, pk: int):
    user = request.user
    receivable = get_object_or_404(_visible(user), pk=pk)
    form = ConfirmForm(request.POST)
    status = 422
    if form.is_valid():
        amount = form.cleaned_data.get("confirmed_amount") or None
        done, status = attempt(request, lambda: services.confirm(user, receivable, amount), form)
        if done is not None:
            messages.success(
                request,
                _("已确权 %(a)s 元（合同 %(no)s）")
                % {"a": f"{done.confirmed_amount:,.2f}", "no": done.contract_no},
            )
            return _back(request, done)
    if status == 409:
        return _back(request, receivable)
    return _detail(request, receivable, confirm_form=form, status=status)


@login_required
@require_POST
def dispute(request, pk: int):
    user = request.user
    receivable = get_object_or_404(_visible(user), pk=pk)
    form = DisputeForm(request.POST)
    status = 422
    if form.is_valid():
        reason = form.cleaned_data.get("reason")
        done, status = attempt(request, lambda: services.dispute(user, receivable, reason), form)
        if done is not None:
            messages.success(request, _("已提出异议（合同 %(no)s）") % {"no": done.contract_no})
            return _back(request, done)
    if status == 409:
        return _back(request, receivable)
    return _detail(request, receivable, dispute_form=form, status=status)


@login_required
@require_POST
def withdraw(request, pk: int):
    user = request.user
    receivable = get_object_or_404(_visible(user), pk=pk)
    done, _status = attempt(request, lambda: services.withdraw(user, receivable))
    if done is not None:
        messages.success(request, _("已撤回应收账款，发票可重新登记"))
    return redirect("supplychain:receivable", receivable.pk)


@login_required
@require_POST
def issue_voucher(request, pk: int):
    user = request.user
    receivable = get_object_or_404(_visible(user), pk=pk)
    if not user.is_enterprise_user:
        raise PermissionDenied
    form = IssueVoucherForm(request.POST)
    status = 422
    if form.is_valid():
        voucher, status = attempt(
            request, lambda: services.issue_voucher(user, receivable, form.cleaned_data), form
        )
        if voucher is not None:
            messages.success(request, _("已开立数字债权凭证 %(n)s") % {"n": voucher.number})
            return redirect("supplychain:voucher", voucher.pk)
    return _detail(request, receivable, issue_form=form, status=status)
