"""/webhooks: an institution's webhook endpoints and their delivery log.

For an institution manager (its own institution's endpoints) and platform
admins (all, without creating any); other callers see none (404 on any id).
The signing secret is in the answer to POST /webhooks only.

(No `from __future__ import annotations` here: django-ninja must see the
real path-parameter types of the paginated operations.)
"""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from ninja import Field, Query, Router, Schema, Status

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import InputSchema, ObjectId, Text

from . import services, webhooks
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks 事件推送"])

EventName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z_]+\.[a-z_]+$",
        description="事件名，见 GET /webhooks/events",
        examples=["dispatch.created"],
    ),
]


class WebhookEventOut(Schema):
    name: str
    label: str


class EndpointIn(InputSchema):
    url: Text(500, min_length=1) = Field(  # type: ignore[valid-type]
        description="接收地址（http:// 或 https://）",
        examples=["https://bank.example.com/chanrong/webhook"],
    )
    events: list[EventName] = Field(min_length=1, max_length=20, description="订阅的事件")
    description: Text(100) = Field("", description="说明")  # type: ignore[valid-type]


class EndpointOut(Schema):
    id: int
    institution_id: int
    url: str
    description: str
    events: list[str]
    active: bool
    secret_hint: str = Field(description="签名密钥的末四位（密钥本身只在创建时返回一次）")
    created_at: datetime
    deactivated_at: datetime | None


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(
        description="签名密钥：只在此响应中出现一次，请妥善保存。用于校验 X-Chanrong-Signature"
    )


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    event: str
    idempotency_key: UUID = Field(description="请求头 Idempotency-Key 的值；重发时不变")
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    redelivery_of_id: int | None
    payload: dict[str, Any]


class DeliveryFilter(Schema):
    status: DeliveryStatus | None = None
    event: Text(64) | None = None  # type: ignore[valid-type]


@router.get("/events", response=responses({200: list[WebhookEventOut]}), summary="可订阅的事件")
def list_events(request):
    return [{"name": name, "label": str(label)} for name, label in webhooks.EVENTS.items()]


@router.get("", response=responses({200: list[EndpointOut]}, 422), summary="接收地址列表")
@paginated
def list_endpoints(request):
    return WebhookEndpoint.objects.visible_to(actor(request)).order_by("-created_at", "-pk")


@router.post(
    "",
    response=responses({201: EndpointCreatedOut}, 400, 409, 413, 422),
    summary="登记接收地址（金融机构管理员）",
)
def create_endpoint(request, payload: EndpointIn):
    issued = services.create_endpoint(
        actor(request), url=payload.url, events=payload.events, description=payload.description
    )
    out = EndpointOut.from_orm(issued.endpoint).model_dump()
    return Status(201, {**out, "secret": issued.secret})


@router.get("/{id}", response=responses({200: EndpointOut}, 404, 422), summary="接收地址详情")
def get_endpoint(request, id: ObjectId):
    return services.get_visible_endpoint(actor(request), id)


@router.delete(
    "/{id}",
    response=responses({204: None}, 404, 422),
    summary="停用接收地址（投递记录保留；不再发送）",
)
def delete_endpoint(request, id: ObjectId):
    endpoint = services.get_visible_endpoint(actor(request), id)
    services.set_active(actor(request), endpoint, False)
    return Status(204, None)


@router.post(
    "/{id}/ping",
    response=responses({202: DeliveryOut}, 404, 409, 422),
    summary="发送测试事件 ping",
)
def ping_endpoint(request, id: ObjectId):
    endpoint = services.get_visible_endpoint(actor(request), id)
    return Status(202, services.send_ping(actor(request), endpoint))


@router.get(
    "/{id}/deliveries",
    response=responses({200: list[DeliveryOut]}, 404, 422),
    summary="投递记录",
)
@paginated
def list_deliveries(request, id: ObjectId, filters: Query[DeliveryFilter]):
    endpoint = services.get_visible_endpoint(actor(request), id)
    queryset = WebhookDelivery.objects.visible_to(actor(request)).filter(endpoint=endpoint)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.event:
        queryset = queryset.filter(event=filters.event)
    return queryset.order_by("-created_at", "-pk")


@router.get(
    "/deliveries/{id}", response=responses({200: DeliveryOut}, 404, 422), summary="投递详情"
)
def get_delivery(request, id: ObjectId):
    return services.get_visible_delivery(actor(request), id)


@router.post(
    "/deliveries/{id}/redeliver",
    response=responses({202: DeliveryOut}, 404, 409, 422),
    summary="重新发送（新投递，幂等键不变）",
)
def redeliver(request, id: ObjectId):
    delivery = services.get_visible_delivery(actor(request), id)
    return Status(202, services.redeliver(actor(request), delivery))
