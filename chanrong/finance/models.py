"""Financial institutions and their branches."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# The LPR history and its tenors live in lpr_models.py (imported here so that
# Django registers the model with this app, and `LprTenor` stays importable from here).
from .lpr_models import LprRate, LprTenor  # noqa: F401


class InstitutionKind(models.TextChoices):
    BANK = "bank", _("银行")
    GUARANTEE = "guarantee", _("融资担保")
    INSURER = "insurer", _("保险")
    LEASING = "leasing", _("融资租赁")
    SECURITIES = "securities", _("证券")
    FUND = "fund", _("基金")
    MICRO_LOAN = "micro_loan", _("小额贷款")
    OTHER = "other", _("其他")


class InstitutionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "InstitutionQuerySet":
        """Institutions publish themselves: every signed-in user may see the
        directory of institutions and branches (not their staff or tokens)."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        return self.all()

    def present_in(self, prefix: str) -> "InstitutionQuerySet":
        """入驻 a region: based there or with a branch there (the one rule the
        dashboard's count and the directory's region filter share)."""
        if not prefix:
            return self
        with_branch = Branch.objects.filter(region__code__startswith=prefix).values(
            "institution_id"
        )
        return self.filter(models.Q(region__code__startswith=prefix) | models.Q(pk__in=with_branch))


class FinancialInstitution(models.Model):
    """A financial institution's head office (总部 / 总行)."""

    name = models.CharField("名称", max_length=100, unique=True)
    short_name = models.CharField("简称", max_length=32, blank=True)
    kind = models.CharField("类型", max_length=16, choices=InstitutionKind.choices)
    uscc = models.CharField("统一社会信用代码", max_length=18, blank=True)
    region = models.ForeignKey(
        "core.Region", verbose_name="总部所在地", on_delete=models.PROTECT, related_name="+"
    )
    website = models.URLField("网站", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InstitutionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "金融机构"
        verbose_name_plural = "金融机构"

    def __str__(self) -> str:
        return self.short_name or self.name


class BranchLevel(models.TextChoices):
    PROVINCIAL = "provincial", _("省级分行/分公司")
    MUNICIPAL = "municipal", _("市级分行/分公司")
    SUB = "sub", _("支行/营业部")


class Branch(models.Model):
    """A branch of an institution, located in (and serving) one region."""

    institution = models.ForeignKey(
        FinancialInstitution, on_delete=models.CASCADE, related_name="branches"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=12, choices=BranchLevel.choices)
    region = models.ForeignKey(
        "core.Region", verbose_name="所在地", on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("电话", max_length=32, blank=True)

    class Meta:
        ordering = ["institution", "region", "name"]
        verbose_name = "分支机构"
        verbose_name_plural = "分支机构"
        constraints = [
            models.UniqueConstraint(fields=["institution", "name"], name="branch_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


# --- financing products (融资产品) -------------------------------------------------


class ProductKind(models.TextChoices):
    CREDIT = "credit", _("信用贷")
    MORTGAGE = "mortgage", _("抵押贷")
    PLEDGE = "pledge", _("质押贷")
    GUARANTEED = "guaranteed", _("担保贷")
    ORDER = "order", _("订单贷")
    TAX = "tax", _("税易贷（银税互动）")
    TECH = "tech", _("科创贷")
    MILITARY_CIVIL = "military_civil", _("军民融合贷")
    GREEN = "green", _("绿色信贷")
    LEASING = "leasing", _("融资租赁")
    INSURANCE = "insurance", _("保险")
    EQUITY = "equity", _("股权投资")
    BOND = "bond", _("债券")


class CollateralKind(models.TextChoices):
    REAL_ESTATE = "real_estate", _("不动产")
    EQUIPMENT = "equipment", _("机器设备")
    RECEIVABLES = "receivables", _("应收账款")
    IP = "ip", _("知识产权")
    WAREHOUSE_RECEIPT = "warehouse_receipt", _("仓单")
    EQUITY = "equity", _("股权")
    DEPOSIT = "deposit", _("存单")
    # The three green rights (环境权益), separate kinds since issue 18: each is
    # registered with its own authority and priced apart. The former single
    # "emission_rights" (排污权/碳排放权) maps to 排污权 + 碳排放权
    # (finance migration 0006, demands migration 0004).
    CARBON_RIGHTS = "carbon_rights", _("碳排放权")
    ENERGY_RIGHTS = "energy_rights", _("用能权")
    POLLUTANT_RIGHTS = "pollutant_rights", _("排污权")


#: What a 质押贷 may be secured by (the seed documents' pledge kinds).
PLEDGE_KINDS = (
    CollateralKind.RECEIVABLES,
    CollateralKind.IP,
    CollateralKind.WAREHOUSE_RECEIPT,
    CollateralKind.EQUITY,
    CollateralKind.DEPOSIT,
    CollateralKind.CARBON_RIGHTS,
    CollateralKind.ENERGY_RIGHTS,
    CollateralKind.POLLUTANT_RIGHTS,
)

#: The green-rights pledges (绿色权益质押) a loan may carry with their
#: registration numbers (risk.GreenPledge).
GREEN_RIGHTS = (
    CollateralKind.CARBON_RIGHTS,
    CollateralKind.ENERGY_RIGHTS,
    CollateralKind.POLLUTANT_RIGHTS,
)


class GuaranteeKind(models.TextChoices):
    GOVERNMENT_GUARANTEE = "government_guarantee", _("政府性融资担保")
    COMMERCIAL_GUARANTEE = "commercial_guarantee", _("商业担保公司担保")
    CORPORATE = "corporate", _("企业保证")
    PERSONAL = "personal", _("个人连带责任保证")
    CREDIT_INSURANCE = "credit_insurance", _("信用保证保险")


class RateType(models.TextChoices):
    FIXED = "fixed", _("固定利率")
    LPR = "lpr", _("LPR 加点")
    NONE = "none", _("不适用")


class ProductState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING_REVIEW = "pending_review", _("待审核")
    PUBLISHED = "published", _("已发布")
    REJECTED = "rejected", _("审核未通过")
    WITHDRAWN = "withdrawn", _("已下架")


class ProductQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ProductQuerySet":
        """Published products are public to every signed-in user. An
        institution also sees its own products in every state; government
        sees every product past the draft (it reviews them); platform admins
        see all."""
        from chanrong.core.scope import ScopeKind, scope_of

        scope = scope_of(user)
        if scope.kind == ScopeKind.NONE:
            return self.none()
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        published = models.Q(state=ProductState.PUBLISHED)
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(published | models.Q(institution_id=scope.institution_id))
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.exclude(state=ProductState.DRAFT)
        return self.filter(published)


class Product(models.Model):
    """A financing product an institution publishes (融资产品).

    Amounts are in 元, terms in months, rates in annual percent. Eligibility
    is data (the `*` list fields and minimums below), read by the pure
    `finance.eligibility.evaluate` through `conditions()`. Ranges are checked
    by `finance.services.clean_product_data`; the check constraints are the
    backstop for anything that bypasses it.
    """

    institution = models.ForeignKey(
        FinancialInstitution, on_delete=models.CASCADE, related_name="products"
    )
    branch = models.ForeignKey(
        Branch,
        verbose_name="经办机构",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="products",
    )
    name = models.CharField("产品名称", max_length=100)
    kind = models.CharField("产品类型", max_length=16, choices=ProductKind.choices)
    pledge_kind = models.CharField(
        "质押物类型", max_length=20, choices=CollateralKind.choices, blank=True
    )
    summary = models.TextField("产品介绍", blank=True)
    amount_min = models.DecimalField("最低额度（元）", max_digits=20, decimal_places=2)
    amount_max = models.DecimalField("最高额度（元）", max_digits=20, decimal_places=2)
    term_min_months = models.PositiveIntegerField("最短期限（月）")
    term_max_months = models.PositiveIntegerField("最长期限（月）")
    rate_type = models.CharField(
        "利率方式", max_length=8, choices=RateType.choices, default=RateType.FIXED
    )
    rate_min = models.DecimalField(
        "最低年利率（%）", max_digits=7, decimal_places=4, null=True, blank=True
    )
    rate_max = models.DecimalField(
        "最高年利率（%）", max_digits=7, decimal_places=4, null=True, blank=True
    )
    lpr_tenor = models.CharField("LPR 品种", max_length=4, choices=LprTenor.choices, blank=True)
    spread_min = models.DecimalField(
        "最低加点（百分点）", max_digits=7, decimal_places=4, null=True, blank=True
    )
    spread_max = models.DecimalField(
        "最高加点（百分点）", max_digits=7, decimal_places=4, null=True, blank=True
    )
    collateral_required = models.BooleanField("须提供抵质押物", default=False)
    collateral_options = models.JSONField("可接受的抵质押物", default=list, blank=True)
    guarantee_options = models.JSONField("可接受的担保方式", default=list, blank=True)
    # --- eligibility as data (empty list / null = no condition)
    regions = models.JSONField("适用地区（行政区划代码）", default=list, blank=True)
    industries_in = models.JSONField("适用行业", default=list, blank=True)
    industries_out = models.JSONField("排除行业", default=list, blank=True)
    sizes = models.JSONField("适用企业规模", default=list, blank=True)
    required_qualifications = models.JSONField("须具备资质", default=list, blank=True)
    required_lists = models.JSONField("须列入名单", default=list, blank=True)
    min_tax_grade = models.CharField("最低纳税信用等级", max_length=1, blank=True)
    min_years = models.PositiveSmallIntegerField("最少经营年限（年）", null=True, blank=True)
    min_revenue = models.DecimalField(
        "最低年营业收入（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    exclude_blacklisted = models.BooleanField("排除失信黑名单企业", default=True)
    #: 供应链金融: the enterprise must hold one of these (eligibility.HOLDING_LABELS codes).
    required_holdings = models.JSONField("须持有的供应链资产", default=list, blank=True)
    #: The id of the industry chain (supplychain.Chain) the product is limited
    #: to: a plain id, not a foreign key, because finance sits below supplychain.
    required_chain = models.PositiveBigIntegerField("限定产业链", null=True, blank=True)
    #: 碳效信贷: the enterprise's latest 碳效等级 must be this or better (1 best
    #: … 5); the grades come from the green app through `finance.carbon`.
    max_carbon_grade = models.PositiveSmallIntegerField("最低碳效等级", null=True, blank=True)
    #: 碳效信贷 pricing: percentage points added to the rate by the
    #: enterprise's grade, {"1": "-0.30", "2": "-0.15", …} (absent = 0). One
    #: JSON mapping rather than five columns: it is read and written whole
    #: (form, API, audit diff, matching), and strings keep the Decimal exact;
    #: `finance.carbon.clean_rate_adjustments` is the only writer's gate.
    carbon_rate_adjustments = models.JSONField("碳效等级利率调整", default=dict, blank=True)
    processing_days = models.PositiveSmallIntegerField(
        "承诺办理时限（工作日）", null=True, blank=True
    )
    state = models.CharField(
        "状态", max_length=16, choices=ProductState.choices, default=ProductState.DRAFT
    )
    review_note = models.CharField("审核意见", max_length=500, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["institution", "name", "pk"]
        verbose_name = "融资产品"
        verbose_name_plural = "融资产品"
        indexes = [models.Index(fields=["state", "kind"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_min__gt=0)
                & models.Q(amount_max__gte=models.F("amount_min")),
                name="product_amount_range",
            ),
            models.CheckConstraint(
                condition=models.Q(term_min_months__gt=0)
                & models.Q(term_max_months__gte=models.F("term_min_months")),
                name="product_term_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_live(self) -> bool:
        return self.state == ProductState.PUBLISHED
