"""供应链金融 over the API (mounted at /api/v1/supplychain): chains and their
members and 一链一策 measures, receivables from registration to 确权, the
confirmed receivables and held vouchers offered to a bank, financing and
its repayment report, and digital payables vouchers (issue, split,
transfer, discount, payment, the tree with its sum checked).

Reads start from each model's `visible_to(caller)`; anything not visible is
a 404 (a bank reaches a voucher it may discount through
`services.offered_vouchers`, the holder's consent). Writes are service calls
(`chanrong.supplychain.services`) whose errors — 422 by field, 403 not this
actor, 409 not in this state / already financed / a duplicate invoice —
become the API's error shape. A bank's own system works with its bearer
token: the webhook events `supplychain.receivable_confirmed`,
`supplychain.financing_*` and `supplychain.voucher_*` tell it what changed.

(No `from __future__ import annotations`: django-ninja must see the real
parameter types of the paginated operations.)
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import ObjectId
from chanrong.core.errors import NotFound, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of

from . import services
from .api_documents import router as documents_router
from .api_schemas import (
    SupplyChainFilter,
    SupplyChainIn,
    SupplyChainOut,
    SupplyConfirmIn,
    SupplyDiscountIn,
    SupplyDisputeIn,
    SupplyFinancingFilter,
    SupplyFinancingIn,
    SupplyFinancingOut,
    SupplyMeasureIn,
    SupplyMeasureOut,
    SupplyMemberIn,
    SupplyMemberOut,
    SupplyReceivableDetailOut,
    SupplyReceivableFilter,
    SupplyReceivableIn,
    SupplyReceivableOut,
    SupplyRepayIn,
    SupplySplitIn,
    SupplyTransferIn,
    SupplyVoucherFilter,
    SupplyVoucherIssueIn,
    SupplyVoucherOut,
    SupplyVoucherTreeOut,
)
from .models import Chain, ChainMeasure, ChainMember, Financing, Receivable, Voucher
from .services import pages
from .services.common import FEN

router = Router(tags=["supplychain 供应链金融"])
#: Attachments of receivables and the holders' discount applications (api_documents.py).
router.add_router("", documents_router)


# --------------------------------------------------------------------------
# helpers


@contextmanager
def _fields_as_sent(renames: dict[str, str]) -> Iterator[None]:
    """The services name some fields differently from the body the client
    sent ("purchaser_agency" for "purchaser_agency_id"; a transfer is a split
    with one part): report errors under the client's names."""
    try:
        yield
    except ValidationFailed as exc:
        for error in exc.errors:
            for old, new in renames.items():
                if error.field == old or error.field.startswith(old + "."):
                    error.field = new + error.field[len(old) :]
                    break
        raise


def _dump(payload) -> dict[str, Any]:
    """The body as the services read it: dates as date, amounts as Decimal."""
    return payload.model_dump(exclude_none=True)


def _chains(request):
    return Chain.objects.visible_to(actor(request)).select_related("region", "lead", "agency")


def _chain(request, chain_id: int) -> Chain:
    chain = _chains(request).filter(pk=chain_id).first()
    if chain is None:
        raise NotFound(_("未找到该产业链"))
    return chain


def _receivables(request):
    return Receivable.objects.visible_to(actor(request)).select_related("creditor")


def _receivable(request, receivable_id: int) -> Receivable:
    receivable = _receivables(request).filter(pk=receivable_id).first()
    if receivable is None:
        raise NotFound(_("未找到该应收账款"))
    return receivable


def _financings(request):
    return Financing.objects.visible_to(actor(request)).select_related(
        "receivable", "receivable__creditor", "bank"
    )


def _financing(request, financing_id: int) -> Financing:
    financing = _financings(request).filter(pk=financing_id).first()
    if financing is None:
        raise NotFound(_("未找到该融资"))
    return financing


def _vouchers(request):
    return Voucher.objects.visible_to(actor(request)).select_related("issuer", "holder")


def _voucher(request, voucher_id: int, *, offered: bool = False) -> Voucher:
    """A voucher node the caller sees; with `offered`, also one offered to
    the calling bank for discount (held by an enterprise that authorised it)."""
    user = actor(request)
    found = Voucher.objects.visible_to(user).filter(pk=voucher_id)
    if offered:
        found = found | services.offered_vouchers(user).filter(pk=voucher_id)
    voucher = found.select_related("issuer", "holder").first()
    if voucher is None:
        raise NotFound(_("未找到该数字债权凭证"))
    return voucher


# --------------------------------------------------------------------------
# chains


@router.get("/chains", response=responses({200: list[SupplyChainOut]}, 422), summary="产业链列表")
@paginated
def list_chains(request, filters: Query[SupplyChainFilter]):
    queryset = _chains(request)
    if filters.region:
        queryset = queryset.filter(region__code__startswith=filters.region)
    if filters.lead:
        queryset = queryset.filter(lead_id=filters.lead)
    return queryset.order_by("region_id", "name", "pk")


@router.post(
    "/chains",
    response=responses({201: SupplyChainOut}, 409, 422),
    summary="建立产业链（政府部门为本辖区建链；链主企业为本企业的链）",
)
def create_chain(request, payload: SupplyChainIn):
    chain = services.create_chain(actor(request), _dump(payload))
    return Status(201, _chain(request, chain.pk))


@router.get(
    "/chains/{id}", response=responses({200: SupplyChainOut}, 404, 422), summary="产业链详情"
)
def get_chain(request, id: ObjectId):
    return _chain(request, id)


@router.get(
    "/chains/{id}/members",
    response=responses({200: list[SupplyMemberOut]}, 404, 422),
    summary="产业链成员（供应商、经销商，层级 1–3）",
)
@paginated
def list_members(request, id: ObjectId):
    chain = _chain(request, id)
    return (
        ChainMember.objects.visible_to(actor(request))
        .filter(chain=chain)
        .select_related("enterprise")
        .order_by("role", "tier", "pk")
    )


@router.post(
    "/chains/{id}/members",
    response=responses({201: SupplyMemberOut}, 404, 409, 422),
    summary="添加成员（产业链维护方）",
)
def add_member(request, id: ObjectId, payload: SupplyMemberIn):
    member = services.add_member(actor(request), _chain(request, id), _dump(payload))
    return Status(201, ChainMember.objects.select_related("enterprise").get(pk=member.pk))


@router.delete(
    "/chains/{id}/members/{member_id}",
    response=responses({204: None}, 404),
    summary="移除成员（产业链维护方）",
)
def remove_member(request, id: ObjectId, member_id: ObjectId):
    chain = _chain(request, id)
    member = (
        ChainMember.objects.visible_to(actor(request)).filter(chain=chain, pk=member_id).first()
    )
    if member is None:
        raise NotFound(_("未找到该成员"))
    services.remove_member(actor(request), member)
    return Status(204, None)


@router.get(
    "/chains/{id}/measures",
    response=responses({200: list[SupplyMeasureOut]}, 404, 422),
    summary="一链一策措施（按日期倒序）",
)
@paginated
def list_measures(request, id: ObjectId):
    chain = _chain(request, id)
    return ChainMeasure.objects.visible_to(actor(request)).filter(chain=chain)


@router.post(
    "/chains/{id}/measures",
    response=responses({201: SupplyMeasureOut}, 404, 422),
    summary="发布一链一策措施（产业链维护方；只追加，不修改）",
)
def add_measure(request, id: ObjectId, payload: SupplyMeasureIn):
    measure = services.add_measure(actor(request), _chain(request, id), _dump(payload))
    return Status(201, measure)


# --------------------------------------------------------------------------
# receivables


@router.get(
    "/receivables",
    response=responses({200: list[SupplyReceivableOut]}, 422),
    summary="应收账款列表（债权人、债务人、获授权的银行、辖区政府部门可见）",
)
@paginated
def list_receivables(request, filters: Query[SupplyReceivableFilter]):
    queryset = _receivables(request)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    queryset = pages.on_chain(queryset, actor(request), filters.chain, "creditor_id")
    scope = scope_of(actor(request))
    if filters.role and scope.kind == ScopeKind.ENTERPRISE:
        mine = Q(creditor_id=scope.enterprise_id)
        queryset = queryset.filter(mine) if filters.role == "creditor" else queryset.exclude(mine)
    return queryset.order_by("-created_at", "-pk")


@router.post(
    "/receivables",
    response=responses({201: SupplyReceivableDetailOut}, 409, 422),
    summary="登记应收账款（供应商；发票在全平台只能登记一次：409）",
)
def register_receivable(request, payload: SupplyReceivableIn):
    data = _dump(payload)
    if "purchaser_agency_id" in data:
        data["purchaser_agency"] = data.pop("purchaser_agency_id")
    with _fields_as_sent({"purchaser_agency": "purchaser_agency_id"}):
        receivable = services.register_receivable(actor(request), data)
    return Status(201, _receivable(request, receivable.pk))


@router.get(
    "/receivables/{id}",
    response=responses({200: SupplyReceivableDetailOut}, 404, 422),
    summary="应收账款详情（含发票、政采付款计划）",
)
def get_receivable(request, id: ObjectId):
    return _receivable(request, id)


@router.post(
    "/receivables/{id}/confirm",
    response=responses({200: SupplyReceivableDetailOut}, 404, 409, 422),
    summary="确权（债务人；全额或部分，确权金额此后不变）",
)
def confirm_receivable(request, id: ObjectId, payload: SupplyConfirmIn | None = None):
    amount = payload.confirmed_amount if payload else None
    services.confirm(actor(request), _receivable(request, id), amount)
    return _receivable(request, id)


@router.post(
    "/receivables/{id}/dispute",
    response=responses({200: SupplyReceivableDetailOut}, 404, 409, 422),
    summary="提出异议（债务人，说明理由）",
)
def dispute_receivable(request, id: ObjectId, payload: SupplyDisputeIn):
    services.dispute(actor(request), _receivable(request, id), payload.reason)
    return _receivable(request, id)


@router.post(
    "/receivables/{id}/withdraw",
    response=responses({200: SupplyReceivableDetailOut}, 404, 409),
    summary="撤回（供应商；仅待确权或有异议的，发票随之释放）",
)
def withdraw_receivable(request, id: ObjectId):
    services.withdraw(actor(request), _receivable(request, id))
    return _receivable(request, id)


# --------------------------------------------------------------------------
# what is offered to a bank


@router.get(
    "/offers/receivables",
    response=responses({200: list[SupplyReceivableOut]}, 422),
    summary="银行：可融资的已确权应收账款（供应商已授权本行，尚有未融资余额，未到期）",
)
@paginated
def offered_receivables(request):
    return (
        services.offered_receivables(actor(request))
        .select_related("creditor")
        .order_by("due_on", "pk")
    )


@router.get(
    "/offers/vouchers",
    response=responses({200: list[SupplyVoucherOut]}, 422),
    summary="银行：可贴现的数字债权凭证（持有企业已授权本行，持有中，未到期）",
)
@paginated
def offered_vouchers(request):
    return (
        services.offered_vouchers(actor(request))
        .select_related("issuer", "holder")
        .order_by("due_on", "pk")
    )


# --------------------------------------------------------------------------
# financing


@router.post(
    "/receivables/{id}/financings",
    response=responses({201: SupplyFinancingOut}, 404, 409, 422),
    summary="银行登记融资（质押或保理；不超过未融资确权余额 × 融资比例，重复融资 409）",
)
def create_financing(request, id: ObjectId, payload: SupplyFinancingIn):
    financing = services.finance(actor(request), _receivable(request, id), _dump(payload))
    return Status(201, _financing(request, financing.pk))


@router.get(
    "/financings",
    response=responses({200: list[SupplyFinancingOut]}, 422),
    summary="应收账款融资列表（银行看本行的；债权人、债务人看本企业的）",
)
@paginated
def list_financings(request, filters: Query[SupplyFinancingFilter]):
    queryset = _financings(request)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.receivable:
        queryset = queryset.filter(receivable_id=filters.receivable)
    queryset = pages.on_chain(queryset, actor(request), filters.chain, "receivable__creditor_id")
    return queryset.order_by("-financed_on", "-pk")


@router.get(
    "/financings/{id}",
    response=responses({200: SupplyFinancingOut}, 404, 422),
    summary="融资详情",
)
def get_financing(request, id: ObjectId):
    return _financing(request, id)


@router.post(
    "/financings/{id}/repay",
    response=responses({200: SupplyFinancingOut}, 404, 409, 422),
    summary="银行报告还款（债务人到期付款；已还款 409）",
)
def repay_financing(request, id: ObjectId, payload: SupplyRepayIn | None = None):
    repaid_on = payload.repaid_on if payload else None
    services.repay(actor(request), _financing(request, id), repaid_on=repaid_on)
    return _financing(request, id)


# --------------------------------------------------------------------------
# vouchers


@router.post(
    "/receivables/{id}/vouchers",
    response=responses({201: SupplyVoucherOut}, 404, 409, 422),
    summary="开立数字债权凭证（名单内核心企业，就本企业已确权的应付账款）",
)
def issue_voucher(request, id: ObjectId, payload: SupplyVoucherIssueIn | None = None):
    data = _dump(payload) if payload else {}
    voucher = services.issue_voucher(actor(request), _receivable(request, id), data)
    return Status(201, _voucher(request, voucher.pk))


@router.get(
    "/vouchers",
    response=responses({200: list[SupplyVoucherOut]}, 422),
    summary="数字债权凭证（开立企业看整棵树；持有企业看其持有过的节点；银行看在本行贴现的）",
)
@paginated
def list_vouchers(request, filters: Query[SupplyVoucherFilter]):
    queryset = _vouchers(request)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.root:
        queryset = queryset.tree(filters.root)
    queryset = pages.on_chain(queryset, actor(request), filters.chain, "holder_id")
    return queryset.order_by("root_id", "pk")


@router.get(
    "/vouchers/{id}",
    response=responses({200: SupplyVoucherOut}, 404, 422),
    summary="凭证节点详情",
)
def get_voucher(request, id: ObjectId):
    return _voucher(request, id, offered=True)


@router.get(
    "/vouchers/{id}/tree",
    response=responses({200: SupplyVoucherTreeOut}, 404, 422),
    summary="凭证树：可见的节点，以及按数据库记录重算的合计核对",
)
def voucher_tree(request, id: ObjectId):
    voucher = _voucher(request, id, offered=True)
    root_id = voucher.tree_root_id
    check = services.check_tree(root_id)
    nodes = _vouchers(request).tree(root_id).order_by("depth", "pk")
    return {
        "root_id": root_id,
        "check": {
            "holds": check.holds,
            "face": check.face.quantize(FEN),
            "leaves": check.leaves.quantize(FEN),
            "nodes": check.nodes,
            "leaf_count": check.leaf_count,
            "unbalanced": list(check.unbalanced),
        },
        "nodes": list(nodes) or [voucher],
    }


@router.post(
    "/vouchers/{id}/split",
    response=responses({200: list[SupplyVoucherOut]}, 404, 409, 422),
    summary="拆分（持有企业；各部分合计不超过凭证金额，余额留存；返回子节点）",
)
def split_voucher(request, id: ObjectId, payload: SupplySplitIn):
    parts = [part.model_dump() for part in payload.parts]
    children = services.split_voucher(actor(request), _voucher(request, id), parts)
    return list(
        Voucher.objects.filter(pk__in=[c.pk for c in children])
        .select_related("issuer", "holder")
        .order_by("pk")
    )


@router.post(
    "/vouchers/{id}/transfer",
    response=responses({200: SupplyVoucherOut}, 404, 409, 422),
    summary="转让（持有企业把全部或部分转给其供应商；返回转出的节点）",
)
def transfer_voucher(request, id: ObjectId, payload: SupplyTransferIn):
    with _fields_as_sent({"parts[0].holder": "to", "parts[0].amount": "amount", "parts": "amount"}):
        child = services.transfer_voucher(
            actor(request), _voucher(request, id), payload.to, payload.amount
        )
    return Voucher.objects.select_related("issuer", "holder").get(pk=child.pk)


@router.post(
    "/vouchers/{id}/discount",
    response=responses({200: SupplyVoucherOut}, 404, 409, 422),
    summary="贴现（银行；持有企业须已授权本行；部分贴现先拆分；返回贴现的节点）",
)
def discount_voucher(request, id: ObjectId, payload: SupplyDiscountIn):
    done = services.discount_voucher(
        actor(request), _voucher(request, id, offered=True), _dump(payload)
    )
    return Voucher.objects.select_related("issuer", "holder").get(pk=done.pk)


@router.post(
    "/vouchers/{id}/pay",
    response=responses({200: list[SupplyVoucherOut]}, 404, 409),
    summary="到期兑付（开立企业兑付整棵树未兑付的叶节点；返回兑付的节点）",
)
def pay_vouchers(request, id: ObjectId):
    paid = services.pay_vouchers(actor(request), _voucher(request, id))
    return list(
        Voucher.objects.filter(pk__in=[v.pk for v in paid])
        .select_related("issuer", "holder")
        .order_by("pk")
    )
