"""Financing demands over the API: `router` (mount at /demands) for the
enterprise's side and reading, `dispatch_router` (mount at /dispatches) for
an institution's own system: list, claim, decline, offer, result.

Reads start from each model's `visible_to(caller)`; every write is a service
call whose errors (403 not this actor, 409 not from this state, 422 bad
input) become the API's error shape. An institution never sees another
institution's offer, nor the outcome figures of a deal that went elsewhere.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool, create_model

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.compiled import CompiledList, passed_on
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import InputSchema, ObjectId, Text, drop_null_default
from chanrong.core.errors import NotFound
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.finance.models import FinancialInstitution

from . import services
from .models import (
    Demand,
    DemandKind,
    DemandState,
    Dispatch,
    DispatchState,
    Offer,
    Urgency,
)

router = Router(tags=["demands 融资需求"])
dispatch_router = Router(tags=["dispatches 派单（金融机构）"])

WAN = Decimal(10000)
AmountWan = Annotated[float, Field(allow_inf_nan=False, description="万元，JSON 数字")]
Percent = Annotated[float, Field(allow_inf_nan=False, description="年利率，百分比，如 4.35")]
_UNSET = {"default": None, "json_schema_extra": drop_null_default}


def _wan(value: Decimal | None) -> float | None:
    return None if value is None else float(value / WAN)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _other_institution(context, demand: Demand) -> bool:
    """True when the caller is an institution that did not win this demand:
    it must not see the outcome of another institution's offer."""
    scope = scope_of(actor(context["request"]))
    return (
        scope.kind == ScopeKind.INSTITUTION
        and demand.outcome_institution_id != scope.institution_id
    )


class DemandOut(Schema):
    id: int
    enterprise_id: int
    enterprise_name: str
    region_code: str
    region_name: str
    industry_code: str
    kind: DemandKind
    amount_wan: float
    term_months: int
    purpose: str
    description: str
    rate_max: float | None = Field(description="可接受的最高年利率（%）")
    collateral_offered: list[str]
    urgency: Urgency
    preferred_institution_ids: list[int]
    share_profile: bool
    project_id: int | None = Field(description="关联的重点项目（本企业的项目）")
    project_name: str | None
    state: DemandState
    exclusive: bool
    round: int
    published_at: datetime | None
    closed_at: datetime | None
    accepted_offer_id: int | None
    outcome_institution_id: int | None
    granted_amount_wan: float | None
    disbursed_amount_wan: float | None
    disbursed_rate: float | None
    disbursed_term_months: int | None
    disbursed_on: date | None
    rejection_reason: str
    withdraw_reason: str
    created_at: datetime
    updated_at: datetime
    actions: list[str] = Field(description="调用者现在可以执行的操作")

    @staticmethod
    def resolve_enterprise_name(obj: Demand) -> str:
        return obj.enterprise.name

    @staticmethod
    def resolve_region_code(obj: Demand) -> str:
        return obj.enterprise.region_id

    @staticmethod
    def resolve_region_name(obj: Demand) -> str:
        return obj.enterprise.region.full_name

    @staticmethod
    def resolve_industry_code(obj: Demand) -> str:
        return obj.enterprise.industry_id

    @staticmethod
    def resolve_amount_wan(obj: Demand) -> float:
        return _wan(obj.amount)

    @staticmethod
    def resolve_rate_max(obj: Demand) -> float | None:
        return _float(obj.rate_max)

    @staticmethod
    def resolve_preferred_institution_ids(obj: Demand, context) -> list[int]:
        ids = obj.preferred_institution_ids()
        scope = scope_of(actor(context["request"]))
        if scope.kind == ScopeKind.INSTITUTION:
            return [pk for pk in ids if pk == scope.institution_id]
        return ids

    @staticmethod
    def resolve_project_name(obj: Demand) -> str | None:
        return obj.project.name if obj.project_id else None

    @staticmethod
    def resolve_accepted_offer_id(obj: Demand, context) -> int | None:
        return None if _other_institution(context, obj) else obj.accepted_offer_id

    @staticmethod
    def resolve_outcome_institution_id(obj: Demand, context) -> int | None:
        return None if _other_institution(context, obj) else obj.outcome_institution_id

    @staticmethod
    def resolve_granted_amount_wan(obj: Demand, context) -> float | None:
        return None if _other_institution(context, obj) else _wan(obj.granted_amount)

    @staticmethod
    def resolve_disbursed_amount_wan(obj: Demand, context) -> float | None:
        return None if _other_institution(context, obj) else _wan(obj.disbursed_amount)

    @staticmethod
    def resolve_disbursed_rate(obj: Demand, context) -> float | None:
        return None if _other_institution(context, obj) else _float(obj.disbursed_rate)

    @staticmethod
    def resolve_disbursed_term_months(obj: Demand, context) -> int | None:
        return None if _other_institution(context, obj) else obj.disbursed_term_months

    @staticmethod
    def resolve_disbursed_on(obj: Demand, context) -> date | None:
        return None if _other_institution(context, obj) else obj.disbursed_on

    @staticmethod
    def resolve_rejection_reason(obj: Demand, context) -> str:
        return "" if _other_institution(context, obj) else obj.rejection_reason

    @staticmethod
    def resolve_actions(obj: Demand, context) -> list[str]:
        return services.demand_actions(actor(context["request"]), obj)


class DispatchOut(Schema):
    id: int
    demand_id: int
    institution_id: int
    institution_name: str
    branch_id: int | None
    branch_name: str | None
    state: DispatchState
    exclusive: bool
    round: int
    preferred: bool
    matched_products: list[int] = Field(description="需求可能符合的本机构产品")
    dispatched_at: datetime
    claim_due_at: datetime = Field(description="接单期限（工作日计）")
    claimed_at: datetime | None
    decide_due_at: datetime | None = Field(description="办理期限（工作日计）")
    decided_at: datetime | None
    decline_reason: str
    actions: list[str]

    @staticmethod
    def resolve_institution_name(obj: Dispatch) -> str:
        return str(obj.institution)

    @staticmethod
    def resolve_branch_name(obj: Dispatch) -> str | None:
        return obj.branch.name if obj.branch_id else None

    @staticmethod
    def resolve_actions(obj: Dispatch, context) -> list[str]:
        return services.dispatch_actions(actor(context["request"]), obj)


#: The rows of GET /dispatches: DispatchOut's fields as a plain pydantic
#: model, filled from one narrow query (no model instances, no per-row
#: resolvers); see `DispatchRows`.
_LIST_FIELDS = {name: (info.annotation, info) for name, info in DispatchOut.model_fields.items()}
#: Columns the response copies in as the database sent them: the JSON text
#: (`raw_json` below) and, on PostgreSQL, the datetimes (`raw_datetime`).
_PASSED_ON_JSON = ("matched_products",)
_PASSED_ON_DATETIMES = (
    "dispatched_at",
    "claim_due_at",
    "claimed_at",
    "decide_due_at",
    "decided_at",
)
_LIST_FIELDS.update(
    (name, (passed_on(info.annotation), info))
    for name, info in DispatchOut.model_fields.items()
    if name in _PASSED_ON_JSON + _PASSED_ON_DATETIMES
)
DispatchListItem = create_model(
    "DispatchListItem", __doc__="派单列表的一行（字段同 DispatchOut）", **_LIST_FIELDS
)


class _DemandView:
    __slots__ = ("state", "exclusive", "enterprise_id")

    def __init__(self, state: str, exclusive: bool, enterprise_id: int):
        self.state, self.exclusive, self.enterprise_id = state, exclusive, enterprise_id


class _DispatchView:
    """What `services.dispatch_actions` reads of a dispatch and its demand."""

    __slots__ = ("state", "institution_id", "demand_id", "demand")

    def __init__(self, state: str, institution_id: int, demand_id: int, demand: _DemandView):
        self.state, self.institution_id = state, institution_id
        self.demand_id, self.demand = demand_id, demand


class DispatchRows:
    """The caller's dispatches (optionally in one state) as the paginator sees
    them (count, slice), whose slices are DispatchListItem dicts read as value
    tuples. Both statements are compiled once per (scope, state) and thread
    (`core.apikit.compiled.CompiledList`): `Dispatch.objects.visible_to`
    depends on the caller's scope alone."""

    COLUMNS = (
        "id", "demand_id", "institution_id", "institution__name", "institution__short_name",
        "branch_id", "branch__name", "state", "exclusive", "round", "preferred",
        "matched_products", "dispatched_at", "claim_due_at", "claimed_at", "decide_due_at",
        "decided_at", "decline_reason", "demand__state", "demand__exclusive",
        "demand__enterprise_id",
    )  # fmt: skip

    def __init__(self, caller, state: str | None = None):
        self.caller = caller
        self.state = state
        self.shape = (scope_of(caller), state)

    @staticmethod
    def queryset(caller, state: str | None = None):
        queryset = Dispatch.objects.visible_to(caller).order_by("-dispatched_at", "-pk")
        if state:
            queryset = queryset.filter(state=state)
        return queryset

    def all(self) -> "DispatchRows":
        return self

    def count(self) -> int:
        return _DISPATCH_LIST.count(self.shape, self)

    def __getitem__(self, window: slice) -> list[dict]:
        offset = window.start or 0
        limit = window.stop - offset
        actions: dict[tuple, list[str]] = {}
        rows = []
        for (
            pk, demand_id, institution_id, institution_name, institution_short_name,
            branch_id, branch_name, state, exclusive, round_, preferred, matched_products,
            dispatched_at, claim_due_at, claimed_at, decide_due_at, decided_at,
            decline_reason, demand_state, demand_exclusive, enterprise_id,
        ) in _DISPATCH_LIST.rows(self.shape, self, offset, limit):  # fmt: skip
            key = (state, institution_id, demand_state, demand_exclusive, enterprise_id)
            if key not in actions:
                demand = _DemandView(demand_state, demand_exclusive, enterprise_id)
                view = _DispatchView(state, institution_id, demand_id, demand)
                actions[key] = services.dispatch_actions(self.caller, view)
            rows.append(
                {
                    "id": pk,
                    "demand_id": demand_id,
                    "institution_id": institution_id,
                    "institution_name": institution_short_name or institution_name,
                    "branch_id": branch_id,
                    "branch_name": branch_name if branch_id else None,
                    "state": state,
                    "exclusive": exclusive,
                    "round": round_,
                    "preferred": preferred,
                    "matched_products": matched_products,
                    "dispatched_at": dispatched_at,
                    "claim_due_at": claim_due_at,
                    "claimed_at": claimed_at,
                    "decide_due_at": decide_due_at,
                    "decided_at": decided_at,
                    "decline_reason": decline_reason,
                    "actions": list(actions[key]),
                }
            )
        return rows


_DISPATCH_LIST = CompiledList(
    lambda rows: DispatchRows.queryset(rows.caller, rows.state),
    DispatchRows.COLUMNS,
    raw_json=_PASSED_ON_JSON,
    raw_datetime=_PASSED_ON_DATETIMES,
)


class DispatchDetailOut(DispatchOut):
    demand: DemandOut


class OfferOut(Schema):
    id: int
    demand_id: int
    dispatch_id: int
    institution_id: int
    institution_name: str
    product_id: int | None
    amount_wan: float
    rate: float | None
    term_months: int
    terms: str
    status: DispatchState = Field(description="方案状态（即派单状态）")
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None

    @staticmethod
    def resolve_institution_name(obj: Offer) -> str:
        return str(obj.institution)

    @staticmethod
    def resolve_amount_wan(obj: Offer) -> float:
        return _wan(obj.amount)

    @staticmethod
    def resolve_rate(obj: Offer) -> float | None:
        return _float(obj.rate)

    @staticmethod
    def resolve_status(obj: Offer) -> str:
        return obj.dispatch.state


class DemandEventOut(Schema):
    id: int
    created_at: datetime
    actor_name: str
    verb: str
    message: str


class DemandIn(InputSchema):
    kind: DemandKind
    amount_wan: AmountWan
    term_months: int = Field(description="期限（月）")
    purpose: Text(200, min_length=1) = Field(description="资金用途")  # type: ignore[valid-type]
    description: Text(5000) | None = None  # type: ignore[valid-type]
    rate_max: Percent | None = None
    collateral_offered: list[Text(20)] = Field(  # type: ignore[valid-type]
        [], max_length=20, description="可提供的抵质押物（代码）"
    )
    urgency: Urgency = Urgency.NORMAL
    preferred_institution_ids: list[ObjectId] = Field(
        [], max_length=50, description="意向金融机构（最多 10 家）"
    )
    share_profile: StrictBool = Field(False, description="向派单机构授权查看企业信息")
    project_id: ObjectId | None = Field(None, description="关联的重点项目（本企业的项目）")


class DemandPatch(InputSchema):
    kind: DemandKind = Field(**_UNSET)
    amount_wan: AmountWan = Field(**_UNSET)
    term_months: int = Field(**_UNSET)
    purpose: Text(200, min_length=1) = Field(**_UNSET)  # type: ignore[valid-type]
    description: Text(5000) | None = None  # type: ignore[valid-type]
    rate_max: Percent | None = None
    collateral_offered: list[Text(20)] = Field(max_length=20, **_UNSET)  # type: ignore[valid-type]
    urgency: Urgency = Field(**_UNSET)
    preferred_institution_ids: list[ObjectId] = Field(**_UNSET)
    share_profile: StrictBool = Field(**_UNSET)
    project_id: ObjectId | None = Field(**_UNSET)


class DemandReasonIn(InputSchema):
    reason: Text(500) | None = None  # type: ignore[valid-type]


class FeedbackIn(InputSchema):
    institution_id: ObjectId
    score: int = Field(description="1–5")
    comment: Text(500) | None = None  # type: ignore[valid-type]


class FeedbackOut(Schema):
    id: int
    demand_id: int
    institution_id: int
    score: int
    comment: str
    created_at: datetime


class AuthorisationIn(InputSchema):
    institution_id: ObjectId


class OfferIn(InputSchema):
    amount_wan: AmountWan
    rate: Percent | None = None
    term_months: int
    terms: Text(5000) | None = Field(None, description="方案说明")  # type: ignore[valid-type]
    product_id: ObjectId | None = None


class ResultIn(InputSchema):
    outcome: str = Field(
        pattern="^(granted|disbursed|rejected)$",
        description="granted 已授信 / disbursed 已放款 / rejected 未获批",
    )
    amount_wan: AmountWan | None = Field(None, description="授信或放款金额（万元）")
    rate: Percent | None = Field(None, description="放款年利率")
    term_months: int | None = Field(None, description="放款期限（月）")
    disbursed_on: date | None = None
    reason: Text(500) | None = Field(None, description="未获批原因")  # type: ignore[valid-type]


class DemandFilter(Schema):
    state: DemandState | None = None
    kind: DemandKind | None = None


class DispatchFilter(Schema):
    state: DispatchState | None = None


def _demands(request):
    return Demand.objects.visible_to(actor(request)).select_related(
        "enterprise__region__parent__parent", "project"
    )


# --- /demands -------------------------------------------------------------------------------


@router.get("", response=responses({200: list[DemandOut]}, 422), summary="融资需求列表")
@paginated
def list_demands(request, filters: Query[DemandFilter]):
    queryset = _demands(request)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    return queryset.order_by("-created_at", "-pk")


@router.post("", response=responses({201: DemandOut}, 422), summary="新建融资需求（草稿）")
def create_demand(request, payload: DemandIn):
    demand = services.create_demand(actor(request), payload.model_dump())
    return Status(201, demand)


@router.get("/{id}", response=responses({200: DemandOut}, 404, 422), summary="融资需求详情")
def get_demand(request, id: ObjectId):
    return services.get_visible_demand(actor(request), id)


@router.patch(
    "/{id}", response=responses({200: DemandOut}, 404, 409, 422), summary="修改融资需求（草稿）"
)
def update_demand(request, id: ObjectId, payload: DemandPatch):
    demand = services.get_visible_demand(actor(request), id)
    return services.update_demand(actor(request), demand, payload.model_dump(exclude_unset=True))


@router.post(
    "/{id}/publish",
    response=responses({200: DemandOut}, 404, 409),
    summary="发布并立即派单",
)
def publish_demand(request, id: ObjectId):
    demand = services.get_visible_demand(actor(request), id)
    return services.publish_demand(actor(request), demand)


@router.post("/{id}/withdraw", response=responses({200: DemandOut}, 404, 409, 422), summary="撤回")
def withdraw_demand(request, id: ObjectId, payload: DemandReasonIn):
    demand = services.get_visible_demand(actor(request), id)
    return services.withdraw_demand(actor(request), demand, payload.reason or "")


@router.post("/{id}/redispatch", response=responses({200: DemandOut}, 404, 409), summary="重新派单")
def redispatch_demand(request, id: ObjectId):
    demand = services.get_visible_demand(actor(request), id)
    return services.redispatch_demand(actor(request), demand)


@router.get(
    "/{id}/dispatches",
    response=responses({200: list[DispatchOut]}, 404, 422),
    summary="需求的派单（机构只看到自己的）",
)
def demand_dispatches(request, id: ObjectId):
    demand = services.get_visible_demand(actor(request), id)
    return list(
        Dispatch.objects.visible_to(actor(request))
        .filter(demand=demand)
        .select_related("institution", "branch", "demand")
        .order_by("pk")
    )


@router.get(
    "/{id}/offers",
    response=responses({200: list[OfferOut]}, 404, 422),
    summary="需求收到的融资方案（机构只看到自己的）",
)
def demand_offers(request, id: ObjectId):
    demand = services.get_visible_demand(actor(request), id)
    return list(
        Offer.objects.visible_to(actor(request))
        .filter(demand=demand)
        .select_related("institution", "dispatch")
        .order_by("pk")
    )


@router.post(
    "/{id}/offers/{offer_id}/accept",
    response=responses({200: OfferOut}, 404, 409, 422),
    summary="采纳一个融资方案",
)
def accept_offer(request, id: ObjectId, offer_id: ObjectId):
    demand = services.get_visible_demand(actor(request), id)
    offer = services.get_visible_offer(actor(request), offer_id)
    if offer.demand_id != demand.pk:
        raise NotFound(_("融资方案不存在"))
    return services.accept_offer(actor(request), offer)


@router.get(
    "/{id}/events",
    response=responses({200: list[DemandEventOut]}, 404, 422),
    summary="需求动态（时间线）",
)
def demand_events(request, id: ObjectId):
    demand = services.get_visible_demand(actor(request), id)
    return list(services.timeline(actor(request), demand))


@router.post(
    "/{id}/feedback",
    response=responses({201: FeedbackOut}, 404, 409, 422),
    summary="评价机构的服务（需求结束后，每家机构一次）",
)
def leave_feedback(request, id: ObjectId, payload: FeedbackIn):
    demand = services.get_visible_demand(actor(request), id)
    feedback = services.leave_feedback(
        actor(request), demand, payload.institution_id, payload.score, payload.comment or ""
    )
    return Status(201, feedback)


def _institution(pk: int) -> FinancialInstitution:
    institution = FinancialInstitution.objects.filter(pk=pk).first()
    if institution is None:
        raise NotFound(_("金融机构不存在"))
    return institution


@router.post(
    "/{id}/authorisations",
    response=responses({204: None}, 404, 422),
    summary="授权机构查看本企业信息",
)
def authorise(request, id: ObjectId, payload: AuthorisationIn):
    demand = services.get_visible_demand(actor(request), id)
    services.authorise_institution(actor(request), demand, _institution(payload.institution_id))
    return Status(204, None)


@router.delete(
    "/{id}/authorisations/{institution_id}",
    response=responses({204: None}, 404, 422),
    summary="撤销授权",
)
def revoke(request, id: ObjectId, institution_id: ObjectId):
    demand = services.get_visible_demand(actor(request), id)
    services.revoke_institution(actor(request), demand, _institution(institution_id))
    return Status(204, None)


# --- /dispatches ----------------------------------------------------------------------------


@dispatch_router.get(
    "", response=responses({200: list[DispatchListItem]}, 422), summary="派给本机构的需求"
)
@paginated
def list_dispatches(request, filters: Query[DispatchFilter]):
    return DispatchRows(actor(request), filters.state)


def _dispatch(request, id: int) -> Dispatch:
    return services.get_visible_dispatch(actor(request), id)


@dispatch_router.get(
    "/{id}", response=responses({200: DispatchDetailOut}, 404, 422), summary="派单详情"
)
def get_dispatch(request, id: ObjectId):
    return _dispatch(request, id)


@dispatch_router.post(
    "/{id}/claim", response=responses({200: DispatchOut}, 404, 409), summary="接单"
)
def claim(request, id: ObjectId):
    return services.claim_dispatch(actor(request), _dispatch(request, id))


@dispatch_router.post(
    "/{id}/decline", response=responses({200: DispatchOut}, 404, 409, 422), summary="谢绝"
)
def decline(request, id: ObjectId, payload: DemandReasonIn):
    return services.decline_dispatch(actor(request), _dispatch(request, id), payload.reason or "")


@dispatch_router.post(
    "/{id}/offer",
    response=responses({200: OfferOut}, 404, 409, 422),
    summary="提交或修改融资方案",
)
def offer(request, id: ObjectId, payload: OfferIn):
    return services.make_offer(actor(request), _dispatch(request, id), payload.model_dump())


@dispatch_router.post(
    "/{id}/result",
    response=responses({200: DemandOut}, 404, 409, 422),
    summary="反馈结果：已授信、已放款（金额、利率、期限、日期）或未获批（原因）",
)
def result(request, id: ObjectId, payload: ResultIn):
    data = payload.model_dump()
    outcome = data.pop("outcome")
    return services.record_result(actor(request), _dispatch(request, id), outcome, data)
