"""/api/v1/exchange.

Machine to machine (no user, `auth=None`; the Ed25519 signature is the
authentication, see docs/exchange.md):
- GET  /identity   this deployment's public identity and key
- POST /register   a child's registration (one-time code, proof of key)
- POST /batches    a child pushes a signed batch; 201 with the ack, or 4xx
                   with the error shape and a stable `code`
- POST /outbox     a registered parent pulls (signed request headers; POST
                   because each call is an authenticated, logged request)

For users (government of the region, the platform admin), scoped by
`visible_to`: the received figures, and both delivery logs.

(No `from __future__ import annotations`: ninja must see the real types.)
"""

from django.http import HttpRequest, JsonResponse
from ninja import Query, Router

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated

from .api_schemas import (
    BatchFilter,
    FigureFilter,
    FigureOut,
    IdentityOut,
    InboundOut,
    OutboundOut,
)
from .models import InboundBatch, OutboundBatch, ReceivedFigure
from .services import envelope, identity, inbox, outbox, peers
from .services.envelope import Refused

router = Router(tags=["exchange 互联互通"])


def _remote(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _refused(refusal: Refused) -> JsonResponse:
    body = {"code": refusal.code, "message": refusal.message, "errors": []}
    if getattr(refusal, "digest", None):
        body["digest"] = refusal.digest
    return JsonResponse(body, status=refusal.status, json_dumps_params={"ensure_ascii": False})


@router.get(
    "/identity", response=responses({200: IdentityOut}), auth=None, summary="本平台的互联身份与公钥"
)
def get_identity(request):
    me = identity.ensure()
    return {
        "deployment_id": str(me.deployment_id),
        "name": me.name,
        "region": me.region_code,
        "public_key": me.public_key,
        "key_id": envelope.key_id(me.public_key),
        "format_version": envelope.FORMAT_VERSION,
    }


@router.post(
    "/register", auth=None, summary="下级平台注册（一次性注册码 + 公钥）", include_in_schema=True
)
def register(request):
    try:
        answer = peers.accept_registration(request.body, remote_addr=_remote(request))
    except Refused as refusal:
        inbox.log_refusal(
            refusal, endpoint="register", body=request.body, remote_addr=_remote(request)
        )
        return _refused(refusal)
    return JsonResponse(answer, status=201, json_dumps_params={"ensure_ascii": False})


@router.post("/batches", auth=None, summary="接收下级平台报送的签名批次")
def receive_batch(request):
    try:
        answer = inbox.receive(request.body, remote_addr=_remote(request))
    except Refused as refusal:
        return _refused(refusal)
    return JsonResponse(answer, status=201)


@router.post("/outbox", auth=None, summary="上级平台拉取本平台待报送批次（签名请求）")
def pull_outbox(request, after: int = 0):
    path = request.get_full_path()
    try:
        peer = inbox.check_pull(
            request.headers.get("X-Chanrong-Deployment", ""),
            request.headers.get("X-Chanrong-Timestamp", ""),
            request.headers.get("X-Chanrong-Signature", ""),
            path,
        )
    except Refused as refusal:
        inbox.log_refusal(
            refusal,
            endpoint="outbox",
            remote_addr=_remote(request),
            sender=request.headers.get("X-Chanrong-Deployment", ""),
        )
        return _refused(refusal)
    return JsonResponse(
        {"batches": outbox.outbox_for(peer, max(0, after))},
        json_dumps_params={"ensure_ascii": False},
    )


def _viewer(request):
    """Lists answer what `visible_to` leaves: nothing (an empty page) for
    enterprises and institutions."""
    return actor(request)


@router.get(
    "/received-figures",
    response=responses({200: list[FigureOut]}, 422),
    summary="下级平台报送的数据（注明来源）",
)
@paginated
def received_figures(request, filters: Query[FigureFilter]):
    # Only the batch's id is shown: not its document, as received and decoded.
    qs = (
        ReceivedFigure.objects.visible_to(_viewer(request))
        .select_related("peer", "batch")
        .defer("batch__payload", "batch__body")
    )
    for field, value in (
        ("peer_id", filters.peer),
        ("region_code__startswith", filters.region),
        ("period", filters.period),
        ("kind", filters.kind),
        ("key", filters.key),
    ):
        if value:
            qs = qs.filter(**{field: value})
    return qs.order_by("-period", "region_code", "key", "pk")


@router.get(
    "/outbound",
    response=responses({200: list[OutboundOut]}, 422),
    summary="报送日志（本平台发出的批次）",
)
@paginated
def outbound_log(request, filters: Query[BatchFilter]):
    qs = OutboundBatch.objects.visible_to(_viewer(request)).select_related("peer")
    for field, value in (
        ("peer_id", filters.peer),
        ("kind", filters.kind),
        ("state", filters.state),
    ):
        if value:
            qs = qs.filter(**{field: value})
    return qs.defer("body")


@router.get(
    "/inbound",
    response=responses({200: list[InboundOut]}, 422),
    summary="接收日志（下级平台报送的批次）",
)
@paginated
def inbound_log(request, filters: Query[BatchFilter]):
    qs = InboundBatch.objects.visible_to(_viewer(request)).select_related("peer")
    for field, value in (("peer_id", filters.peer), ("kind", filters.kind)):
        if value:
            qs = qs.filter(**{field: value})
    return qs.defer("body", "payload")
