"""Business rules for financing products: validation, publication and review,
and the adapters that feed the pure eligibility function.

Views, the API and the demo come through here. A deployment can require
government review before a product goes live (`CHANRONG_PRODUCT_REVIEW`,
read at call time so that tests and a running site see the same switch).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from chanrong.core import audit
from chanrong.core.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Industry, IndustryLevel, Region
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import StateMachine, Transition, apply_transition
from chanrong.registry.services import eligibility_facts

from . import carbon, supply
from . import eligibility as el
from . import signals as finance_signals
from .models import (
    PLEDGE_KINDS,
    Branch,
    CollateralKind,
    FinancialInstitution,
    GuaranteeKind,
    LprTenor,
    Product,
    ProductKind,
    ProductState,
    RateType,
)

WAN = Decimal(10000)
MAX_AMOUNT_WAN = Decimal("100000000")  # 1 万亿元
MAX_TERM_MONTHS = 600
RATE_BOUNDS = (Decimal(0), Decimal(36))  # annual percent: the judicial ceiling for private lending
SPREAD_BOUNDS = (Decimal(-5), Decimal(20))  # percentage points over LPR
MAX_PROCESSING_DAYS = 365
MAX_MIN_YEARS = 100
LIST_FIELDS = (
    "collateral_options",
    "guarantee_options",
    "regions",
    "industries_in",
    "industries_out",
    "sizes",
    "required_qualifications",
    "required_lists",
    "required_holdings",
)
SIZES = ("large", "medium", "small", "micro")
#: Product kinds with no interest rate of their own (premium, equity stake).
RATELESS_KINDS = {ProductKind.INSURANCE, ProductKind.EQUITY}


# --- deployment switches ----------------------------------------------------------


def review_required() -> bool:
    return bool(getattr(settings, "CHANRONG_PRODUCT_REVIEW", False))


def current_lpr(tenor: str) -> Decimal:
    """The loan prime rate the platform quotes (percent). Settings
    CHANRONG_LPR_1Y / CHANRONG_LPR_5Y let an operator keep it current."""
    if tenor == LprTenor.FIVE_YEAR:
        return Decimal(str(getattr(settings, "CHANRONG_LPR_5Y", "3.5")))
    return Decimal(str(getattr(settings, "CHANRONG_LPR_1Y", "3.0")))


# --- who may do what ----------------------------------------------------------------


def can_create_product(actor) -> bool:
    return scope_of(actor).kind == ScopeKind.INSTITUTION


def can_manage_product(actor, product: Product) -> bool:
    scope = scope_of(actor)
    return scope.kind == ScopeKind.INSTITUTION and scope.institution_id == product.institution_id


def _area_prefixes(product: Product) -> list[str]:
    """Where a product is offered: its region conditions, else wherever the
    institution has its head office or a branch."""
    if product.regions:
        return list(Region.objects.filter(pk__in=product.regions).values_list("prefix", flat=True))
    codes = [product.institution.region_id]
    codes += list(
        Branch.objects.filter(institution_id=product.institution_id).values_list(
            "region_id", flat=True
        )
    )
    return codes


def can_review_product(actor, product: Product) -> bool:
    """A government user reviews products offered in its jurisdiction."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    if scope.kind != ScopeKind.GOVERNMENT:
        return False
    prefix = scope.region_prefix
    if not prefix:
        return True
    return any(
        area.startswith(prefix) or prefix.startswith(area) for area in _area_prefixes(product)
    )


def _manager(actor, product) -> bool:
    return can_manage_product(actor, product)


def _reviewer(actor, product) -> bool:
    return can_review_product(actor, product)


def _manager_without_review(actor, product) -> bool:
    return not review_required() and can_manage_product(actor, product)


def _manager_with_review(actor, product) -> bool:
    return review_required() and can_manage_product(actor, product)


S = ProductState
PRODUCT_MACHINE = StateMachine.declare(
    "product",
    "state",
    [
        Transition(
            "publish",
            frozenset({S.DRAFT, S.REJECTED, S.WITHDRAWN}),
            S.PUBLISHED,
            _manager_without_review,
            pgettext_lazy("workflow", "发布"),
        ),
        Transition(
            "submit",
            frozenset({S.DRAFT, S.REJECTED, S.WITHDRAWN}),
            S.PENDING_REVIEW,
            _manager_with_review,
            pgettext_lazy("workflow", "提交审核"),
        ),
        Transition(
            "approve",
            frozenset({S.PENDING_REVIEW}),
            S.PUBLISHED,
            _reviewer,
            pgettext_lazy("workflow", "审核通过"),
        ),
        Transition(
            "reject",
            frozenset({S.PENDING_REVIEW}),
            S.REJECTED,
            _reviewer,
            pgettext_lazy("workflow", "退回"),
        ),
        Transition(
            "withdraw",
            frozenset({S.PUBLISHED, S.PENDING_REVIEW}),
            S.WITHDRAWN,
            _manager,
            pgettext_lazy("workflow", "下架"),
        ),
    ],
)
EDITABLE_STATES = {S.DRAFT, S.REJECTED, S.WITHDRAWN}


# --- input ------------------------------------------------------------------------------


def _choice(value: Any) -> str:
    """A choice code from any input: anything that is not text becomes text,
    and is then refused as an unknown code."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else ""


def _number(value: Any, field: str, errors: list[FieldError], message: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, bool):
        errors.append(FieldError(field, message))
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.append(FieldError(field, message))
        return None
    if not number.is_finite():
        errors.append(FieldError(field, _("应为有限数字")))
        return None
    return number


def _integer(value: Any, field: str, errors: list[FieldError]) -> int | None:
    number = _number(value, field, errors, _("应为整数"))
    if number is None:
        return None
    if number != number.to_integral_value():
        errors.append(FieldError(field, _("应为整数")))
        return None
    return int(number)


def _codes(value: Any) -> list[str]:
    """A list from the API, or text like "330421, 330400" from a form."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        items = value.replace("，", ",").replace("、", ",").replace(";", ",").split(",")
        items = [part for item in items for part in item.split()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        items = [value]  # a lone number or flag: reported as an unknown code
    seen: dict[str, None] = {}
    for item in items:
        text = str(item).strip()
        if text:
            seen[text] = None
    return list(seen)


def product_input(product: Product) -> dict[str, Any]:
    """A product's values in the shape clean_product_data accepts (万元 amounts)."""
    return {
        "name": product.name,
        "kind": product.kind,
        "pledge_kind": product.pledge_kind,
        "summary": product.summary,
        "branch_id": product.branch_id,
        "amount_min_wan": _wan(product.amount_min),
        "amount_max_wan": _wan(product.amount_max),
        "term_min_months": product.term_min_months,
        "term_max_months": product.term_max_months,
        "rate_type": product.rate_type,
        "rate_min": product.rate_min,
        "rate_max": product.rate_max,
        "lpr_tenor": product.lpr_tenor,
        "spread_min": product.spread_min,
        "spread_max": product.spread_max,
        "collateral_required": product.collateral_required,
        **{name: list(getattr(product, name) or []) for name in LIST_FIELDS},
        "min_tax_grade": product.min_tax_grade,
        "min_years": product.min_years,
        "min_revenue_wan": _wan(product.min_revenue),
        "exclude_blacklisted": product.exclude_blacklisted,
        "required_chain": product.required_chain,
        "max_carbon_grade": product.max_carbon_grade,
        "carbon_rate_adjustments": dict(product.carbon_rate_adjustments or {}),
        "processing_days": product.processing_days,
    }


def _wan(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else (amount / WAN).normalize()


def clean_product_data(
    data: dict[str, Any], *, institution: FinancialInstitution
) -> dict[str, Any]:
    """Validate a complete product input into model field values.

    Raises ValidationFailed naming every bad field: contradictory ranges
    (min > max), rates outside 0–36 % a year, LPR spreads outside −5…+20
    percentage points, terms or amounts ≤ 0, unknown codes.
    """
    errors: list[FieldError] = []
    out: dict[str, Any] = {}

    def err(field: str, message: str) -> None:
        errors.append(FieldError(field, message))

    name = _text(data.get("name"))
    if not name:
        err("name", _("必填"))
    elif not 2 <= len(name) <= 100:
        err("name", _("产品名称应为 2–100 个字符"))
    out["name"] = name

    kind = _choice(data.get("kind")) or ""
    if not kind:
        err("kind", _("必填"))
    elif kind not in ProductKind.values:
        err("kind", _("未知的产品类型：%(kind)s") % {"kind": kind})
    out["kind"] = kind

    pledge_kind = _choice(data.get("pledge_kind")) or ""
    if kind == ProductKind.PLEDGE:
        if not pledge_kind:
            err("pledge_kind", _("质押贷须选择质押物类型"))
        elif pledge_kind not in PLEDGE_KINDS:
            err("pledge_kind", _("未知的质押物类型：%(kind)s") % {"kind": pledge_kind})
    else:
        pledge_kind = ""
    out["pledge_kind"] = pledge_kind
    summary = str(data.get("summary") or "").strip()
    if len(summary) > 5000:
        err("summary", _("产品介绍最多 5000 个字符"))
    out["summary"] = summary

    branch_id = data.get("branch_id")
    out["branch"] = None
    if branch_id not in (None, ""):
        branch_pk = _integer(branch_id, "branch_id", errors)
        branch = (
            Branch.objects.filter(pk=branch_pk, institution=institution).first()
            if branch_pk is not None and 0 < branch_pk < 2**63
            else None
        )
        if branch is None and branch_pk is not None:
            err("branch_id", _("经办机构须为本机构的分支机构"))
        out["branch"] = branch

    # amounts (万元 in, 元 stored)
    amounts = {}
    for key in ("amount_min_wan", "amount_max_wan"):
        number = _number(data.get(key), key, errors, _("应为数字（单位：万元）"))
        if number is None:
            if not any(e.field == key for e in errors):
                err(key, _("必填"))
        elif number <= 0:
            err(key, _("额度应大于 0"))
        elif number > MAX_AMOUNT_WAN:
            err(key, _("数值过大（上限 1 万亿元）"))
        elif _yuan(number) <= 0:
            err(key, _("额度应大于 0"))
        else:
            amounts[key] = number
    if len(amounts) == 2 and amounts["amount_min_wan"] > amounts["amount_max_wan"]:
        err("amount_min_wan", _("最低额度不能高于最高额度"))
    out["amount_min"] = _yuan(amounts.get("amount_min_wan"))
    out["amount_max"] = _yuan(amounts.get("amount_max_wan"))

    terms = {}
    for key in ("term_min_months", "term_max_months"):
        number = _integer(data.get(key), key, errors)
        if number is None:
            if not any(e.field == key for e in errors):
                err(key, _("必填"))
        elif number <= 0:
            err(key, _("期限应大于 0 个月"))
        elif number > MAX_TERM_MONTHS:
            err(key, _("期限最长 %(n)s 个月") % {"n": MAX_TERM_MONTHS})
        else:
            terms[key] = number
    if len(terms) == 2 and terms["term_min_months"] > terms["term_max_months"]:
        err("term_min_months", _("最短期限不能长于最长期限"))
    out["term_min_months"] = terms.get("term_min_months")
    out["term_max_months"] = terms.get("term_max_months")

    _clean_rates(data, kind, out, errors)

    # collateral and guarantee
    collateral = _codes(data.get("collateral_options"))
    bad = [c for c in collateral if c not in CollateralKind.values]
    if bad:
        err("collateral_options", _("未知的抵质押物类型：%(codes)s") % {"codes": "、".join(bad)})
    required = bool(data.get("collateral_required"))
    if kind == ProductKind.PLEDGE and pledge_kind:
        required, collateral = True, [pledge_kind]
    elif kind == ProductKind.MORTGAGE:
        required = True
        collateral = collateral or [CollateralKind.REAL_ESTATE, CollateralKind.EQUIPMENT]
    out["collateral_required"] = required
    out["collateral_options"] = [str(c) for c in collateral]
    guarantees = _codes(data.get("guarantee_options"))
    bad = [g for g in guarantees if g not in GuaranteeKind.values]
    if bad:
        err("guarantee_options", _("未知的担保方式：%(codes)s") % {"codes": "、".join(bad)})
    out["guarantee_options"] = guarantees

    _clean_conditions(data, out, errors)

    processing = _integer(data.get("processing_days"), "processing_days", errors)
    if processing is not None and not 1 <= processing <= MAX_PROCESSING_DAYS:
        err("processing_days", _("承诺办理时限应为 1–%(n)s 个工作日") % {"n": MAX_PROCESSING_DAYS})
    out["processing_days"] = processing

    if errors:
        raise ValidationFailed(errors)
    return out


def _yuan(wan: Decimal | None) -> Decimal | None:
    return None if wan is None else (wan * WAN).quantize(Decimal("0.01"))


def _clean_rates(data: dict, kind: str, out: dict, errors: list[FieldError]) -> None:
    rate_type = _choice(data.get("rate_type")) or (RateType.NONE if kind in RATELESS_KINDS else "")
    out.update(rate_type=rate_type, rate_min=None, rate_max=None, lpr_tenor="")
    out.update(spread_min=None, spread_max=None)
    if not rate_type:
        errors.append(FieldError("rate_type", _("必填")))
        return
    if rate_type not in RateType.values:
        errors.append(FieldError("rate_type", _("未知的利率方式：%(t)s") % {"t": rate_type}))
        return
    if rate_type == RateType.FIXED:
        low, high = RATE_BOUNDS
        pair = _range(
            data, ("rate_min", "rate_max"), errors, low, high,
            _("年利率应在 %(low)s%%–%(high)s%% 之间") % {"low": low, "high": high},
            _("最低利率不能高于最高利率"),
        )  # fmt: skip
        out.update(rate_min=pair[0], rate_max=pair[1])
    elif rate_type == RateType.LPR:
        tenor = _choice(data.get("lpr_tenor")) or LprTenor.ONE_YEAR
        if tenor not in LprTenor.values:
            errors.append(FieldError("lpr_tenor", _("未知的 LPR 品种：%(t)s") % {"t": tenor}))
        out["lpr_tenor"] = tenor
        low, high = SPREAD_BOUNDS
        pair = _range(
            data, ("spread_min", "spread_max"), errors, low, high,
            _("LPR 加点应在 %(low)s 至 +%(high)s 个百分点之间") % {"low": low, "high": high},
            _("最低加点不能高于最高加点"),
        )  # fmt: skip
        out.update(spread_min=pair[0], spread_max=pair[1])


def _range(data, keys, errors, low, high, bound_message, order_message):
    values: list[Decimal | None] = []
    for key in keys:
        number = _number(data.get(key), key, errors, _("应为数字（百分比）"))
        if number is None:
            if not any(e.field == key for e in errors):
                errors.append(FieldError(key, _("必填")))
        elif not low <= number <= high:
            errors.append(FieldError(key, bound_message))
            number = None
        values.append(None if number is None else number.quantize(Decimal("0.0001")))
    if values[0] is not None and values[1] is not None and values[0] > values[1]:
        errors.append(FieldError(keys[0], order_message))
    return values


def _clean_conditions(data: dict, out: dict, errors: list[FieldError]) -> None:
    regions = _codes(data.get("regions"))
    if regions:
        shaped = [r for r in regions if len(r) == 6 and r.isascii() and r.isdigit()]
        known = set(Region.objects.filter(pk__in=shaped).values_list("pk", flat=True))
        bad = [r for r in regions if r not in known]
        if bad:
            errors.append(
                FieldError(
                    "regions", _("行政区划代码不存在：%(codes)s") % {"codes": "、".join(bad)}
                )
            )
    out["regions"] = regions
    for key in ("industries_in", "industries_out"):
        codes = [c.upper() for c in _codes(data.get(key))]
        if codes:
            shaped = [c for c in codes if re.fullmatch(r"[A-Z][0-9]{0,2}", c)]
            known = set(
                Industry.objects.filter(
                    pk__in=shaped, level__in=[IndustryLevel.SECTION, IndustryLevel.DIVISION]
                ).values_list("pk", flat=True)
            )
            bad = [c for c in codes if c not in known]
            if bad:
                errors.append(
                    FieldError(
                        key,
                        _("应为行业门类或大类代码，不存在：%(codes)s") % {"codes": "、".join(bad)},
                    )
                )
        out[key] = codes
    overlap = sorted(set(out["industries_in"]) & set(out["industries_out"]))
    if overlap:
        errors.append(
            FieldError(
                "industries_out", _("同一行业不能既适用又排除：%(c)s") % {"c": "、".join(overlap)}
            )
        )
    for key, allowed, label in (
        ("sizes", SIZES, _("企业规模")),
        ("required_qualifications", tuple(el.QUALIFICATION_LABELS), _("资质")),
        ("required_lists", tuple(el.LIST_LABELS), _("名单")),
        ("required_holdings", tuple(el.HOLDING_LABELS), _("供应链资产")),
    ):
        codes = _codes(data.get(key))
        bad = [c for c in codes if c not in allowed]
        if bad:
            errors.append(
                FieldError(
                    key, _("未知的%(label)s：%(codes)s") % {"label": label, "codes": "、".join(bad)}
                )
            )
        out[key] = codes
    grade = str(data.get("min_tax_grade") or "").strip().upper()
    if grade and grade not in el.TAX_GRADES:
        errors.append(FieldError("min_tax_grade", _("纳税信用等级应为 A、B、M、C 或 D")))
    out["min_tax_grade"] = grade
    years = _integer(data.get("min_years"), "min_years", errors)
    if years is not None and not 0 <= years <= MAX_MIN_YEARS:
        errors.append(FieldError("min_years", _("经营年限应为 0–%(n)s 年") % {"n": MAX_MIN_YEARS}))
        years = None
    out["min_years"] = years or None
    revenue = _number(
        data.get("min_revenue_wan"), "min_revenue_wan", errors, _("应为数字（单位：万元）")
    )
    if revenue is not None and not 0 <= revenue <= MAX_AMOUNT_WAN:
        errors.append(FieldError("min_revenue_wan", _("应为 0 至 1 万亿元之间的金额")))
        revenue = None
    out["min_revenue"] = _yuan(revenue) if revenue else None
    blacklist = data.get("exclude_blacklisted")
    out["exclude_blacklisted"] = True if blacklist is None else bool(blacklist)
    chain = _integer(data.get("required_chain"), "required_chain", errors)
    if chain is not None and (not 0 < chain < 2**63 or chain not in supply.chain_names([chain])):
        errors.append(FieldError("required_chain", _("产业链不存在：%(id)s") % {"id": chain}))
        chain = None
    out["required_chain"] = chain
    carbon_grade = _integer(data.get("max_carbon_grade"), "max_carbon_grade", errors)
    if carbon_grade is not None and carbon_grade not in carbon.CARBON_GRADES:
        errors.append(FieldError("max_carbon_grade", _("碳效等级应为 1–5 级（1 级最优）")))
        carbon_grade = None
    out["max_carbon_grade"] = carbon_grade
    adjustments = carbon.clean_rate_adjustments(data.get("carbon_rate_adjustments"), errors)
    if adjustments and out.get("rate_type") == RateType.NONE:
        errors.append(
            FieldError("carbon_rate_adjustments", _("该产品没有利率，不能按碳效等级调整"))
        )
        adjustments = {}
    out["carbon_rate_adjustments"] = adjustments


# --- create / update / state -------------------------------------------------------


def _snapshot(product: Product) -> dict[str, Any]:
    values = product_input(product)
    values["state"] = product.state
    values["institution"] = product.institution_id
    return values


def create_product(actor, data: dict[str, Any]) -> Product:
    if not can_create_product(actor):
        raise NotAllowed(_("只有金融机构用户可以发布产品"))
    institution = actor.institution
    values = clean_product_data(data, institution=institution)
    with transaction.atomic():
        product = Product(institution=institution, created_by=actor, **values)
        product.save()
        audit.record(
            "product.create", actor=actor, obj=product, changes=audit.diff({}, _snapshot(product))
        )
    return product


def update_product(actor, product: Product, data: dict[str, Any]) -> Product:
    """Change a product. `data` may be partial: missing keys keep their value,
    and the merged whole is validated, so a partial update can never leave a
    contradictory range behind."""
    if not can_manage_product(actor, product):
        raise NotAllowed(_("无权修改该产品"))
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        if locked.state not in EDITABLE_STATES and (
            review_required() or locked.state != ProductState.PUBLISHED
        ):
            raise Conflict(
                _("产品当前为「%(state)s」，需先下架再修改")
                % {"state": locked.get_state_display()},
                code="invalid_state",
            )
        merged = {**product_input(locked), **data}
        values = clean_product_data(merged, institution=locked.institution)
        before = _snapshot(locked)
        for key, value in values.items():
            setattr(locked, key, value)
        locked.save()
        finance_signals.products_changed.send_after_commit([locked.pk])
        changes = audit.diff(before, _snapshot(locked))
        if changes:
            audit.record("product.update", actor=actor, obj=locked, changes=changes)
    return locked


def _notify_product(product: Product, transition: Transition, actor) -> None:
    from chanrong.core import notify

    finance_signals.products_changed.send_after_commit([product.pk])
    recipients = list(product.institution.users.filter(is_active=True).order_by("pk"))
    if product.created_by_id:
        recipients.append(product.created_by)
    if transition.name in {"approve", "reject"}:
        if transition.name == "approve":
            message = _("产品「%(name)s」审核通过") % {"name": product.name}
        else:
            message = _("产品「%(name)s」退回") % {"name": product.name}
        if product.review_note:
            message += _("：%(note)s") % {"note": product.review_note}
        link = reverse("finance:product_detail", args=[product.pk])
        notify.send(recipients, f"product.{transition.name}", message, link)


def publish_product(actor, product: Product) -> Product:
    """Publish at once, or submit for government review when the deployment
    requires it."""
    name = "submit" if review_required() else "publish"
    changes = {} if review_required() else {"published_at": timezone.now()}
    return apply_transition(
        PRODUCT_MACHINE, product, name, actor, changes={**changes, "review_note": ""},
        notify=_notify_product,
    )  # fmt: skip


def review_product(actor, product: Product, *, approve: bool, note: str = "") -> Product:
    note = " ".join(str(note or "").split())
    if len(note) > 500:
        raise ValidationFailed({"note": _("审核意见最多 500 个字符")})
    if not approve and not note:
        raise ValidationFailed({"note": _("退回时须填写审核意见")})
    changes: dict[str, Any] = {"review_note": note}
    if approve:
        changes["published_at"] = timezone.now()
    return apply_transition(
        PRODUCT_MACHINE, product, "approve" if approve else "reject", actor,
        changes=changes, notify=_notify_product,
    )  # fmt: skip


def withdraw_product(actor, product: Product) -> Product:
    return apply_transition(PRODUCT_MACHINE, product, "withdraw", actor, notify=_notify_product)


def get_visible_product(actor, pk: int) -> Product:
    product = (
        Product.objects.visible_to(actor)
        .select_related("institution", "branch")
        .filter(pk=pk)
        .first()
        if 0 < pk < 2**63
        else None
    )
    if product is None:
        raise NotFound(_("产品不存在"))
    return product


def available_actions(actor, product: Product) -> list[str]:
    """The state transitions this actor can take now (for buttons and the API)."""
    return [t.name for t in PRODUCT_MACHINE.available(product, actor)]


# --- adapters for the pure eligibility function ----------------------------------


class ConditionsBuilder:
    """Builds ProductConditions for many products with two queries in all
    (region and industry names), not two per product."""

    def __init__(self, products: Iterable[Product]):
        self.products = list(products)
        region_codes = {code for p in self.products for code in (p.regions or [])}
        industry_codes = {
            code
            for p in self.products
            for code in (p.industries_in or []) + (p.industries_out or [])
        }
        self.regions = {
            r.code: el.Area(r.code, r.prefix, r.name)
            for r in Region.objects.filter(pk__in=region_codes)
        }
        self.industries = dict(
            Industry.objects.filter(pk__in=industry_codes).values_list("code", "name")
        )
        self.chains = supply.chain_names([p.required_chain for p in self.products])

    def build(self, product: Product) -> el.ProductConditions:
        return el.ProductConditions(
            product_kind=product.kind,
            amount_min=product.amount_min,
            amount_max=product.amount_max,
            term_min=product.term_min_months,
            term_max=product.term_max_months,
            rate_min=effective_rate_min(product),
            collateral_required=product.collateral_required,
            collateral_options=tuple(product.collateral_options or ()),
            regions=tuple(
                self.regions.get(code) or el.Area(code, code, code)
                for code in product.regions or ()
            ),
            industries_in=tuple(
                el.IndustryRef(c, self.industries.get(c, "")) for c in product.industries_in or ()
            ),
            industries_out=tuple(
                el.IndustryRef(c, self.industries.get(c, "")) for c in product.industries_out or ()
            ),
            sizes=tuple(product.sizes or ()),
            required_qualifications=tuple(product.required_qualifications or ()),
            required_lists=tuple(product.required_lists or ()),
            min_tax_grade=product.min_tax_grade or None,
            min_years=product.min_years,
            min_revenue=product.min_revenue,
            exclude_blacklisted=product.exclude_blacklisted,
            required_holdings=tuple(product.required_holdings or ()),
            chain=(
                el.ChainRef(product.required_chain, self.chains.get(product.required_chain, ""))
                if product.required_chain
                else None
            ),
            max_carbon_grade=product.max_carbon_grade,
            carbon_rate_adjustments=carbon.adjustment_vector(product.carbon_rate_adjustments),
        )


def product_conditions(product: Product) -> el.ProductConditions:
    return ConditionsBuilder([product]).build(product)


def effective_rate_min(product: Product) -> Decimal | None:
    if product.rate_type == RateType.FIXED:
        return product.rate_min
    if product.rate_type == RateType.LPR and product.spread_min is not None:
        return current_lpr(product.lpr_tenor) + product.spread_min
    return None


def effective_rate_max(product: Product) -> Decimal | None:
    if product.rate_type == RateType.FIXED:
        return product.rate_max
    if product.rate_type == RateType.LPR and product.spread_max is not None:
        return current_lpr(product.lpr_tenor) + product.spread_max
    return None


def enterprise_facts(enterprise, *, today: date | None = None) -> el.EnterpriseFacts:
    """What the registry knows about an enterprise, as eligibility facts.

    Location, industry, size and revenue come from registry.Enterprise; the
    tax credit grade, active qualifications, lists in force, the 黑名单 and
    the founding date from the registry's own records as of `today`
    (registry.services.eligibility_facts). A fact the registry has never
    recorded (no tax grade, no founding date, no revenue) stays None, so a
    product that requires it reports "需补充：…" instead of guessing.
    Supply-chain holdings and chain memberships come from the provider the
    supplychain app registers (`finance.supply`); None without one.
    """
    region = enterprise.region
    industry = enterprise.industry
    day = today or timezone.localdate()
    holdings = supply.holdings_for([enterprise.pk], day)
    chains = supply.chains_for([enterprise.pk])
    grades = carbon.grades_for([enterprise.pk])
    return el.EnterpriseFacts(
        region_code=enterprise.region_id,
        region_name=region.name if region else "",
        industry_code=enterprise.industry_id,
        industry_name=industry.name if industry else "",
        size=enterprise.size or None,
        revenue=enterprise.revenue,
        **eligibility_facts(enterprise, today),
        holdings=None if holdings is None else holdings[enterprise.pk],
        chains=None if chains is None else chains[enterprise.pk],
        carbon_grade=None if grades is None else grades[enterprise.pk],
    )


def evaluate_products(
    products: Iterable[Product],
    enterprise,
    demand: el.DemandFacts | None = None,
    *,
    today: date | None = None,
) -> dict[int, el.EligibilityResult]:
    """{product pk: result} for one enterprise (and optionally one demand)."""
    products = list(products)
    builder = ConditionsBuilder(products)
    when = today or timezone.localdate()
    facts = enterprise_facts(enterprise, today=when)
    return {p.pk: el.evaluate(builder.build(p), facts, demand, today=when) for p in products}
