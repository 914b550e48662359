"""Who qualifies for a financing product: a pure function over plain data.

`evaluate(conditions, enterprise, demand)` takes three dataclasses and returns
every condition that fails, each named in plain Chinese, plus the facts that
are unknown ("需补充：…"). It never touches the database, so the catalogue,
dispatch, the API and the matching engine (which vectorises the same rules
over arrays) all read one definition; `Product.conditions()` and
`finance.services.enterprise_facts()` are the adapters that fill these
dataclasses from the models.

An unknown fact is None and is never read as zero or as "no": an enterprise
whose tax grade is unknown neither passes nor fails "纳税信用等级 A 级", it is
asked to supply it. A fact the enterprise only declared (a qualification, its
revenue; nobody has verified it) neither passes nor fails either: it is
reported as "需核验：…（企业自报，待核验）" among the missing facts, so the
enterprise is never counted as eligible on its own word (issue 15). Demand facts that are None were simply not stated (a
catalogue browsed without a demand) and are not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

WAN = Decimal(10000)


def N_(message: str) -> str:
    """Marks a label for translation (makemessages extracts N_) without
    touching Django's settings at import: the matching engine imports these
    vocabularies and runs on arrays alone."""
    return message


# --- vocabularies (codes are stored; labels are shown) ---------------------------

#: Which demand kinds (融资需求类型) each product kind answers.
PRODUCT_DEMAND_KINDS: Mapping[str, frozenset[str]] = {
    "credit": frozenset({"debt"}),
    "mortgage": frozenset({"debt"}),
    "pledge": frozenset({"debt"}),
    "guaranteed": frozenset({"debt", "guarantee"}),
    "order": frozenset({"debt"}),
    "tax": frozenset({"debt"}),
    "tech": frozenset({"debt"}),
    "military_civil": frozenset({"debt"}),
    "green": frozenset({"debt"}),
    "leasing": frozenset({"leasing"}),
    "insurance": frozenset({"insurance"}),
    "equity": frozenset({"equity"}),
    "bond": frozenset({"debt"}),
}

DEMAND_KIND_LABELS: Mapping[str, str] = {
    "debt": N_("债权融资"),
    "equity": N_("股权融资"),
    "leasing": N_("融资租赁"),
    "guarantee": N_("融资担保"),
    "insurance": N_("保险保障"),
}

SIZE_LABELS: Mapping[str, str] = {
    "large": N_("大型"),
    "medium": N_("中型"),
    "small": N_("小型"),
    "micro": N_("微型"),
}

#: Tax credit grades (纳税信用等级), best first. M (新设立企业) ranks between B and C.
TAX_GRADES: tuple[str, ...] = ("A", "B", "M", "C", "D")

#: Qualifications a product may require. The registry will record them per
#: enterprise under these codes.
QUALIFICATION_LABELS: Mapping[str, str] = {
    "high_tech": N_("高新技术企业"),
    "tech_sme": N_("科技型中小企业"),
    "specialised_sme": N_("专精特新中小企业"),
    "little_giant": N_("专精特新“小巨人”企业"),
    "military_civil": N_("军民融合企业"),
    "green_factory": N_("绿色工厂"),
}

#: Government lists a product may require membership of (the registry's
#: versioned lists use these codes).
LIST_LABELS: Mapping[str, str] = {
    "white_list": N_("融资白名单"),
    "manufacturing_white_list": N_("制造业“白名单”"),
    "key_enterprise": N_("重点企业名录"),
    "red_list": N_("守信红名单"),
    # The registry's own list-type codes (registry.ListType), for products and
    # subsidy programmes that ask for membership of these libraries.
    "green": N_("绿色融资企业（项目）库"),
    "listing_reserve": N_("上市后备库"),
    "financing_tech_sme": N_("融资信息清单（科技型中小企业）"),
    "financing_military_civil": N_("融资信息清单（军民融合）"),
}

#: Supply-chain assets a product may require the enterprise to hold (at least
#: one of those it names): the receivable-backed, voucher and 政采贷 products
#: of 供应链金融. The facts come from the supplychain app through the provider
#: registry in `finance.supply` (finance never imports supplychain).
HOLDING_LABELS: Mapping[str, str] = {
    "receivable": N_("已确权且未融资的应收账款"),
    "voucher": N_("持有中的数字债权凭证"),
    "gov_procurement": N_("已确权且未融资的政府采购合同"),
}

COLLATERAL_LABELS: Mapping[str, str] = {
    "real_estate": N_("不动产"),
    "equipment": N_("机器设备"),
    "receivables": N_("应收账款"),
    "ip": N_("知识产权"),
    "warehouse_receipt": N_("仓单"),
    "equity": N_("股权"),
    "deposit": N_("存单"),
    "carbon_rights": N_("碳排放权"),
    "energy_rights": N_("用能权"),
    "pollutant_rights": N_("排污权"),
}


# --- the three inputs ---------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    """A region condition: an enterprise is inside when its county code starts with `prefix`."""

    code: str
    prefix: str
    name: str


@dataclass(frozen=True)
class IndustryRef:
    """An industry code (section "C" or division "C39") and its name for messages."""

    code: str
    name: str


@dataclass(frozen=True)
class ChainRef:
    """An industry chain (产业链) a product is limited to, and its name for messages."""

    id: int
    name: str


@dataclass(frozen=True)
class Holdings:
    """What an enterprise holds that supply-chain products finance, in 元:
    the confirmed and not yet financed (or vouchered) balance of its ordinary
    receivables and of its 政采 contracts not yet due, and the face of the
    digital payables vouchers it holds (not discounted, not yet due)."""

    receivable: Decimal = Decimal(0)
    voucher: Decimal = Decimal(0)
    gov_procurement: Decimal = Decimal(0)

    def amount(self, kind: str) -> Decimal:
        return getattr(self, kind, Decimal(0)) if kind in HOLDING_LABELS else Decimal(0)


@dataclass(frozen=True)
class ProductConditions:
    """A product's eligibility rules as data. Amounts in 元, rates in annual percent."""

    product_kind: str
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    term_min: int | None = None  # months
    term_max: int | None = None
    #: The lowest annual rate the product can offer (for LPR products, LPR + the lowest spread).
    rate_min: Decimal | None = None
    collateral_required: bool = False
    #: Collateral the product accepts; empty with `collateral_required` = any collateral.
    collateral_options: tuple[str, ...] = ()
    regions: tuple[Area, ...] = ()
    industries_in: tuple[IndustryRef, ...] = ()
    industries_out: tuple[IndustryRef, ...] = ()
    sizes: tuple[str, ...] = ()
    required_qualifications: tuple[str, ...] = ()
    required_lists: tuple[str, ...] = ()
    min_tax_grade: str | None = None
    min_years: int | None = None
    min_revenue: Decimal | None = None
    exclude_blacklisted: bool = False
    #: The enterprise must hold at least one of these (HOLDING_LABELS codes).
    required_holdings: tuple[str, ...] = ()
    #: The enterprise must be on this chain (a member, or its 链主).
    chain: ChainRef | None = None
    #: The enterprise's latest 碳效等级 must be this or better (1 best … 5),
    #: from the provider the green app registers (`finance.carbon`).
    max_carbon_grade: int | None = None
    #: Percentage points added to the rate for 碳效等级 1 … 5 (`finance.carbon`);
    #: empty when the product does not price by grade. The rate filter, the
    #: ranking and the reasons all use the adjusted rate (`adjusted_rate_min`).
    carbon_rate_adjustments: tuple[Decimal, ...] = ()


@dataclass(frozen=True)
class EnterpriseFacts:
    """What is known about an enterprise; None means unknown."""

    region_code: str
    region_name: str = ""
    industry_code: str | None = None
    industry_name: str = ""
    size: str | None = None
    revenue: Decimal | None = None  # 元, last year
    founded_on: date | None = None
    tax_grade: str | None = None
    qualifications: frozenset[str] | None = None
    lists: frozenset[str] | None = None
    blacklisted: bool | None = None
    #: The received 黑名单 (from another deployment) the enterprise is on, each
    #: named with its source (registry.received_list_label); empty when only
    #: this deployment's own lists apply. Shown in the failure reason.
    blacklist_sources: tuple[str, ...] = ()
    #: Supply-chain holdings; None when no provider supplies them.
    holdings: Holdings | None = None
    #: Ids of the chains the enterprise is on (member or 链主); None when unknown.
    chains: frozenset[int] | None = None
    #: Active qualifications the enterprise declared and nobody verified yet
    #: (`qualifications` holds the verified ones only).
    declared_qualifications: frozenset[str] = frozenset()
    #: False when `revenue` is the enterprise's own, unverified statement.
    revenue_verified: bool = True
    #: Latest 碳效等级 (1 best … 5); None when not graded or no provider.
    carbon_grade: int | None = None


@dataclass(frozen=True)
class DemandFacts:
    """What a demand asks for; None means not stated (not checked)."""

    kind: str | None = None
    amount: Decimal | None = None  # 元
    term_months: int | None = None
    rate_max: Decimal | None = None  # the highest annual rate the enterprise accepts
    collateral_offered: tuple[str, ...] | None = None


# --- the result -----------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    condition: str  # machine name of the condition: "tax_grade", "amount_max" …
    message: str


@dataclass(frozen=True)
class EligibilityResult:
    failed: tuple[Finding, ...] = ()
    missing: tuple[Finding, ...] = ()

    @property
    def eligible(self) -> bool:
        """Every condition is known to be met."""
        return not self.failed and not self.missing

    @property
    def possible(self) -> bool:
        """No condition is known to fail (some may still be unknown)."""
        return not self.failed

    @property
    def status(self) -> str:
        if self.failed:
            return "ineligible"
        if self.missing:
            return "unknown"
        return "eligible"

    @property
    def messages(self) -> list[str]:
        return [f.message for f in self.failed] + [f.message for f in self.missing]


@dataclass
class _Collector:
    failed: list[Finding] = field(default_factory=list)
    missing: list[Finding] = field(default_factory=list)

    explain: bool = True

    def fail(self, condition: str, message: Callable[[], str]) -> None:
        """`message` is called only when explaining: dispatch and the
        matching engine need the verdict for thousands of pairs, not the words."""
        self.failed.append(Finding(condition, message() if self.explain else ""))

    def need(self, condition: str, what: Callable[[], str]) -> None:
        text = _("需补充：%(what)s") % {"what": what()} if self.explain else ""
        self.missing.append(Finding(condition, text))

    def verify(self, condition: str, what: Callable[[], str]) -> None:
        """A fact the enterprise declared and nobody verified: neither
        passed nor failed (listed with the missing facts, so never eligible)."""
        text = _("需核验：%(what)s（企业自报，待核验）") % {"what": what()} if self.explain else ""
        self.missing.append(Finding(condition, text))

    def result(self) -> EligibilityResult:
        return EligibilityResult(tuple(self.failed), tuple(self.missing))


# --- formatting ----------------------------------------------------------------------


def wan(amount: Decimal) -> str:
    """An amount in 元 as "800 万元" / "1,250.5 万元" (no trailing zeros)."""
    value = (Decimal(amount) / WAN).quantize(Decimal("0.0001")).normalize()
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))
    return _("%(n)s 万元") % {"n": f"{value:,f}"}


def percent(rate: Decimal) -> str:
    return f"{Decimal(rate).quantize(Decimal('0.01'))}%"


def _join(labels: list[str]) -> str:
    return "、".join(labels)


def _label(mapping: Mapping[str, str], code: str) -> str:
    return _(mapping[code]) if code in mapping else code


def _industry_text(ref: IndustryRef) -> str:
    return f"{ref.code} {ref.name}".strip()


def years_between(start: date, end: date) -> int:
    """Whole years from `start` to `end` (a firm founded 2023-06-01 is 2 years old on 2025-06-01)."""
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


# --- the rules ------------------------------------------------------------------------


def evaluate(
    conditions: ProductConditions,
    enterprise: EnterpriseFacts,
    demand: DemandFacts | None = None,
    *,
    today: date | None = None,
    explain: bool = True,
) -> EligibilityResult:
    """Check every condition; report all that fail and all facts that are missing.

    With explain=False the findings name their conditions but carry no text:
    for callers that only need the verdict (dispatch, bulk matching)."""
    out = _Collector(explain=explain)
    _check_enterprise(conditions, enterprise, today or date.today(), out)
    if demand is not None:
        _check_demand(conditions, demand, out, enterprise.carbon_grade)
    return out.result()


def _check_enterprise(c: ProductConditions, e: EnterpriseFacts, today: date, out: _Collector):
    if c.regions and not any(e.region_code.startswith(area.prefix) for area in c.regions):
        out.fail(
            "regions",
            lambda: (
                _("仅限%(areas)s的企业，企业所在地为%(here)s")
                % {
                    "areas": _join([a.name for a in c.regions]),
                    "here": e.region_name or e.region_code,
                }
            ),
        )
    if c.industries_in or c.industries_out:
        if not e.industry_code:
            out.need("industry", lambda: _("所属行业"))
        else:
            if c.industries_in and not any(
                e.industry_code.startswith(ref.code) for ref in c.industries_in
            ):
                out.fail(
                    "industries_in",
                    lambda: (
                        _("仅限以下行业：%(list)s；企业所属行业为 %(here)s")
                        % {
                            "list": _join([_industry_text(r) for r in c.industries_in]),
                            "here": _industry_text(IndustryRef(e.industry_code, e.industry_name)),
                        }
                    ),
                )
            excluded = [r for r in c.industries_out if e.industry_code.startswith(r.code)]
            if excluded:
                out.fail(
                    "industries_out",
                    lambda: _("不支持以下行业：%(list)s") % {"list": _industry_text(excluded[0])},
                )
    if c.sizes:
        if not e.size:
            out.need("size", lambda: _("企业规模（从业人员、营业收入、资产总额）"))
        elif e.size not in c.sizes:
            out.fail(
                "sizes",
                lambda: (
                    _("仅限%(sizes)s企业，当前为%(size)s企业")
                    % {
                        "sizes": _join([_label(SIZE_LABELS, s) for s in c.sizes]),
                        "size": _label(SIZE_LABELS, e.size),
                    }
                ),
            )
    if c.required_qualifications:
        wanted = lambda: _join([_label(QUALIFICATION_LABELS, q) for q in c.required_qualifications])  # noqa: E731
        if e.qualifications is None:
            out.need("qualifications", lambda: _("企业资质（%(list)s）") % {"list": wanted()})
        else:
            absent = [q for q in c.required_qualifications if q not in e.qualifications]
            unverified = [q for q in absent if q in e.declared_qualifications]
            lacking = [q for q in absent if q not in e.declared_qualifications]
            if lacking:
                out.fail(
                    "qualifications",
                    lambda: (
                        _("需具备资质：%(list)s")
                        % {"list": _join([_label(QUALIFICATION_LABELS, q) for q in lacking])}
                    ),
                )
            if unverified:
                out.verify(
                    "qualifications_unverified",
                    lambda: _join([_label(QUALIFICATION_LABELS, q) for q in unverified]),
                )
    if c.required_lists:
        wanted = lambda: _join([_label(LIST_LABELS, code) for code in c.required_lists])  # noqa: E731
        if e.lists is None:
            out.need("lists", lambda: _("名单信息（%(list)s）") % {"list": wanted()})
        else:
            lacking = [code for code in c.required_lists if code not in e.lists]
            if lacking:
                out.fail(
                    "lists",
                    lambda: (
                        _("需列入%(list)s")
                        % {"list": _join([_label(LIST_LABELS, code) for code in lacking])}
                    ),
                )
    if c.min_tax_grade:
        if not e.tax_grade:
            out.need("tax_grade", lambda: _("纳税信用等级"))
        elif _grade_rank(e.tax_grade) > _grade_rank(c.min_tax_grade):

            def required() -> str:
                if c.min_tax_grade == TAX_GRADES[0]:
                    return _("%(g)s 级") % {"g": c.min_tax_grade}
                return _("%(g)s 级及以上") % {"g": c.min_tax_grade}

            out.fail(
                "tax_grade",
                lambda: (
                    _("需纳税信用等级 %(required)s，当前为 %(grade)s 级")
                    % {"required": required(), "grade": e.tax_grade}
                ),
            )
    if c.min_years:
        if e.founded_on is None:
            out.need("founded_on", lambda: _("成立日期"))
        else:
            years = years_between(e.founded_on, today)
            if years < c.min_years:
                out.fail(
                    "min_years",
                    lambda: (
                        _("需成立满 %(need)s 年，当前成立 %(have)s 年")
                        % {"need": c.min_years, "have": max(years, 0)}
                    ),
                )
    if c.min_revenue:
        if e.revenue is None:
            out.need("revenue", lambda: _("营业收入"))
        elif e.revenue < c.min_revenue:
            out.fail(
                "min_revenue",
                lambda: (
                    _("需年营业收入不低于 %(need)s，当前为 %(have)s")
                    % {"need": wan(c.min_revenue), "have": wan(e.revenue)}
                ),
            )
        elif not e.revenue_verified:
            out.verify("revenue_unverified", lambda: _("营业收入"))
    if c.exclude_blacklisted:
        if e.blacklisted is None:
            out.need("blacklisted", lambda: _("是否列入失信黑名单"))
        elif e.blacklisted and e.blacklist_sources:
            out.fail(
                "blacklisted",
                lambda: (
                    _("列入%(lists)s的企业不予受理") % {"lists": _join(list(e.blacklist_sources))}
                ),
            )
        elif e.blacklisted:
            out.fail("blacklisted", lambda: _("列入失信黑名单的企业不予受理"))
    if c.chain is not None:
        if e.chains is None:
            out.need(
                "chains",
                lambda: (
                    _("产业链成员信息（%(chain)s）") % {"chain": c.chain.name}
                    if c.chain.name
                    else _("产业链成员信息")
                ),
            )
        elif c.chain.id not in e.chains:
            out.fail(
                "chain",
                lambda: _("仅限「%(chain)s」产业链的链主和成员企业") % {"chain": c.chain.name},
            )
    if c.required_holdings:
        wanted = lambda: _join([_label(HOLDING_LABELS, k) for k in c.required_holdings])  # noqa: E731
        if e.holdings is None:
            out.need("holdings", lambda: _("供应链资产（%(list)s）") % {"list": wanted()})
        elif not any(e.holdings.amount(k) > 0 for k in c.required_holdings):

            def lacking() -> str:
                if len(c.required_holdings) == 1:
                    return _("需持有%(list)s，企业当前没有") % {"list": wanted()}
                return _("需持有以下任一：%(list)s，企业当前均没有") % {"list": wanted()}

            out.fail("holdings", lacking)
    if c.max_carbon_grade is not None:
        if e.carbon_grade is None:
            out.need("carbon_grade", lambda: _("碳效等级"))
        elif e.carbon_grade > c.max_carbon_grade:
            out.fail(
                "carbon_grade",
                lambda: (
                    _("碳效等级须为 %(max)s 级或更优（1 级最优）") % {"max": c.max_carbon_grade}
                ),
            )


def _grade_rank(grade: str) -> int:
    grade = grade.strip().upper()
    return TAX_GRADES.index(grade) if grade in TAX_GRADES else len(TAX_GRADES)


def rate_adjustment(c: ProductConditions, grade: int | None) -> Decimal:
    """Percentage points this product adds to its rate for an enterprise of
    碳效等级 `grade` (1 … 5); 0 when the grade is unknown or the product does
    not price by grade."""
    adjustments = c.carbon_rate_adjustments
    if grade is None or not 1 <= grade <= len(adjustments):
        return Decimal(0)
    return Decimal(adjustments[grade - 1])


def adjusted_rate_min(c: ProductConditions, grade: int | None) -> Decimal | None:
    """The lowest rate this enterprise would actually be offered: the product's
    `rate_min` plus the adjustment for its grade, never below 0 (None when the
    product states no rate). Not rounded: the matching engine compares the
    same sum in 1e-4 % units (`matching.features.rate_units`), so the filter
    gives the same verdict in both (issue 18)."""
    if c.rate_min is None:
        return None
    return max(Decimal(c.rate_min) + rate_adjustment(c, grade), Decimal(0))


def _check_demand(
    c: ProductConditions, d: DemandFacts, out: _Collector, grade: int | None = None
) -> None:
    answers = PRODUCT_DEMAND_KINDS.get(c.product_kind, frozenset())
    if d.kind is not None and d.kind not in answers:
        out.fail(
            "kind",
            lambda: _("该产品不受理%(kind)s需求") % {"kind": _label(DEMAND_KIND_LABELS, d.kind)},
        )
    if d.amount is not None:
        if c.amount_max is not None and d.amount > c.amount_max:
            out.fail(
                "amount_max",
                lambda: (
                    _("额度上限 %(max)s，需求 %(need)s")
                    % {"max": wan(c.amount_max), "need": wan(d.amount)}
                ),
            )
        if c.amount_min is not None and d.amount < c.amount_min:
            out.fail(
                "amount_min",
                lambda: (
                    _("额度下限 %(min)s，需求 %(need)s")
                    % {"min": wan(c.amount_min), "need": wan(d.amount)}
                ),
            )
    if d.term_months is not None:
        if c.term_max is not None and d.term_months > c.term_max:
            out.fail(
                "term_max",
                lambda: (
                    _("期限最长 %(max)s 个月，需求 %(need)s 个月")
                    % {"max": c.term_max, "need": d.term_months}
                ),
            )
        if c.term_min is not None and d.term_months < c.term_min:
            out.fail(
                "term_min",
                lambda: (
                    _("期限最短 %(min)s 个月，需求 %(need)s 个月")
                    % {"min": c.term_min, "need": d.term_months}
                ),
            )
    rate_min = adjusted_rate_min(c, grade)
    if d.rate_max is not None and rate_min is not None and d.rate_max < rate_min:

        def rate_text() -> str:
            values = {"min": percent(rate_min), "max": percent(d.rate_max), "grade": grade}
            adjustment = rate_adjustment(c, grade)
            values["pp"] = f"{abs(adjustment).quantize(Decimal('0.01'))}"
            if adjustment > 0:
                return (
                    _(
                        "年利率最低 %(min)s（碳效等级 %(grade)s，上调 %(pp)s 个百分点），可接受利率上限 %(max)s"
                    )
                    % values
                )
            if adjustment < 0:
                return (
                    _(
                        "年利率最低 %(min)s（碳效等级 %(grade)s，下调 %(pp)s 个百分点），可接受利率上限 %(max)s"
                    )
                    % values
                )
            return _("年利率最低 %(min)s，可接受利率上限 %(max)s") % values

        out.fail("rate", rate_text)
    if c.collateral_required:

        def options() -> str:
            return _join([_label(COLLATERAL_LABELS, k) for k in c.collateral_options])

        if d.collateral_offered is None:
            out.need("collateral", lambda: _("可提供的抵质押物"))
        elif not d.collateral_offered or (
            c.collateral_options and not set(d.collateral_offered) & set(c.collateral_options)
        ):
            out.fail(
                "collateral",
                lambda: (
                    _("需提供抵质押物：%(options)s") % {"options": options()}
                    if c.collateral_options
                    else _("需提供抵质押物")
                ),
            )
