"""The demo's financing products: for every institution, the templates of
its kind (banks: 信用贷, 抵押贷, 质押贷, 税易贷, 科创贷, 绿色信贷 …; guarantee
companies 担保贷; insurers 保险; leasing 融资租赁; securities 债券; funds 股权投资;
micro-loan companies small 信用贷) within its footprint (a county bank lends
in 嘉善 only). Split from builders/demands.py, which builds the demands on
these products; same random stream, same rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from chanrong.finance.models import (
    CollateralKind,
    FinancialInstitution,
    GuaranteeKind,
    InstitutionKind,
    LprTenor,
    Product,
    ProductKind,
    ProductState,
    RateType,
)

from .base import bulk_set

TZ = ZoneInfo("Asia/Shanghai")
HISTORY_DAYS = 730
WAN = Decimal(10000)

K = ProductKind
C = CollateralKind


@dataclass(frozen=True)
class ProductTemplate:
    suffix: str
    kind: str
    amount_wan: tuple[int, int]
    term: tuple[int, int]
    rate: tuple[
        str, float, float
    ]  # ("fixed", min, max) / ("lpr1y"|"lpr5y", spread min, max) / ("none", 0, 0)
    processing_days: int
    pledge_kind: str = ""
    collateral: tuple[str, ...] = ()
    guarantees: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    industries_in: tuple[str, ...] = ()
    industries_out: tuple[str, ...] = ()
    qualifications: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    min_tax_grade: str = ""
    min_years: int | None = None
    min_revenue_wan: int | None = None
    summary: str = ""
    #: 碳效信贷 pricing by grade, percentage points ((grade, "-0.30"), …).
    carbon_rate_adjustments: tuple[tuple[int, str], ...] = ()


SMALL = ("medium", "small", "micro")
NOT_REAL_ESTATE = ("K",)  # 房地产业
BANK_CORE = (
    ProductTemplate(
        "善企信用贷", K.CREDIT, (10, 500), (6, 36), ("lpr1y", 0.2, 1.8), 5, sizes=SMALL,
        industries_out=NOT_REAL_ESTATE, summary="纯信用、随借随还，面向经营稳定的中小微企业。",
    ),
    ProductTemplate(
        "厂房抵押贷", K.MORTGAGE, (100, 5000), (12, 120), ("lpr5y", -0.1, 1.2), 10,
        collateral=(C.REAL_ESTATE, C.EQUIPMENT), summary="以工业厂房、土地或设备抵押，额度高、期限长。",
    ),
)  # fmt: skip
BANK_EXTRA = (
    ProductTemplate(
        "知识产权质押贷", K.PLEDGE, (50, 1000), (12, 36), ("fixed", 3.6, 5.2), 7,
        pledge_kind=C.IP, qualifications=("high_tech",), summary="以专利权、商标权质押，支持科技型企业。",
    ),
    ProductTemplate(
        "应收账款融资", K.PLEDGE, (50, 3000), (3, 12), ("fixed", 3.5, 5.5), 5,
        pledge_kind=C.RECEIVABLES, summary="以核心企业确权的应收账款质押，随收随还。",
    ),
    ProductTemplate(
        "税易贷", K.TAX, (10, 300), (6, 12), ("fixed", 3.8, 6.0), 3,
        sizes=SMALL, min_tax_grade="B", min_years=2, summary="银税互动，按纳税信用和纳税额核定额度。",
    ),
    ProductTemplate(
        "科创贷", K.TECH, (50, 2000), (12, 36), ("lpr1y", 0.0, 1.5), 7,
        industries_in=("C", "I", "M"), qualifications=("tech_sme",),
        summary="面向科技型中小企业的研发与成果转化贷款。",
    ),
    ProductTemplate(
        "绿色信贷", K.GREEN, (100, 5000), (12, 60), ("fixed", 3.3, 4.8), 10,
        qualifications=("green_factory",), summary="支持节能改造、清洁生产和新能源项目。",
        carbon_rate_adjustments=((1, "-0.30"), (2, "-0.15"), (4, "0.10"), (5, "0.20")),
    ),
    ProductTemplate(
        "订单贷", K.ORDER, (20, 1000), (3, 12), ("fixed", 4.0, 6.5), 5,
        industries_in=("C", "F"), summary="凭采购订单或中标通知融资，订单回款即还。",
    ),
    ProductTemplate(
        "排污权质押贷", K.PLEDGE, (50, 800), (12, 36), ("fixed", 3.9, 5.5), 7,
        pledge_kind=C.POLLUTANT_RIGHTS, industries_in=("C", "D"),
    ),
    ProductTemplate(
        "军民融合贷", K.MILITARY_CIVIL, (100, 3000), (12, 36), ("fixed", 3.5, 5.0), 10,
        qualifications=("military_civil",),
    ),
    ProductTemplate(
        "白名单专享贷", K.CREDIT, (100, 3000), (12, 36), ("lpr1y", -0.2, 1.0), 5,
        lists=("manufacturing_white_list",), industries_in=("C",),
        summary="制造业“白名单”企业专享，利率优惠、审批提速。",
    ),
)  # fmt: skip
BY_KIND = {
    InstitutionKind.GUARANTEE: (
        ProductTemplate(
            "政银担保贷", K.GUARANTEED, (10, 1000), (12, 36), ("fixed", 3.8, 5.5), 7,
            guarantees=(GuaranteeKind.GOVERNMENT_GUARANTEE,), sizes=("small", "micro"),
            summary="政府性融资担保，担保费率不超过 1%。",
        ),
    ),
    InstitutionKind.INSURER: (
        ProductTemplate(
            "小额贷款保证保险", K.INSURANCE, (10, 500), (6, 36), ("none", 0, 0), 5,
            guarantees=(GuaranteeKind.CREDIT_INSURANCE,), sizes=SMALL,
        ),
        ProductTemplate("出口信用保险", K.INSURANCE, (50, 5000), (3, 12), ("none", 0, 0), 7),
    ),
    InstitutionKind.LEASING: (
        ProductTemplate(
            "设备融资租赁", K.LEASING, (100, 10000), (12, 60), ("fixed", 4.5, 7.5), 10,
            industries_in=("C",), summary="直租、售后回租，盘活设备资产。",
        ),
    ),
    InstitutionKind.SECURITIES: (
        ProductTemplate(
            "公司债券承销", K.BOND, (5000, 100000), (36, 84), ("fixed", 2.8, 5.0), 30,
            sizes=("large", "medium"), min_revenue_wan=20000, min_years=3,
        ),
    ),
    InstitutionKind.FUND: (
        ProductTemplate(
            "产业基金直投", K.EQUITY, (500, 10000), (36, 84), ("none", 0, 0), 30,
            industries_in=("C", "I", "M"), min_years=2,
            summary="投向数字经济、生命健康、新材料等主导产业。",
        ),
    ),
    InstitutionKind.MICRO_LOAN: (
        ProductTemplate(
            "小微快贷", K.CREDIT, (5, 300), (3, 12), ("fixed", 8.0, 18.0), 2,
            sizes=("small", "micro"), summary="手续简便、当天放款。",
        ),
    ),
}  # fmt: skip


def _footprint(institution: FinancialInstitution) -> list[str]:
    code = institution.region_id
    if code == "330421":
        return ["330421"]
    if code.startswith("3304"):
        return ["330400"]
    if code.startswith("33"):
        return ["330000"]
    return []


def _product(institution, template: ProductTemplate, published_at: datetime, state: str) -> Product:
    rate_type, low, high = template.rate
    values: dict = {}
    if rate_type == "fixed":
        values = {"rate_type": RateType.FIXED, "rate_min": _d(low), "rate_max": _d(high)}
    elif rate_type.startswith("lpr"):
        values = {
            "rate_type": RateType.LPR,
            "lpr_tenor": LprTenor.FIVE_YEAR if rate_type == "lpr5y" else LprTenor.ONE_YEAR,
            "spread_min": _d(low),
            "spread_max": _d(high),
        }
    else:
        values = {"rate_type": RateType.NONE}
    collateral = list(template.collateral)
    if template.pledge_kind:
        collateral = [template.pledge_kind]
    return Product(
        institution=institution,
        name=f"{institution.short_name or institution.name}{template.suffix}",
        kind=template.kind,
        pledge_kind=template.pledge_kind,
        summary=template.summary,
        amount_min=template.amount_wan[0] * WAN,
        amount_max=template.amount_wan[1] * WAN,
        term_min_months=template.term[0],
        term_max_months=template.term[1],
        collateral_required=bool(collateral),
        collateral_options=[str(c) for c in collateral],
        guarantee_options=[str(g) for g in template.guarantees],
        regions=_footprint(institution),
        industries_in=list(template.industries_in),
        industries_out=list(template.industries_out),
        sizes=list(template.sizes),
        required_qualifications=list(template.qualifications),
        required_lists=list(template.lists),
        min_tax_grade=template.min_tax_grade,
        min_years=template.min_years,
        min_revenue=None if template.min_revenue_wan is None else template.min_revenue_wan * WAN,
        exclude_blacklisted=True,
        processing_days=template.processing_days,
        carbon_rate_adjustments={str(g): a for g, a in template.carbon_rate_adjustments},
        state=state,
        published_at=published_at if state != ProductState.DRAFT else None,
        **values,
    )


def _d(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def build_products(rng: random.Random, today: date) -> list[Product]:
    start = _moment(today - timedelta(days=HISTORY_DAYS + 60), 10)
    rows: list[Product] = []
    for institution in FinancialInstitution.objects.order_by("name", "pk"):
        if institution.kind == InstitutionKind.BANK:
            extra = rng.sample(BANK_EXTRA, k=rng.randint(2, 4))
            # Each bank draws its own line for the common credit loan.
            credit = replace(
                BANK_CORE[0],
                amount_wan=(rng.choice((10, 20, 50)), rng.choice((300, 500, 1000))),
                min_revenue_wan=rng.choice((None, 500, 1000, 2000, 3000)),
                min_years=rng.choice((None, 1, 2, 3)),
            )
            templates = [credit, *BANK_CORE[1:], *sorted(extra, key=BANK_EXTRA.index)]
        else:
            templates = list(BY_KIND.get(institution.kind, BANK_CORE[:1]))
        for position, template in enumerate(templates):
            roll = rng.random()
            # The first product of each institution is always on sale.
            state = (
                ProductState.PUBLISHED
                if position == 0 or roll >= 0.07
                else ProductState.WITHDRAWN
                if roll < 0.04
                else ProductState.DRAFT
            )
            published = start + timedelta(days=rng.randint(0, 55), minutes=rng.randint(0, 600))
            rows.append(_product(institution, template, published, state))
    Product.objects.bulk_create(rows)
    _stamp(Product, rows, [(p.published_at or start, p.published_at or start) for p in rows])
    return rows


def _stamp(model, rows, times: list[tuple[datetime, datetime]]) -> None:
    """auto_now(_add) fields take the clock at insert; give them the story's times."""
    for row, (created, updated) in zip(rows, times, strict=True):
        row.created_at, row.updated_at = created, updated
    bulk_set(model, rows, ["created_at", "updated_at"], batch_size=2000)


# --- demands --------------------------------------------------------------------------------


def _moment(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)
