"""Financing products over the API (/products).

Reads start from `Product.objects.visible_to(caller)`; writes and state
changes go through `chanrong.finance.services`. An enterprise caller gets,
with each product, whether it qualifies and which conditions it misses
(optionally for a stated amount, term and kind of demand).
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import InputSchema, ObjectId, Text, drop_null_default
from chanrong.core.scope import ScopeKind, scope_of

from . import eligibility as el
from . import services
from .models import Product, ProductKind, ProductState, RateType

router = Router(tags=["products 融资产品"])

WAN = Decimal(10000)
AmountWan = Annotated[float, Field(allow_inf_nan=False, description="万元")]
Percent = Annotated[float, Field(allow_inf_nan=False, description="年利率，百分比，如 4.35")]
Code = Text(40)
Codes = Annotated[list[Code], Field(max_length=200)]  # type: ignore[valid-type]


def _wan(value: Decimal | None) -> float | None:
    return None if value is None else float(value / WAN)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


class FindingOut(Schema):
    condition: str = Field(description="条件名：tax_grade、amount_max、regions …")
    message: str


class EligibilityOut(Schema):
    status: str = Field(description="eligible 符合 / unknown 需补充信息 / ineligible 不符合")
    failed: list[FindingOut]
    missing: list[FindingOut] = Field(description="未知的企业信息（需补充）")


def _eligibility_out(result: el.EligibilityResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "failed": [{"condition": f.condition, "message": f.message} for f in result.failed],
        "missing": [{"condition": f.condition, "message": f.message} for f in result.missing],
    }


class ProductOut(Schema):
    id: int
    institution_id: int
    institution_name: str
    branch_id: int | None
    name: str
    kind: ProductKind
    pledge_kind: str
    summary: str
    amount_min_wan: float
    amount_max_wan: float
    term_min_months: int
    term_max_months: int
    rate_type: RateType
    rate_min: float | None
    rate_max: float | None
    lpr_tenor: str
    spread_min: float | None = Field(description="LPR 加点下限（百分点）")
    spread_max: float | None
    effective_rate_min: float | None = Field(description="按当前 LPR 折算的最低年利率")
    effective_rate_max: float | None
    collateral_required: bool
    collateral_options: list[str]
    guarantee_options: list[str]
    regions: list[str] = Field(description="适用地区（行政区划代码，含下级）；空为不限")
    industries_in: list[str]
    industries_out: list[str]
    sizes: list[str]
    required_qualifications: list[str]
    required_lists: list[str]
    required_holdings: list[str] = Field(
        description="须持有的供应链资产（任一即可）：receivable / voucher / gov_procurement"
    )
    required_chain: int | None = Field(description="限定产业链的 id（链主和成员企业）")
    max_carbon_grade: int | None = Field(
        None, description="最低碳效等级（1–5，1 级最优）：企业最近年度碳效等级须不劣于此"
    )
    carbon_rate_adjustments: dict[str, str] = Field(
        default_factory=dict,
        description="按碳效等级调整利率（百分点，两位小数，负数为下调）："
        '{"1": "-0.30", "2": "-0.15"}；未列出的等级不调整',
    )
    min_tax_grade: str
    min_years: int | None
    min_revenue_wan: float | None
    exclude_blacklisted: bool
    processing_days: int | None = Field(description="承诺办理时限（工作日）")
    state: ProductState
    review_note: str
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    actions: list[str] = Field(description="调用者现在可以执行的操作")
    eligibility: EligibilityOut | None = Field(
        description="企业用户：本企业是否符合条件、缺哪些条件；其他用户为 null"
    )

    @staticmethod
    def resolve_institution_name(obj: Product) -> str:
        return str(obj.institution)

    @staticmethod
    def resolve_amount_min_wan(obj: Product) -> float:
        return _wan(obj.amount_min)

    @staticmethod
    def resolve_amount_max_wan(obj: Product) -> float:
        return _wan(obj.amount_max)

    @staticmethod
    def resolve_min_revenue_wan(obj: Product) -> float | None:
        return _wan(obj.min_revenue)

    @staticmethod
    def resolve_rate_min(obj: Product) -> float | None:
        return _float(obj.rate_min)

    @staticmethod
    def resolve_rate_max(obj: Product) -> float | None:
        return _float(obj.rate_max)

    @staticmethod
    def resolve_spread_min(obj: Product) -> float | None:
        return _float(obj.spread_min)

    @staticmethod
    def resolve_spread_max(obj: Product) -> float | None:
        return _float(obj.spread_max)

    @staticmethod
    def resolve_effective_rate_min(obj: Product) -> float | None:
        return _float(services.effective_rate_min(obj))

    @staticmethod
    def resolve_effective_rate_max(obj: Product) -> float | None:
        return _float(services.effective_rate_max(obj))

    @staticmethod
    def resolve_actions(obj: Product, context) -> list[str]:
        return services.available_actions(actor(context["request"]), obj)

    @staticmethod
    def resolve_eligibility(obj: Product, context) -> dict | None:
        request = context["request"]
        check = getattr(request, "_chanrong_eligibility", None)
        if check is None:
            return None
        return _eligibility_out(check(obj))


class DemandQuery(Schema):
    amount_wan: float | None = Field(
        None, allow_inf_nan=False, ge=0, description="需求金额（万元）"
    )
    term_months: int | None = Field(None, ge=1, le=600, description="需求期限（月）")
    demand_kind: str | None = Field(
        None, pattern="^(debt|equity|leasing|guarantee|insurance)$", description="需求类型"
    )


class ProductFilter(DemandQuery):
    q: Text(100) | None = Field(None, description="产品名称或机构名称包含")  # type: ignore[valid-type]
    kind: ProductKind | None = None
    institution_id: ObjectId | None = None
    state: ProductState | None = None
    eligible_only: bool = Field(
        False, description="企业用户：只列出没有不符合条件的产品（含需补充信息的）"
    )


def _demand_facts(query: DemandQuery) -> el.DemandFacts | None:
    if query.amount_wan is None and query.term_months is None and query.demand_kind is None:
        return None
    return el.DemandFacts(
        kind=query.demand_kind,
        amount=None if query.amount_wan is None else Decimal(str(query.amount_wan)) * WAN,
        term_months=query.term_months,
    )


def _install_eligibility(request, demand: el.DemandFacts | None) -> None:
    """For an enterprise caller, let ProductOut compute each product's eligibility."""
    user = actor(request)
    if scope_of(user).kind != ScopeKind.ENTERPRISE:
        return
    enterprise = user.enterprise
    cache: dict[int, el.EligibilityResult] = {}

    def check(product: Product) -> el.EligibilityResult:
        if product.pk not in cache:
            cache.update(services.evaluate_products([product], enterprise, demand))
        return cache[product.pk]

    request._chanrong_eligibility = check


@router.get("", response=responses({200: list[ProductOut]}, 422), summary="融资产品目录")
@paginated
def list_products(request, filters: Query[ProductFilter]):
    user = actor(request)
    queryset = Product.objects.visible_to(user).select_related("institution")
    if filters.q and filters.q.strip():
        text = filters.q.strip()
        queryset = queryset.filter(
            Q(name__icontains=text)
            | Q(institution__name__icontains=text)
            | Q(institution__short_name__icontains=text)
        )
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.institution_id:
        queryset = queryset.filter(institution_id=filters.institution_id)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    demand = _demand_facts(filters)
    _install_eligibility(request, demand)
    if filters.eligible_only and scope_of(user).kind == ScopeKind.ENTERPRISE:
        results = services.evaluate_products(queryset, user.enterprise, demand)
        queryset = queryset.filter(pk__in=[pk for pk, r in results.items() if r.possible])
    return queryset.order_by("institution__name", "name", "pk")


@router.get("/{id}", response=responses({200: ProductOut}, 404, 422), summary="融资产品详情")
def get_product(request, id: ObjectId, demand: Query[DemandQuery]):
    product = services.get_visible_product(actor(request), id)
    _install_eligibility(request, _demand_facts(demand))
    return product


@router.get(
    "/{id}/eligibility",
    response=responses({200: EligibilityOut}, 404, 422),
    summary="本企业是否符合该产品的条件",
)
def product_eligibility(request, id: ObjectId, demand: Query[DemandQuery]):
    user = actor(request)
    product = services.get_visible_product(user, id)
    if scope_of(user).kind != ScopeKind.ENTERPRISE:
        from chanrong.core.errors import NotAllowed

        raise NotAllowed(_("只有企业用户可以查看本企业的符合情况"))
    result = services.evaluate_products([product], user.enterprise, _demand_facts(demand))
    return _eligibility_out(result[product.pk])


_UNSET = {"default": None, "json_schema_extra": drop_null_default}


class ProductIn(InputSchema):
    name: Text(100, min_length=1)  # type: ignore[valid-type]
    kind: ProductKind
    pledge_kind: Code | None = Field(None, description="质押贷的质押物类型")  # type: ignore[valid-type]
    summary: Text(5000) | None = None  # type: ignore[valid-type]
    branch_id: ObjectId | None = Field(None, description="经办分支机构")
    amount_min_wan: AmountWan
    amount_max_wan: AmountWan
    term_min_months: int = Field(description="最短期限（月）")
    term_max_months: int = Field(description="最长期限（月）")
    rate_type: RateType | None = Field(None, description="fixed 固定利率 / lpr LPR 加点 / none")
    rate_min: Percent | None = None
    rate_max: Percent | None = None
    lpr_tenor: Code | None = Field(None, description="1y 或 5y")  # type: ignore[valid-type]
    spread_min: float | None = Field(None, allow_inf_nan=False, description="LPR 加点（百分点）")
    spread_max: float | None = Field(None, allow_inf_nan=False)
    collateral_required: StrictBool = False
    collateral_options: Codes = []
    guarantee_options: Codes = []
    regions: Codes = []
    industries_in: Codes = []
    industries_out: Codes = []
    sizes: Codes = []
    required_qualifications: Codes = []
    required_lists: Codes = []
    required_holdings: Codes = []
    required_chain: ObjectId | None = None
    max_carbon_grade: int | None = Field(None, ge=1, le=5, description="最低碳效等级（1–5）")
    carbon_rate_adjustments: dict[str, Any] | None = Field(
        None,
        description="按碳效等级调整利率：等级 1–5 → 百分点（-3.00～+3.00，最多两位小数），"
        '如 {"1": "-0.30", "2": "-0.15"}',
    )
    min_tax_grade: Code | None = None  # type: ignore[valid-type]
    min_years: int | None = None
    min_revenue_wan: AmountWan | None = None
    exclude_blacklisted: StrictBool = True
    processing_days: int | None = None


class ProductPatch(InputSchema):
    """Only the fields sent change; the merged whole is validated again."""

    name: Text(100, min_length=1) = Field(**_UNSET)  # type: ignore[valid-type]
    kind: ProductKind = Field(**_UNSET)
    pledge_kind: Code | None = None  # type: ignore[valid-type]
    summary: Text(5000) | None = None  # type: ignore[valid-type]
    branch_id: ObjectId | None = None
    amount_min_wan: AmountWan = Field(**_UNSET)
    amount_max_wan: AmountWan = Field(**_UNSET)
    term_min_months: int = Field(**_UNSET)
    term_max_months: int = Field(**_UNSET)
    rate_type: RateType = Field(**_UNSET)
    rate_min: Percent | None = None
    rate_max: Percent | None = None
    lpr_tenor: Code | None = None  # type: ignore[valid-type]
    spread_min: float | None = Field(None, allow_inf_nan=False)
    spread_max: float | None = Field(None, allow_inf_nan=False)
    collateral_required: StrictBool = Field(**_UNSET)
    collateral_options: Codes = Field(**_UNSET)
    guarantee_options: Codes = Field(**_UNSET)
    regions: Codes = Field(**_UNSET)
    industries_in: Codes = Field(**_UNSET)
    industries_out: Codes = Field(**_UNSET)
    sizes: Codes = Field(**_UNSET)
    required_qualifications: Codes = Field(**_UNSET)
    required_lists: Codes = Field(**_UNSET)
    required_holdings: Codes = Field(**_UNSET)
    required_chain: ObjectId | None = None
    max_carbon_grade: int | None = Field(None, ge=1, le=5, description="最低碳效等级（1–5）")
    carbon_rate_adjustments: dict[str, Any] | None = Field(
        None,
        description="按碳效等级调整利率：等级 1–5 → 百分点（-3.00～+3.00，最多两位小数），"
        '如 {"1": "-0.30", "2": "-0.15"}',
    )
    min_tax_grade: Code | None = None  # type: ignore[valid-type]
    min_years: int | None = None
    min_revenue_wan: AmountWan | None = None
    exclude_blacklisted: StrictBool = Field(**_UNSET)
    processing_days: int | None = None


class ReviewIn(InputSchema):
    note: Text(500) | None = Field(None, description="审核意见；退回时必填")  # type: ignore[valid-type]


@router.post("", response=responses({201: ProductOut}, 422), summary="新建融资产品（草稿）")
def create_product(request, payload: ProductIn):
    product = services.create_product(actor(request), payload.model_dump())
    return Status(201, product)


def _own(request, id: int) -> Product:
    return services.get_visible_product(actor(request), id)


@router.patch("/{id}", response=responses({200: ProductOut}, 404, 409, 422), summary="修改融资产品")
def update_product(request, id: ObjectId, payload: ProductPatch):
    product = _own(request, id)
    return services.update_product(actor(request), product, payload.model_dump(exclude_unset=True))


@router.post(
    "/{id}/publish",
    response=responses({200: ProductOut}, 404, 409, 422),
    summary="发布（需政府审核的部署中为提交审核）",
)
def publish_product(request, id: ObjectId):
    return services.publish_product(actor(request), _own(request, id))


@router.post("/{id}/withdraw", response=responses({200: ProductOut}, 404, 409), summary="下架")
def withdraw_product(request, id: ObjectId):
    return services.withdraw_product(actor(request), _own(request, id))


@router.post(
    "/{id}/approve", response=responses({200: ProductOut}, 404, 409, 422), summary="审核通过"
)
def approve_product(request, id: ObjectId, payload: ReviewIn):
    return services.review_product(
        actor(request), _own(request, id), approve=True, note=payload.note or ""
    )


@router.post("/{id}/reject", response=responses({200: ProductOut}, 404, 409, 422), summary="退回")
def reject_product(request, id: ObjectId, payload: ReviewIn):
    return services.review_product(
        actor(request), _own(request, id), approve=False, note=payload.note or ""
    )
