"""Matching over the API (mounted at the API root, one router):

- `GET /demands/{id}/matches`: ranked products and institutions with their
  top reasons, the "why not" list and the policy weights in force. The
  demand's enterprise, government in scope and platform admins see
  everything; an institution sees only its own products' entries.
- `GET /institutions/me/matches/demands`: open demands the caller's
  institution could serve, among those it may see.
- `GET /institutions/me/outreach`: enterprises on published lists that fit
  the institution's products and have not posted a demand (推荐清单).
- `GET/PUT /policy-weights/{region_code}`: the policy weights in force for a
  region (anyone signed in), and setting them (government in scope,
  platform admin).

Visibility and privacy live in `matching.access`; writes in
`matching.policy`. Handlers only translate.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import InputSchema, ObjectId, RegionCode
from chanrong.core.errors import FieldError, NotFound, ValidationFailed
from chanrong.core.models import Region

from . import access, policy
from .models import PolicyWeights

router = Router(tags=["matching 产融对接匹配"])

Weight = Annotated[
    float, Field(strict=True, allow_inf_nan=False, ge=0, le=5, description="权重，0–5，JSON 数字")
]


class MatchOut(Schema):
    product_id: int
    product_name: str
    institution_id: int
    institution_name: str
    score: float = Field(description="综合得分，越高越匹配")
    probability: float | None = Field(description="模型预测的获批概率（无模型时为空）")
    reasons: list[str] = Field(description="主要推荐理由")
    eligible: bool
    failed: list[str] = Field(description="不满足的条件（为什么不推荐）")
    missing: list[str] = Field(description="需补充的信息：“需补充：…”")


class InstitutionMatchOut(Schema):
    institution_id: int
    institution_name: str
    score: float
    best_product_id: int
    best_product_name: str
    reasons: list[str]


class PolicyWeightsBody(Schema):
    white_list: float = Field(description="白名单")
    specialised: float = Field(description="专精特新")
    tech: float = Field(description="科创")
    green: float = Field(description="绿色")


class WeightsInForceOut(Schema):
    weights: PolicyWeightsBody
    region_code: str = Field(description="设置这组权重的地区代码；空 = 平台默认")
    region_name: str


class DemandMatchesOut(Schema):
    demand_id: int
    view: Literal["full", "own"] = Field(
        description="full：完整排序；own：金融机构只看到本机构产品的条目"
    )
    ranked: list[MatchOut]
    institutions: list[InstitutionMatchOut]
    not_eligible: list[MatchOut] = Field(description="不推荐的产品及原因")
    policy_weights: WeightsInForceOut


def _weights_out(weights: access.WeightsInForce) -> dict:
    return {
        "weights": weights.weights,
        "region_code": weights.region_code,
        "region_name": weights.region_name,
    }


@router.get(
    "/demands/{id}/matches",
    response=responses({200: DemandMatchesOut}, 404, 422),
    summary="融资需求的匹配结果（机构只看到本机构的产品）",
)
def demand_matches(request, id: ObjectId):
    view = access.demand_matches(actor(request), id)
    return {
        "demand_id": view.demand_id,
        "view": "full" if view.full else "own",
        "ranked": view.ranked,
        "institutions": view.institutions,
        "not_eligible": view.not_eligible,
        "policy_weights": _weights_out(view.weights),
    }


class RankedDemandOut(Schema):
    demand_id: int
    enterprise_name: str
    region_code: str
    region_name: str
    kind: str
    amount_wan: float
    term_months: int
    state: str
    score: float
    best_product_id: int
    best_product_name: str
    reasons: list[str]


def _wan(value: Decimal | None) -> float | None:
    return None if value is None else float(value / Decimal(10000))


@router.get(
    "/institutions/me/matches/demands",
    response=responses({200: list[RankedDemandOut]}, 404, 422),
    summary="本机构可服务的融资需求（按匹配度排序）",
)
@paginated
def my_ranked_demands(request):
    rows = access.institution_demands(actor(request), limit=access.MAX_LIST_LIMIT)
    return [
        {
            "demand_id": r.demand.pk,
            "enterprise_name": r.demand.enterprise.name,
            "region_code": r.demand.enterprise.region_id,
            "region_name": r.demand.enterprise.region.name,
            "kind": r.demand.kind,
            "amount_wan": _wan(r.demand.amount),
            "term_months": r.demand.term_months,
            "state": r.demand.state,
            "score": r.score,
            "best_product_id": r.best_product_id,
            "best_product_name": r.best_product_name,
            "reasons": r.reasons,
        }
        for r in rows
    ]


class OutreachProfileOut(Schema):
    uscc: str
    industry_code: str
    size: str
    employees: int | None
    revenue_wan: float | None


class OutreachOut(Schema):
    enterprise_id: int
    enterprise_name: str
    region_code: str
    region_name: str
    lists: list[str] = Field(description="企业所在的已发布名单")
    score: float
    best_product_id: int
    best_product_name: str
    reasons: list[str]
    authorised: bool = Field(description="企业是否已授权本机构查看其信息")
    profile: OutreachProfileOut | None = Field(description="仅在企业授权本机构后提供")


@router.get(
    "/institutions/me/outreach",
    response=responses({200: list[OutreachOut]}, 404, 422),
    summary="主动对接推荐清单（名单内、尚未发布需求、适合本机构产品的企业）",
)
@paginated
def my_outreach(request, group: str = ""):
    """`group`: only enterprises of that policy group (e.g. `no_loan`, 无贷户 — 首贷培育)."""
    from chanrong.insights.groups import group as policy_group

    if group and policy_group(group) is None:
        raise ValidationFailed(
            [FieldError("group", _("未知的企业群体：%(g)s") % {"g": group[:40]})]
        )
    return access.institution_outreach(actor(request), limit=access.MAX_LIST_LIMIT, group=group)


class PolicyWeightsOut(Schema):
    region_code: str
    region_name: str
    weights: PolicyWeightsBody = Field(description="对该地区生效的权重")
    source_region_code: str = Field(description="生效权重的设置地区；空 = 平台默认")
    source_region_name: str
    own: PolicyWeightsBody | None = Field(description="该地区自身设置的权重（未设置为空）")
    updated_at: datetime | None
    can_edit: bool = Field(description="调用者能否设置该地区的权重")


class PolicyWeightsIn(InputSchema):
    white_list: Weight
    specialised: Weight
    tech: Weight
    green: Weight


def _region(code: str) -> Region:
    region = Region.objects.filter(pk=code).select_related("parent__parent").first()
    if region is None:
        raise NotFound(_("地区不存在"))
    return region


def _policy_out(user, region: Region) -> dict:
    weights, source = policy.weights_for_region(region.code)
    in_force = access.weights_in_force(weights, source)
    own = PolicyWeights.objects.filter(region=region).first()
    return {
        "region_code": region.code,
        "region_name": region.full_name,
        "weights": weights,
        "source_region_code": source,
        "source_region_name": in_force.region_name,
        "own": policy.complete_weights(own.weights) if own else None,
        "updated_at": own.updated_at if own else None,
        "can_edit": policy.can_set_weights(user, region),
    }


@router.get(
    "/policy-weights/{region_code}",
    response=responses({200: PolicyWeightsOut}, 404, 422),
    summary="地区生效的政策权重",
)
def get_policy_weights(request, region_code: RegionCode):
    return _policy_out(actor(request), _region(region_code))


@router.put(
    "/policy-weights/{region_code}",
    response=responses({200: PolicyWeightsOut}, 404, 422),
    summary="设置本地区的政策权重（辖区政府、平台管理员）",
)
def put_policy_weights(request, region_code: RegionCode, payload: PolicyWeightsIn):
    region = _region(region_code)
    policy.set_weights(actor(request), region, payload.model_dump())
    return _policy_out(actor(request), region)
