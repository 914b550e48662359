"""数字债权凭证: the user's vouchers, and one voucher's tree (parent →
children with amounts, holders and states, and whether the leaves sum to the
face amount — `services.check_tree`), with the holder's split and transfer,
the bank's discount and the issuer's payment at maturity.

A holder sees only the nodes `Voucher.visible_to` gives it; what it passed
on to others is shown as one line per split node ("转让给其他企业") with the
amount, so the figures on the page still add up."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.paging import paginate

from .. import services
from ..forms import DiscountApplyForm, DiscountForm, TransferForm, part_rows, row_count
from ..models import DiscountApplication, Voucher, VoucherState
from ..services import pages
from .common import OK, RowErrors, attempt

#: A tree page lists at most this many nodes (a bench tree has 10,000).
MAX_NODES = 500


def _visible(user):
    return Voucher.objects.visible_to(user).select_related("holder", "issuer", "bank")


@login_required
@require_GET
def voucher_list(request):
    user = request.user
    chain = request.GET.get("chain", "")
    vouchers = pages.on_chain(_visible(user), user, chain, "holder_id")
    if user.is_enterprise_user:
        held = vouchers.filter(holder_id=user.enterprise_id).exclude(state=VoucherState.TRANSFERRED)
        issued = vouchers.filter(issuer_id=user.enterprise_id, parent__isnull=True)
    else:
        held = vouchers
        issued = Voucher.objects.none()
    held_pager = paginate(request, held.order_by("due_on", "pk"))
    issued_pager = paginate(request, issued.order_by("-issued_on", "-pk"), param="ipage")
    offered_pager = paginate(
        request,
        pages.on_chain(pages.vouchers_offered(user), user, chain, "holder_id")
        .select_related("holder", "issuer")
        .order_by("due_on", "pk"),
        param="opage",
    )
    context = {
        "held": held_pager["page_obj"].object_list,
        "held_pager": held_pager,
        "issued": issued_pager["page_obj"].object_list,
        "issued_pager": issued_pager,
        "offered": offered_pager["page_obj"].object_list,
        "offered_pager": offered_pager,
        "is_bank": pages.is_bank_user(user),
        "chains": pages.chain_choices(user),
        "chain": chain,
    }
    return render(request, "supplychain/vouchers/list.html", context)


def _tree(user, node: Voucher) -> dict:
    root_id = node.tree_root_id
    nodes = list(_visible(user).tree(root_id).order_by("depth", "pk")[: MAX_NODES + 1])
    truncated = len(nodes) > MAX_NODES
    nodes = nodes[:MAX_NODES]
    by_id = {n.pk: n for n in nodes}
    for n in nodes:
        n.kids = []
    tops = []
    for n in nodes:
        parent = by_id.get(n.parent_id)
        (parent.kids if parent is not None else tops).append(n)
    for n in nodes:
        if n.state == VoucherState.TRANSFERRED:
            n.hidden = n.amount - sum((k.amount for k in n.kids), Decimal(0))
    root_visible = root_id in by_id
    return {
        "tops": tops,
        "truncated": truncated,
        "check": services.check_tree(root_id) if root_visible else None,
        "root": by_id.get(root_id),
    }


def _page(request, node: Voucher, *, status=OK, transfer_form=None, rows=None, apply_form=None):
    user = request.user
    roles = pages.voucher_roles(user, node)
    live = node.state == VoucherState.HELD and node.due_on > timezone.localdate()
    may_split = roles["holder"] and live
    banks = services.authorised_banks(node.holder_id) if may_split else []
    context = {
        "v": node,
        "roles": roles,
        **_tree(user, node),
        "may_split": may_split,
        "transfer_form": transfer_form or (TransferForm() if may_split else None),
        "rows": rows
        or (
            [{"index": i, "holder": "", "amount": "", "errors": []} for i in range(2)]
            if may_split
            else []
        ),
        "may_discount": roles["bank"]
        and live
        and pages.vouchers_offered(user).filter(pk=node.pk).exists(),
        "may_pay": roles["issuer"] and node.due_on <= timezone.localdate(),
        "apply_form": apply_form or (DiscountApplyForm(banks=banks) if banks else None),
        "applications": DiscountApplication.objects.visible_to(user)
        .filter(voucher=node)
        .select_related("bank")
        .order_by("-created_at", "-pk"),
    }
    return render(request, "supplychain/vouchers/tree.html", context, status=status)


@login_required
@require_GET
def voucher_detail(request, pk: int):
    user = request.user
    node = _visible(user).filter(pk=pk).first()
    if node is None:
        node = pages.vouchers_offered(user).select_related("holder", "issuer").filter(pk=pk).first()
    if node is None:
        raise Http404
    return _page(request, node)


@login_required
@require_POST
def transfer(request, pk: int):
    user = request.user
    node = get_object_or_404(_visible(user), pk=pk)
    form = TransferForm(request.POST)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        child, status = attempt(
            request,
            lambda: services.transfer_voucher(user, node, data["to"], data.get("amount") or None),
            form,
        )
        if child is not None:
            messages.success(
                request,
                _("已向 %(h)s 转让 %(a)s 元")
                % {"h": child.holder.name, "a": f"{child.amount:,.2f}"},
            )
            return redirect("supplychain:voucher", node.pk)
    node.refresh_from_db()
    return _page(request, node, status=status, transfer_form=form)


@login_required
@require_POST
def split(request, pk: int):
    user = request.user
    node = get_object_or_404(_visible(user), pk=pk)
    count = row_count(request.POST, default=2)
    posted = part_rows(request.POST, count)
    if "add_row" in request.POST:
        posted.append({"holder": "", "amount": ""})
        rows = [{"index": i, **row, "errors": []} for i, row in enumerate(posted)]
        return _page(request, node, rows=rows)
    sent, index_map = [], []
    for i, row in enumerate(posted):
        if row["holder"] or row["amount"]:
            sent.append(row)
            index_map.append(i)
    form = TransferForm(data={})  # carries the errors that are not a row's
    form.is_valid()
    sink = RowErrors(form, "parts", index_map)
    children, status = attempt(request, lambda: services.split_voucher(user, node, sent), sink)
    if children is not None:
        messages.success(request, _("已拆分为 %(n)s 份") % {"n": len(children)})
        return redirect("supplychain:voucher", node.pk)
    for message in form.non_field_errors():
        messages.error(request, message)
    for field, errors in form.errors.items():
        if field != "__all__":
            for message in errors:
                messages.error(request, message)
    rows = [{"index": i, **row, "errors": sink.rows.get(i, [])} for i, row in enumerate(posted)]
    node.refresh_from_db()
    return _page(request, node, status=status, rows=rows)


@login_required
@require_http_methods(["GET", "POST"])
def discount(request, pk: int):
    user = request.user
    if not pages.is_bank_user(user):
        raise Http404
    node = get_object_or_404(pages.vouchers_offered(user).select_related("holder", "issuer"), pk=pk)
    form = DiscountForm(request.POST or None)
    status = OK
    if request.method == "POST":
        status = 422
        if form.is_valid():
            done, status = attempt(
                request, lambda: services.discount_voucher(user, node, form.cleaned_data), form
            )
            if done is not None:
                messages.success(
                    request,
                    _("已贴现 %(a)s 元，实付 %(p)s 元")
                    % {"a": f"{done.amount:,.2f}", "p": f"{done.discount_proceeds:,.2f}"},
                )
                return redirect("supplychain:voucher", done.pk)
    return render(
        request, "supplychain/vouchers/discount.html", {"v": node, "form": form}, status=status
    )


@login_required
@require_POST
def pay(request, pk: int):
    user = request.user
    node = get_object_or_404(_visible(user), pk=pk)
    if not pages.voucher_roles(user, node)["issuer"]:
        raise PermissionDenied
    paid, _status = attempt(request, lambda: services.pay_vouchers(user, node))
    if paid is not None:
        messages.success(request, _("已兑付 %(n)s 份") % {"n": len(paid)})
    return redirect("supplychain:voucher", node.pk)
