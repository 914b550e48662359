"""Product pages: the catalogue (with each product's eligibility for an
enterprise user, naming the conditions it misses), product detail, create and
edit for institution staff, publication and review, and an institution's own
page with its products and service ratings.

Views only translate between HTTP and `finance.services`; visibility comes
from `Product.objects.visible_to`. URL patterns are in `product_urls.py`.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core import pickers
from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Industry, IndustryLevel
from chanrong.core.panels import panel_context
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.text import validate_name

from . import carbon, services, supply
from . import eligibility as el
from .models import (
    PLEDGE_KINDS,
    CollateralKind,
    FinancialInstitution,
    GuaranteeKind,
    LprTenor,
    Product,
    ProductKind,
    ProductState,
    RateType,
)

PAGE_SIZE = 20
#: Form inputs carbon_rate_adjustment_1 … _5 ↔ carbon_rate_adjustments["1"…"5"].
ADJUSTMENT_FIELD = "carbon_rate_adjustment_"
WAN = Decimal(10000)
SIZE_CHOICES = [(k, gettext_lazy(v)) for k, v in el.SIZE_LABELS.items()]
DEMAND_KIND_CHOICES = [(k, gettext_lazy(v)) for k, v in el.DEMAND_KIND_LABELS.items()]


def _label_list(mapping, codes) -> list[str]:
    return [_(mapping[c]) if c in mapping else c for c in codes or []]


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("产品或机构名称"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(label=gettext_lazy("产品类型"), required=False)
    amount_wan = forms.DecimalField(
        label=gettext_lazy("需求金额（万元）"), required=False, min_value=0, max_value=100000000
    )
    term_months = forms.IntegerField(
        label=gettext_lazy("需求期限（月）"), required=False, min_value=1, max_value=600
    )
    demand_kind = forms.ChoiceField(label=gettext_lazy("需求类型"), required=False)
    state = forms.ChoiceField(label=gettext_lazy("状态"), required=False)
    mine = forms.BooleanField(label=gettext_lazy("只看本机构产品"), required=False)
    eligible_only = forms.BooleanField(label=gettext_lazy("只看本企业可申请的产品"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", gettext_lazy("全部")), *ProductKind.choices]
        self.fields["demand_kind"].choices = [("", gettext_lazy("不限")), *DEMAND_KIND_CHOICES]
        self.fields["state"].choices = [("", gettext_lazy("全部")), *ProductState.choices]
        kind = scope_of(user).kind
        if kind != ScopeKind.ENTERPRISE:
            del self.fields["eligible_only"]
        if kind != ScopeKind.INSTITUTION:
            del self.fields["mine"]
        if kind not in (ScopeKind.INSTITUTION, ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
            del self.fields["state"]

    def data_or_empty(self) -> dict:
        return self.cleaned_data if self.is_bound and self.is_valid() else {}

    def demand(self) -> el.DemandFacts | None:
        data = self.data_or_empty()
        if (
            data.get("amount_wan") is None
            and not data.get("term_months")
            and not data.get("demand_kind")
        ):
            return None
        amount = data.get("amount_wan")
        return el.DemandFacts(
            kind=data.get("demand_kind") or None,
            amount=None if amount is None else amount * WAN,
            term_months=data.get("term_months"),
        )

    def filter(self, queryset, user):
        if self.is_bound and not self.is_valid():
            return queryset.none()
        data = self.data_or_empty()
        text = " ".join((data.get("q") or "").split())
        if text:
            queryset = queryset.filter(
                Q(name__icontains=text)
                | Q(institution__name__icontains=text)
                | Q(institution__short_name__icontains=text)
            )
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("state"):
            queryset = queryset.filter(state=data["state"])
        if data.get("mine"):
            queryset = queryset.filter(institution_id=user.institution_id)
        return queryset

    def querystring(self) -> str:
        data = {k: v for k, v in self.data_or_empty().items() if v not in (None, "", False)}
        return urlencode(data) + "&" if data else ""


@login_required
@require_GET
def product_list(request):
    user = request.user
    form = CatalogueFilterForm(request.GET or None, user=user)
    queryset = form.filter(
        Product.objects.visible_to(user).select_related("institution"), user
    ).order_by("institution__name", "name", "pk")
    enterprise = user.enterprise if scope_of(user).kind == ScopeKind.ENTERPRISE else None
    demand = form.demand()
    if enterprise is not None and form.data_or_empty().get("eligible_only"):
        results = services.evaluate_products(queryset, enterprise, demand)
        queryset = queryset.filter(pk__in=[pk for pk, r in results.items() if r.possible])
    paginator = Paginator(queryset, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    rows = list(page_obj.object_list)
    results = services.evaluate_products(rows, enterprise, demand) if enterprise else {}
    for product in rows:
        product.eligibility = results.get(product.pk)
        product.rate_text = rate_text(product)
    return render(
        request,
        "finance/product_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "products": rows,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": form.querystring(),
            "can_create": services.can_create_product(user),
            "is_enterprise": enterprise is not None,
            "review_required": services.review_required(),
        },
    )


def rate_text(product: Product) -> str:
    if product.rate_type == RateType.FIXED:
        return f"{product.rate_min:.2f}%–{product.rate_max:.2f}%"
    if product.rate_type == RateType.LPR:
        tenor = _("1 年期 LPR") if product.lpr_tenor != LprTenor.FIVE_YEAR else _("5 年期 LPR")
        low, high = services.effective_rate_min(product), services.effective_rate_max(product)
        return _("%(tenor)s %(low)+.2f～%(high)+.2f 个百分点（现约 %(a).2f%%–%(b).2f%%）") % {
            "tenor": tenor,
            "low": product.spread_min,
            "high": product.spread_max,
            "a": low,
            "b": high,
        }
    return _("不适用")


def _product_or_404(user, pk: int) -> Product:
    try:
        return services.get_visible_product(user, pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def product_detail(request, pk: int):
    user = request.user
    product = _product_or_404(user, pk)
    enterprise = user.enterprise if scope_of(user).kind == ScopeKind.ENTERPRISE else None
    eligibility = (
        services.evaluate_products([product], enterprise)[product.pk] if enterprise else None
    )
    conditions = services.product_conditions(product)
    adjustments = product.carbon_rate_adjustments or {}
    grade = carbon.grades_for([enterprise.pk]) if enterprise and adjustments else None
    return render(
        request,
        "finance/product_detail.html",
        {
            "product": product,
            "eligibility": eligibility,
            "actions": services.available_actions(user, product),
            "can_edit": services.can_manage_product(user, product),
            "rate_text": rate_text(product),
            "regions": [a.name for a in conditions.regions],
            "industries_in": [f"{r.code} {r.name}" for r in conditions.industries_in],
            "industries_out": [f"{r.code} {r.name}" for r in conditions.industries_out],
            "sizes": _label_list(el.SIZE_LABELS, product.sizes),
            "qualifications": _label_list(el.QUALIFICATION_LABELS, product.required_qualifications),
            "lists": _label_list(el.LIST_LABELS, product.required_lists),
            "holdings": _label_list(el.HOLDING_LABELS, product.required_holdings),
            "chain": conditions.chain.name or str(conditions.chain.id) if conditions.chain else "",
            "collateral": _label_list(el.COLLATERAL_LABELS, product.collateral_options),
            "guarantees": [GuaranteeKind(g).label for g in product.guarantee_options or []],
            # 碳效等级 → 利率调整, and the range this enterprise would get by its own grade.
            "carbon_adjustments": carbon.adjustment_table(adjustments) if adjustments else [],
            "carbon_rate": carbon.grade_rate(
                adjustments,
                grade[enterprise.pk] if grade else None,
                services.effective_rate_min(product),
                services.effective_rate_max(product),
            ),
            "carbon_graded": bool(grade and grade[enterprise.pk] is not None),
            "is_enterprise_view": enterprise is not None,
        },
    )


def industry_choices() -> list:
    rows = Industry.objects.filter(
        level__in=[IndustryLevel.SECTION, IndustryLevel.DIVISION]
    ).order_by("code")
    return [
        (
            row.code,
            f"{row.code} {row.name}"
            if row.level == IndustryLevel.DIVISION
            else f"{row.code} {row.name}（全部）",
        )
        for row in rows
    ]


class ProductForm(forms.Form):
    """Collects input under the service's field names; the service validates."""

    name = forms.CharField(
        label=gettext_lazy("产品名称"), max_length=100, validators=[validate_name]
    )
    kind = forms.ChoiceField(label=gettext_lazy("产品类型"), choices=ProductKind.choices)
    pledge_kind = forms.ChoiceField(
        label=gettext_lazy("质押物类型（质押贷）"),
        required=False,
        choices=[("", "—"), *[(k.value, k.label) for k in PLEDGE_KINDS]],
    )
    branch_id = forms.ChoiceField(label=gettext_lazy("经办机构"), required=False)
    amount_min_wan = forms.CharField(label=gettext_lazy("最低额度（万元）"), max_length=30)
    amount_max_wan = forms.CharField(label=gettext_lazy("最高额度（万元）"), max_length=30)
    term_min_months = forms.CharField(label=gettext_lazy("最短期限（月）"), max_length=10)
    term_max_months = forms.CharField(label=gettext_lazy("最长期限（月）"), max_length=10)
    rate_type = forms.ChoiceField(label=gettext_lazy("利率方式"), choices=RateType.choices)
    rate_min = forms.CharField(label=gettext_lazy("最低年利率（%）"), required=False, max_length=20)
    rate_max = forms.CharField(label=gettext_lazy("最高年利率（%）"), required=False, max_length=20)
    lpr_tenor = forms.ChoiceField(
        label=gettext_lazy("LPR 品种"), required=False, choices=[("", "—"), *LprTenor.choices]
    )
    spread_min = forms.CharField(
        label=gettext_lazy("最低加点（百分点）"), required=False, max_length=20
    )
    spread_max = forms.CharField(
        label=gettext_lazy("最高加点（百分点）"), required=False, max_length=20
    )
    processing_days = forms.CharField(
        label=gettext_lazy("承诺办理时限（工作日）"), required=False, max_length=10
    )
    collateral_required = forms.BooleanField(label=gettext_lazy("须提供抵质押物"), required=False)
    collateral_options = forms.MultipleChoiceField(
        label=gettext_lazy("可接受的抵质押物"),
        required=False,
        choices=CollateralKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    guarantee_options = forms.MultipleChoiceField(
        label=gettext_lazy("可接受的担保方式"),
        required=False,
        choices=GuaranteeKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    regions = pickers.PickerField(
        pickers.REGIONS,
        multiple=True,
        keys=True,
        required=False,
        label=gettext_lazy("适用地区"),
        help_text=gettext_lazy("含全部下级；留空为不限"),
    )
    industries_in = forms.MultipleChoiceField(
        label=gettext_lazy("适用行业（留空为不限）"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    industries_out = forms.MultipleChoiceField(
        label=gettext_lazy("排除行业"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    sizes = forms.MultipleChoiceField(
        label=gettext_lazy("适用企业规模（留空为不限）"),
        required=False,
        choices=SIZE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    required_qualifications = forms.MultipleChoiceField(
        label=gettext_lazy("须具备资质"),
        required=False,
        choices=[(k, gettext_lazy(v)) for k, v in el.QUALIFICATION_LABELS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    required_lists = forms.MultipleChoiceField(
        label=gettext_lazy("须列入名单"),
        required=False,
        choices=[(k, gettext_lazy(v)) for k, v in el.LIST_LABELS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    required_holdings = forms.MultipleChoiceField(
        label=gettext_lazy("须持有的供应链资产（任一即可）"),
        required=False,
        choices=[(k, gettext_lazy(v)) for k, v in el.HOLDING_LABELS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    required_chain = forms.TypedChoiceField(
        label=gettext_lazy("限定产业链（链主和成员企业）"),
        required=False,
        coerce=int,
        empty_value=None,
    )
    max_carbon_grade = forms.TypedChoiceField(
        label=gettext_lazy("最低碳效等级（1 级最优）"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", gettext_lazy("不限")), *[(str(g), f"{g}") for g in (1, 2, 3, 4, 5)]],
        help_text=gettext_lazy("企业最近年度碳效等级须不劣于此；银行仅在企业授权后可见企业的等级"),
    )
    # 碳效等级利率调整 (percentage points), one input per grade; see clean().
    carbon_rate_adjustment_1 = forms.CharField(
        label=gettext_lazy("碳效 1 级利率调整（百分点）"), required=False, max_length=10
    )
    carbon_rate_adjustment_2 = forms.CharField(
        label=gettext_lazy("碳效 2 级利率调整（百分点）"), required=False, max_length=10
    )
    carbon_rate_adjustment_3 = forms.CharField(
        label=gettext_lazy("碳效 3 级利率调整（百分点）"), required=False, max_length=10
    )
    carbon_rate_adjustment_4 = forms.CharField(
        label=gettext_lazy("碳效 4 级利率调整（百分点）"), required=False, max_length=10
    )
    carbon_rate_adjustment_5 = forms.CharField(
        label=gettext_lazy("碳效 5 级利率调整（百分点）"), required=False, max_length=10
    )
    min_tax_grade = forms.ChoiceField(
        label=gettext_lazy("最低纳税信用等级"),
        required=False,
        choices=[("", gettext_lazy("不限")), *[(g, g) for g in el.TAX_GRADES]],
    )
    min_years = forms.CharField(
        label=gettext_lazy("最少经营年限（年）"), required=False, max_length=5
    )
    min_revenue_wan = forms.CharField(
        label=gettext_lazy("最低年营业收入（万元）"), required=False, max_length=30
    )
    exclude_blacklisted = forms.BooleanField(
        label=gettext_lazy("排除失信黑名单企业"), required=False, initial=True
    )
    summary = forms.CharField(
        label=gettext_lazy("产品介绍"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, institution: FinancialInstitution, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch_id"].choices = [("", gettext_lazy("（总部）"))] + [
            (str(b.pk), b.name) for b in institution.branches.order_by("name", "pk")
        ]
        choices = industry_choices()
        self.fields["industries_in"].choices = choices
        self.fields["industries_out"].choices = choices
        self.fields["required_chain"].choices = [("", gettext_lazy("不限"))] + [
            (str(pk), label) for pk, label in supply.chain_choices()
        ]

    def clean(self):
        data = super().clean()
        # The five inputs travel to the service as one mapping, as over the API.
        data["carbon_rate_adjustments"] = {
            str(g): data.get(f"{ADJUSTMENT_FIELD}{g}") or ""
            for g in carbon.CARBON_GRADES
            if data.get(f"{ADJUSTMENT_FIELD}{g}")
        }
        return data

    def adjustment_fields(self):
        return [self[f"{ADJUSTMENT_FIELD}{g}"] for g in carbon.CARBON_GRADES]

    def add_service_errors(self, exc: ValidationFailed) -> None:
        for error in exc.errors:
            name = error.field
            if name.startswith("carbon_rate_adjustments."):
                name = ADJUSTMENT_FIELD + name.rsplit(".", 1)[1]
            self.add_error(name if name in self.fields else None, error.message)


def _form_initial(product: Product) -> dict:
    values = services.product_input(product)
    for key in ("amount_min_wan", "amount_max_wan", "min_revenue_wan"):
        if values[key] is not None:
            values[key] = format(values[key], "f")
    values["regions"] = ", ".join(values["regions"])
    values["branch_id"] = str(values["branch_id"] or "")
    values["required_chain"] = str(values["required_chain"] or "")
    values["max_carbon_grade"] = str(values.get("max_carbon_grade") or "")
    for grade, value in (values.pop("carbon_rate_adjustments", None) or {}).items():
        values[f"{ADJUSTMENT_FIELD}{grade}"] = value
    return values


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request):
    if not services.can_create_product(request.user):
        raise PermissionDenied
    form = ProductForm(request.POST or None, institution=request.user.institution)
    pickers.bind(form, request.user)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.create_product(request.user, form.cleaned_data)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("产品已保存为草稿，确认无误后请发布"))
            return redirect("finance:product_detail", pk=product.pk)
    return render(request, "finance/product_form.html", {"form": form, "product": None})


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request, pk: int):
    product = _product_or_404(request.user, pk)
    if not services.can_manage_product(request.user, product):
        raise PermissionDenied
    form = ProductForm(
        request.POST or None, initial=_form_initial(product), institution=product.institution
    )
    pickers.bind(form, request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_product(request.user, product, form.cleaned_data)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("finance:product_detail", pk=product.pk)
        else:
            messages.success(request, _("产品已保存"))
            return redirect("finance:product_detail", pk=product.pk)
    return render(request, "finance/product_form.html", {"form": form, "product": product})


@login_required
@require_POST
def product_action(request, pk: int, action: str):
    user = request.user
    product = _product_or_404(user, pk)
    note = request.POST.get("note", "")
    calls = {
        "publish": (lambda: services.publish_product(user, product), None),
        "withdraw": (lambda: services.withdraw_product(user, product), _("产品已下架")),
        "approve": (
            lambda: services.review_product(user, product, approve=True, note=note),
            _("审核通过，产品已发布"),
        ),
        "reject": (
            lambda: services.review_product(user, product, approve=False, note=note),
            _("已退回"),
        ),
    }
    if action not in calls:
        raise Http404
    call, success = calls[action]
    try:
        result = call()
    except NotAllowed:
        raise PermissionDenied from None
    except (Conflict, ValidationFailed) as exc:
        detail = "；".join(e.message for e in exc.errors)
        messages.error(request, exc.message + (f"：{detail}" if detail else ""))
    else:
        if success is None:
            success = (
                _("已提交政府部门审核")
                if result.state == ProductState.PENDING_REVIEW
                else _("产品已发布")
            )
        messages.success(request, success)
    return redirect("finance:product_detail", pk=product.pk)


@login_required
@require_GET
def institution_detail(request, pk: int):
    """An institution's page: who it is, its branches, its published
    products and how enterprises rate its service."""
    institution = (
        FinancialInstitution.objects.visible_to(request.user)
        .select_related("region")
        .filter(pk=pk)
        .first()
    )
    if institution is None:
        raise Http404
    products = list(
        Product.objects.visible_to(request.user)
        .filter(institution=institution, state=ProductState.PUBLISHED)
        .order_by("name", "pk")
    )
    for product in products:
        product.rate_text = rate_text(product)
    return render(
        request,
        "finance/institution_detail.html",
        {
            "institution": institution,
            "branches": institution.branches.select_related("region").order_by("region_id", "name"),
            "products": products,
            # how enterprises rate its service (the demands app's panel)
            **panel_context(
                "finance.institution_detail", user=request.user, institution=institution
            ),
        },
    )
