"""Events (银企对接会 / 路演) over the API; mount at /events.

Reads start from Event.objects.visible_to(caller); writes go through
chanrong.events.services. Amounts are 万元 JSON numbers, as elsewhere in the API.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import InputSchema, ObjectId, RegionCode, Text, drop_null_default
from chanrong.core.errors import ValidationFailed
from chanrong.finance.models import FinancialInstitution
from chanrong.registry.models import Enterprise

from . import services
from .models import Event, EventKind, EventStatus

router = Router(tags=["events 对接活动"])

AmountWan = Annotated[
    float,
    Field(strict=True, gt=0, le=100_000_000, allow_inf_nan=False, description="万元，JSON 数字"),
]


class EventOut(Schema):
    id: int
    kind: EventKind
    title: str
    description: str
    date: dt.date
    place: str
    region_code: str
    region_name: str
    organiser: str
    is_open: bool
    status: EventStatus

    @staticmethod
    def resolve_region_code(obj: Event) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: Event) -> str:
        return obj.region.name

    @staticmethod
    def resolve_organiser(obj: Event) -> str:
        return obj.organiser.name


class EventIn(InputSchema):
    kind: EventKind
    title: Text(200, min_length=1)  # type: ignore[valid-type]
    date: dt.date
    place: Text(200, min_length=1)  # type: ignore[valid-type]
    region_code: RegionCode
    is_open: StrictBool = False
    description: Text(5000) = ""  # type: ignore[valid-type]


class EventPatch(InputSchema):
    kind: EventKind = Field(None, json_schema_extra=drop_null_default)
    title: Text(200, min_length=1) = Field(None, json_schema_extra=drop_null_default)  # type: ignore[valid-type]
    date: dt.date = Field(None, json_schema_extra=drop_null_default)
    place: Text(200, min_length=1) = Field(None, json_schema_extra=drop_null_default)  # type: ignore[valid-type]
    region_code: RegionCode = Field(None, json_schema_extra=drop_null_default)
    is_open: StrictBool = Field(None, json_schema_extra=drop_null_default)
    description: Text(5000) = Field(None, json_schema_extra=drop_null_default)  # type: ignore[valid-type]


def _data(payload: InputSchema, *, partial: bool) -> dict:
    data = payload.model_dump(exclude_unset=partial)
    if partial:
        nulls = [k for k, v in data.items() if v is None]
        if nulls:
            raise ValidationFailed({k: _("不能为空") for k in nulls})
    if "region_code" in data:
        data["region"] = data.pop("region_code")
    return data


class EventFilter(Schema):
    status: EventStatus | None = None
    kind: EventKind | None = None


@router.get("", response=responses({200: list[EventOut]}, 422), summary="活动列表")
@paginated
def list_events(request, filters: Query[EventFilter]):
    queryset = Event.objects.visible_to(actor(request)).select_related("region", "organiser")
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    return queryset.order_by("-date", "-pk")


@router.post("", response=responses({201: EventOut}, 422), summary="组织活动（草稿）")
def create_event(request, payload: EventIn):
    event = services.create_event(actor(request), _data(payload, partial=False))
    return Status(201, services.get_visible_event(actor(request), event.pk))


@router.get("/{id}", response=responses({200: EventOut}, 404, 422), summary="活动详情")
def get_event(request, id: ObjectId):
    return services.get_visible_event(actor(request), id)


@router.patch("/{id}", response=responses({200: EventOut}, 404, 409, 422), summary="修改活动")
def update_event(request, id: ObjectId, payload: EventPatch):
    event = services.get_visible_event(actor(request), id)
    services.update_event(actor(request), event, _data(payload, partial=True))
    return services.get_visible_event(actor(request), id)


class InviteIn(InputSchema):
    enterprise_ids: list[ObjectId] = Field(default_factory=list, max_length=1000)
    institution_ids: list[ObjectId] = Field(default_factory=list, max_length=1000)


class InviteOut(Schema):
    added: int


@router.post(
    "/{id}/invitations", response=responses({200: InviteOut}, 404, 409, 422), summary="邀请单位"
)
def invite(request, id: ObjectId, payload: InviteIn):
    user = actor(request)
    event = services.get_visible_event(user, id)
    enterprises = list(Enterprise.objects.visible_to(user).filter(pk__in=payload.enterprise_ids))
    institutions = list(
        FinancialInstitution.objects.visible_to(user).filter(pk__in=payload.institution_ids)
    )
    missing = set(payload.enterprise_ids) - {e.pk for e in enterprises}
    missing_i = set(payload.institution_ids) - {i.pk for i in institutions}
    if missing or missing_i:
        errors = {}
        if missing:
            errors["enterprise_ids"] = _("未找到企业：%s") % ", ".join(map(str, sorted(missing)))
        if missing_i:
            errors["institution_ids"] = _("未找到金融机构：%s") % ", ".join(
                map(str, sorted(missing_i))
            )
        raise ValidationFailed(errors)
    return {
        "added": services.invite(user, event, enterprises=enterprises, institutions=institutions)
    }


class RegisterIn(InputSchema):
    note: Text(200) = ""  # type: ignore[valid-type]


class RegistrationOut(Schema):
    event_id: int
    organisation: str
    created_at: str


@router.post(
    "/{id}/registrations",
    response=responses({201: RegistrationOut}, 404, 409, 422),
    summary="报名（企业或金融机构用户）",
)
def register(request, id: ObjectId, payload: RegisterIn):
    user = actor(request)
    reg = services.register(user, services.get_visible_event(user, id), payload.note)
    return Status(
        201,
        {
            "event_id": reg.event_id,
            "organisation": str(reg.party.name),
            "created_at": reg.created_at.isoformat(),
        },
    )


@router.delete(
    "/{id}/registrations", response=responses({204: None}, 404, 409, 422), summary="取消报名"
)
def withdraw(request, id: ObjectId):
    user = actor(request)
    services.withdraw(user, services.get_visible_event(user, id))
    return Status(204, None)


class DealIn(InputSchema):
    enterprise_id: ObjectId
    institution_id: ObjectId
    amount_wan: AmountWan
    signed_on: dt.date | None = None
    note: Text(200) = ""  # type: ignore[valid-type]


class DealOut(Schema):
    id: int
    enterprise_id: int
    enterprise_name: str
    institution_id: int
    institution_name: str
    amount_wan: float
    signed_on: dt.date


def _deal_out(d) -> dict:
    return {
        "id": d.pk,
        "enterprise_id": d.enterprise_id,
        "enterprise_name": d.enterprise.name,
        "institution_id": d.institution_id,
        "institution_name": d.institution.name,
        "amount_wan": float(d.amount / Decimal(10_000)),
        "signed_on": d.signed_on,
    }


def _parties(user, enterprise_id: int, institution_id: int | None = None):
    enterprise = Enterprise.objects.visible_to(user).filter(pk=enterprise_id).first()
    errors = {}
    if enterprise is None:
        errors["enterprise_id"] = _("未找到该企业")
    institution = None
    if institution_id is not None:
        institution = (
            FinancialInstitution.objects.visible_to(user).filter(pk=institution_id).first()
        )
        if institution is None:
            errors["institution_id"] = _("未找到该金融机构")
    if errors:
        raise ValidationFailed(errors)
    return enterprise, institution


@router.get("/{id}/deals", response=responses({200: list[DealOut]}, 404, 422), summary="签约情况")
def list_deals(request, id: ObjectId):
    event = services.get_visible_event(actor(request), id)
    return [_deal_out(d) for d in event.deals.select_related("enterprise", "institution")]


@router.post("/{id}/deals", response=responses({201: DealOut}, 404, 409, 422), summary="登记签约")
def add_deal(request, id: ObjectId, payload: DealIn):
    user = actor(request)
    event = services.get_visible_event(user, id)
    enterprise, institution = _parties(user, payload.enterprise_id, payload.institution_id)
    deal = services.record_deal(
        user,
        event,
        enterprise=enterprise,
        institution=institution,
        amount=Decimal(str(payload.amount_wan)),  # 万元: services read bare numbers as 万元
        signed_on=payload.signed_on,
        note=payload.note,
    )
    return Status(201, _deal_out(deal))


class PresentedDemandIn(InputSchema):
    enterprise_id: ObjectId
    title: Text(200, min_length=1)  # type: ignore[valid-type]
    amount_wan: AmountWan


class PresentedDemandOut(Schema):
    id: int
    enterprise_id: int
    title: str
    amount_wan: float


@router.post(
    "/{id}/demands",
    response=responses({201: PresentedDemandOut}, 404, 409, 422),
    summary="登记路演需求",
)
def add_demand(request, id: ObjectId, payload: PresentedDemandIn):
    user = actor(request)
    event = services.get_visible_event(user, id)
    enterprise, _i = _parties(user, payload.enterprise_id)
    item = services.record_presented_demand(
        user,
        event,
        enterprise=enterprise,
        title=payload.title,
        amount=Decimal(str(payload.amount_wan)),  # 万元: services read bare numbers as 万元
    )
    return Status(
        201,
        {
            "id": item.pk,
            "enterprise_id": item.enterprise_id,
            "title": item.title,
            "amount_wan": float(item.amount / Decimal(10_000)),
        },
    )


# Declared last: its URL pattern would otherwise shadow /{id}/invitations, /{id}/deals …
@router.post(
    "/{id}/{action}",
    response=responses({200: EventOut}, 404, 409, 422),
    summary="发布 / 结束 / 取消活动",
)
def transition(request, id: ObjectId, action: Literal["publish", "close", "cancel"]):
    event = services.get_visible_event(actor(request), id)
    {"publish": services.publish, "close": services.close, "cancel": services.cancel}[action](
        actor(request), event
    )
    return services.get_visible_event(actor(request), id)
