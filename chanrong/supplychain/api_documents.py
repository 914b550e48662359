"""Two later parts of /api/v1/supplychain, mounted on its router (api.py):

- a receivable's **attachments** — the creditor uploads contracts, invoice
  scans, delivery notes (multipart/form-data: `kind`, `file`) while it is
  unconfirmed; the parties and the banks list and download them; for anyone
  else they do not exist (404);
- the holder's **discount applications** — the holder of a voucher node
  applies to one of the banks it authorised; the bank (its own system, by
  token, told by the webhook `supplychain.discount_applied`) accepts with its
  rate and contract number, or declines with a reason; the holder may
  withdraw.

Errors as everywhere in the API: 422 by field, 403 not this actor, 404 not
visible, 409 not in this state. (No `from __future__ import annotations`:
django-ninja must see the real parameter types.)
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import BodyId, InputSchema, MoneyIn, ObjectId, Text, Yuan
from chanrong.core.errors import NotFound

from . import services
from .models import (
    AttachmentKind,
    DiscountApplication,
    DiscountApplicationState,
    Receivable,
    ReceivableAttachment,
    Voucher,
)
from .services.attachments import content_type

router = Router(tags=["supplychain 供应链金融"])

BINARY = {"schema": {"type": "string", "format": "binary"}}


# --- schemas ----------------------------------------------------------------------------


class SupplyAttachmentOut(Schema):
    id: int
    receivable_id: int
    kind: AttachmentKind = Field(
        description="contract 合同 / invoice 发票扫描件 / delivery 送货单、验收单 / other 其他"
    )
    kind_label: str
    original_name: str = Field(description="上传时的文件名")
    file_type: str = Field(description="pdf / jpg / png / ofd（按文件内容核验）")
    size: int = Field(description="字节数")
    sha256: str
    uploaded_at: datetime

    @staticmethod
    def resolve_kind_label(obj: ReceivableAttachment) -> str:
        return obj.get_kind_display()


class SupplyDiscountApplicationOut(Schema):
    id: int
    voucher_id: int
    voucher_number: str
    voucher_amount: Yuan
    due_on: date
    holder_id: int
    holder_name: str
    bank_id: int
    bank_name: str
    amount: Yuan = Field(description="申请贴现金额（元）")
    note: str
    state: DiscountApplicationState = Field(
        description="pending 待银行受理 / accepted 已贴现 / declined 银行已拒绝 / withdrawn 已撤回"
    )
    state_label: str
    decline_reason: str
    discounted_id: int | None = Field(description="受理后贴现的凭证节点")
    discount_proceeds: Yuan | None = Field(description="贴现实付（元）")
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def resolve_voucher_number(obj: DiscountApplication) -> str:
        return obj.voucher.number

    @staticmethod
    def resolve_voucher_amount(obj: DiscountApplication) -> Decimal:
        return obj.voucher.amount

    @staticmethod
    def resolve_due_on(obj: DiscountApplication) -> date:
        return obj.voucher.due_on

    @staticmethod
    def resolve_holder_name(obj: DiscountApplication) -> str:
        return obj.holder.name

    @staticmethod
    def resolve_bank_name(obj: DiscountApplication) -> str:
        return obj.bank.name

    @staticmethod
    def resolve_state_label(obj: DiscountApplication) -> str:
        return obj.get_state_display()

    @staticmethod
    def resolve_discount_proceeds(obj: DiscountApplication) -> Decimal | None:
        return obj.discounted.discount_proceeds if obj.discounted_id else None


class SupplyDiscountApplicationIn(InputSchema):
    bank: BodyId = Field(description="贴现银行（机构编号；须为本企业已授权的银行）")
    amount: MoneyIn | None = Field(None, description="申请贴现金额（元），默认全部")
    note: Text(500) = ""  # type: ignore[valid-type]


class SupplyDiscountAcceptIn(InputSchema):
    discount_rate: Annotated[
        Decimal, Field(ge=0, le=100, max_digits=9, decimal_places=6, allow_inf_nan=False)
    ] = Field(description="贴现年利率（%），按 360 天计息至到期日")
    contract_no: Text(64, min_length=1) = Field(description="贴现合同编号")  # type: ignore[valid-type]


class SupplyDeclineIn(InputSchema):
    reason: Text(500, min_length=1) = Field(description="拒绝理由")  # type: ignore[valid-type]


class SupplyDiscountApplicationFilter(Schema):
    state: DiscountApplicationState | None = None
    voucher: ObjectId | None = Field(None, description="凭证节点编号")


# --- attachments --------------------------------------------------------------------------


def _receivable(request, receivable_id: int) -> Receivable:
    receivable = Receivable.objects.visible_to(actor(request)).filter(pk=receivable_id).first()
    if receivable is None:
        raise NotFound(_("未找到该应收账款"))
    return receivable


def _attachments(request, receivable_id: int):
    """The receivable's attachments the caller may see; 404 when the
    receivable is not visible (a supervising agency sees the receivable but
    no attachments: an empty list)."""
    _receivable(request, receivable_id)
    return ReceivableAttachment.objects.visible_to(actor(request)).filter(
        receivable_id=receivable_id
    )


@router.get(
    "/receivables/{id}/attachments",
    response=responses({200: list[SupplyAttachmentOut]}, 404, 422),
    summary="应收账款附件列表（债权人、债务人、可见该应收账款的银行）",
)
@paginated
def list_attachments(request, id: ObjectId):
    return _attachments(request, id).order_by("kind", "pk")


@router.post(
    "/receivables/{id}/attachments",
    response=responses({201: SupplyAttachmentOut}, 404, 409, 422),
    summary="上传附件（债权人，确权前；PDF/JPG/PNG/OFD，按内容核验类型，单个不超过 10 MB）",
)
def upload_attachment(request, id: ObjectId, kind: Form[AttachmentKind], file: File[UploadedFile]):
    attachment = services.add_attachment(actor(request), _receivable(request, id), kind, file)
    return Status(201, attachment)


@router.get(
    "/receivables/{id}/attachments/{attachment_id}",
    response=responses({200: None}, 404, 422),
    summary="下载附件（原文件名，不缓存）",
    openapi_extra={
        "responses": {
            "200": {
                "description": "附件文件",
                "content": {t: BINARY for t in ("application/pdf", "image/jpeg", "image/png")}
                | {"application/ofd": BINARY},
            }
        }
    },
)
def download_attachment(request, id: ObjectId, attachment_id: ObjectId):
    from .views.attachments import file_response

    _receivable(request, id)
    attachment = services.visible_attachment(actor(request), attachment_id, receivable_id=id)
    response = file_response(attachment)
    response["Content-Type"] = content_type(attachment)
    return response


@router.delete(
    "/receivables/{id}/attachments/{attachment_id}",
    response=responses({204: None}, 404, 409),
    summary="删除附件（债权人，确权前）",
)
def delete_attachment(request, id: ObjectId, attachment_id: ObjectId):
    _receivable(request, id)
    attachment = services.visible_attachment(actor(request), attachment_id, receivable_id=id)
    services.remove_attachment(actor(request), attachment)
    return Status(204, None)


# --- discount applications ----------------------------------------------------------------


def _applications(request):
    return DiscountApplication.objects.visible_to(actor(request)).select_related(
        "voucher", "holder", "bank", "discounted"
    )


def _application(request, application_id: int) -> DiscountApplication:
    found = _applications(request).filter(pk=application_id).first()
    if found is None:
        raise NotFound(_("未找到该贴现申请"))
    return found


@router.post(
    "/vouchers/{id}/discount-applications",
    response=responses({201: SupplyDiscountApplicationOut}, 404, 409, 422),
    summary="申请贴现（持有企业向已授权的银行申请，金额不超过所持凭证；银行收到 webhook）",
)
def apply_for_discount(request, id: ObjectId, payload: SupplyDiscountApplicationIn):
    voucher = Voucher.objects.visible_to(actor(request)).filter(pk=id).first()
    if voucher is None:
        raise NotFound(_("未找到该数字债权凭证"))
    application = services.apply_for_discount(
        actor(request), voucher, payload.model_dump(exclude_none=True)
    )
    return Status(201, _application(request, application.pk))


@router.get(
    "/discount-applications",
    response=responses({200: list[SupplyDiscountApplicationOut]}, 422),
    summary="贴现申请（持有企业看本企业的；银行看向本行提出的）",
)
@paginated
def list_applications(request, filters: Query[SupplyDiscountApplicationFilter]):
    queryset = _applications(request)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.voucher:
        queryset = queryset.filter(voucher_id=filters.voucher)
    return queryset.order_by("-created_at", "-pk")


@router.get(
    "/discount-applications/{id}",
    response=responses({200: SupplyDiscountApplicationOut}, 404, 422),
    summary="贴现申请详情",
)
def get_application(request, id: ObjectId):
    return _application(request, id)


@router.post(
    "/discount-applications/{id}/accept",
    response=responses({200: SupplyDiscountApplicationOut}, 404, 409, 422),
    summary="银行受理并贴现（按申请金额，部分贴现先拆分；凭证已不在持有中 409）",
)
def accept_application(request, id: ObjectId, payload: SupplyDiscountAcceptIn):
    services.accept_discount_application(
        actor(request), _application(request, id), payload.model_dump()
    )
    return _application(request, id)


@router.post(
    "/discount-applications/{id}/decline",
    response=responses({200: SupplyDiscountApplicationOut}, 404, 409, 422),
    summary="银行拒绝（说明理由）",
)
def decline_application(request, id: ObjectId, payload: SupplyDeclineIn):
    services.decline_discount_application(actor(request), _application(request, id), payload.reason)
    return _application(request, id)


@router.post(
    "/discount-applications/{id}/withdraw",
    response=responses({200: SupplyDiscountApplicationOut}, 404, 409),
    summary="撤回申请（持有企业，待受理时）",
)
def withdraw_application(request, id: ObjectId):
    services.withdraw_discount_application(actor(request), _application(request, id))
    return _application(request, id)
