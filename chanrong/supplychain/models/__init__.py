"""Supply-chain finance (供应链金融): industry chains, receivables confirmed by
their debtor (确权), bank financing on them, and digital payables vouchers
(数字债权凭证).

- A `Chain` (产业链) is kept either by a government agency or by its 链主
  (its lead enterprise, field `lead`, for its own chain); `ChainMember` places an
  enterprise on it as a supplier or a dealer, tier 1–3; `ChainMeasure` holds
  the chain's 一链一策 measures as dated text.
- A `Receivable` is what a supplier (the creditor) is owed under a contract,
  named by the debtor's USCC; it carries its `Invoice`s, each registered once
  on the whole platform. The debtor confirms it (确权) in full or in part, or
  disputes it; a confirmed amount never changes.
  A 政府采购 (政采) contract is a receivable of kind `gov_procurement`: its
  debtor, the purchasing body (采购人), is either a `GovernmentAgency` on the
  platform (whose officials confirm it) or an enterprise-like purchaser — a
  事业单位, a state-owned company, a school, a hospital — registered in the
  registry under its USCC (whose enterprise users confirm it). Agencies carry
  no USCC here, so the two cannot be told apart by code alone: the contract
  names one or the other.
- A `Financing` is one bank's pledge (质押) or factoring (保理) on a
  receivable: it takes `backing` of the receivable's confirmed amount as
  security and lends `amount` ≤ backing × advance ratio.
- A `Voucher` is a node of a 数字债权凭证 tree: the root is issued by a core
  enterprise against a confirmed payable; a holder splits a node into
  children (parts transferred, discounted, or kept as the remainder) whose
  amounts sum to the node's. Amounts never change after creation.

The two running totals on a receivable — `financed` (the backing of every
financing on it) and `vouchered` (the face of every voucher issued against
it) — are moved only under the receivable's row lock, and a check constraint
holds `financed + vouchered ≤ confirmed_amount`: that is the double-financing
guard (docs/supplychain.md).

Visibility: see each family's `visible_to`.

The supporting documents of a receivable (`ReceivableAttachment`) and a
holder's application to discount a voucher at a bank (`DiscountApplication`)
live in their own modules below, re-exported here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import ScopeKind, scope_of

MONEY = {"max_digits": 20, "decimal_places": 2}
RATE = {"max_digits": 9, "decimal_places": 6}


def _enterprise_uscc(enterprise_id: int):
    """A subquery: the USCC of one enterprise (for receivables named by code)."""
    from chanrong.registry.models import Enterprise

    return Enterprise.objects.filter(pk=enterprise_id).values("uscc")


# --- chains ----------------------------------------------------------------------------


class ChainKeeper(models.TextChoices):
    """Who keeps a chain. 链主 is "lead enterprise" in English throughout
    (field `Chain.lead`); "core enterprise" is reserved for 核心企业, an
    enterprise on a 应收账款核心企业名单. The value "core" (kept by the lead
    enterprise) is stable: the API and stored rows use it."""

    AGENCY = "agency", _("政府部门维护")
    CORE = "core", _("链主企业维护")


class ChainQuerySet(models.QuerySet):
    def visible_to(self, user) -> ChainQuerySet:
        """Banks see every chain (they lend by chain); an agency the chains of
        its region's subtree and those it keeps; an enterprise the chains it
        leads or belongs to; platform admins all."""
        scope = scope_of(user)
        if scope.kind in (ScopeKind.PLATFORM, ScopeKind.INSTITUTION):
            return self.all()
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(
                Q(region__code__startswith=scope.region_prefix) | Q(agency_id=scope.agency_id)
            )
        if scope.kind == ScopeKind.ENTERPRISE:
            member = ChainMember.objects.filter(
                chain_id=OuterRef("pk"), enterprise_id=scope.enterprise_id
            )
            return self.filter(Q(lead_id=scope.enterprise_id) | Exists(member))
        return self.none()


class Chain(models.Model):
    """An industry chain (产业链) in one region, e.g. 嘉善 新能源汽车."""

    name = models.CharField("产业链名称", max_length=100)
    region = models.ForeignKey(
        "core.Region", verbose_name="所在地区", on_delete=models.PROTECT, related_name="+"
    )
    #: 链主, the lead enterprise at the head of the chain (required when it keeps the chain).
    lead = models.ForeignKey(
        "registry.Enterprise",
        verbose_name="链主企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kept_by = models.CharField("维护方", max_length=8, choices=ChainKeeper.choices)
    agency = models.ForeignKey(
        "accounts.GovernmentAgency",
        verbose_name="维护部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    #: The chain's industry (GB/T 4754 section or division), for lists and statistics.
    industry = models.ForeignKey(
        "core.Industry",
        verbose_name="所属行业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChainQuerySet.as_manager()

    class Meta:
        ordering = ["region", "name"]
        verbose_name = "产业链"
        verbose_name_plural = "产业链"
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="chain_unique_name_in_region"),
            models.CheckConstraint(
                condition=Q(kept_by=ChainKeeper.AGENCY, agency__isnull=False)
                | Q(kept_by=ChainKeeper.CORE, agency__isnull=True, lead__isnull=False),
                name="chain_keeper_named",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChainMeasureQuerySet(models.QuerySet):
    def visible_to(self, user) -> ChainMeasureQuerySet:
        """Whoever sees the chain sees its measures."""
        return self.filter(chain__in=Chain.objects.visible_to(user))


class ChainMeasure(models.Model):
    """One 一链一策 measure of a chain: dated text, appended, never rewritten."""

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="measures")
    issued_on = models.DateField("日期")
    text = models.TextField("措施内容")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ChainMeasureQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on", "-pk"]
        verbose_name = "一链一策措施"
        verbose_name_plural = "一链一策措施"

    def __str__(self) -> str:
        return f"{self.issued_on} {self.text[:20]}"


class MemberRole(models.TextChoices):
    SUPPLIER = "supplier", _("供应商")
    DEALER = "dealer", _("经销商")


class ChainMemberQuerySet(models.QuerySet):
    def visible_to(self, user) -> ChainMemberQuerySet:
        """Banks see every membership (products may require it); an agency
        those of the chains it sees; an enterprise its own memberships and the
        members of chains it leads; platform admins all."""
        scope = scope_of(user)
        if scope.kind in (ScopeKind.PLATFORM, ScopeKind.INSTITUTION):
            return self.all()
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(chain__in=Chain.objects.visible_to(user))
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(
                Q(enterprise_id=scope.enterprise_id) | Q(chain__lead_id=scope.enterprise_id)
            )
        return self.none()


class ChainMember(models.Model):
    """An enterprise on a chain: supplier or dealer, tier 1 (direct) to 3."""

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="members")
    enterprise = models.ForeignKey(
        "registry.Enterprise", verbose_name="成员企业", on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField("角色", max_length=8, choices=MemberRole.choices)
    tier = models.PositiveSmallIntegerField("层级")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    objects = ChainMemberQuerySet.as_manager()

    class Meta:
        ordering = ["chain", "role", "tier", "pk"]
        verbose_name = "产业链成员"
        verbose_name_plural = "产业链成员"
        constraints = [
            models.UniqueConstraint(fields=["chain", "enterprise"], name="chain_member_once"),
            models.CheckConstraint(
                condition=Q(tier__gte=1) & Q(tier__lte=3), name="chain_member_tier_1_to_3"
            ),
        ]
        indexes = [models.Index(fields=["enterprise"], name="chain_member_enterprise")]

    def __str__(self) -> str:
        return f"{self.chain_id}/{self.enterprise_id}"


# --- receivables -----------------------------------------------------------------------


class ReceivableKind(models.TextChoices):
    ORDINARY = "ordinary", _("应收账款")
    GOV_PROCUREMENT = "gov_procurement", _("政府采购合同")


class ReceivableState(models.TextChoices):
    REGISTERED = "registered", _("待确权")
    CONFIRMED = "confirmed", _("已确权")
    PARTLY_CONFIRMED = "partly_confirmed", _("部分确权")
    DISPUTED = "disputed", _("有异议")
    WITHDRAWN = "withdrawn", _("已撤回")


#: States in which the receivable has a confirmed amount that can back financing.
CONFIRMED_STATES = (ReceivableState.CONFIRMED, ReceivableState.PARTLY_CONFIRMED)
CONFIRMED_STATE_VALUES = [str(s) for s in CONFIRMED_STATES]


class ReceivableQuerySet(models.QuerySet):
    def visible_to(self, user) -> ReceivableQuerySet:
        """The creditor; the debtor (by its USCC, so a debtor that registers
        after the receivable still finds it to confirm) or the purchasing
        agency; a bank the receivables it finances and the confirmed ones of
        suppliers that authorised it (DataAuthorisation: the receivable is
        offered to it); an agency those whose creditor is in its region's
        subtree; platform admins all."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(
                Q(creditor_id=scope.enterprise_id)
                | Q(debtor_id=scope.enterprise_id)
                | Q(debtor_uscc__in=_enterprise_uscc(scope.enterprise_id))
            )
        if scope.kind == ScopeKind.INSTITUTION:
            from chanrong.registry.models import DataAuthorisation

            authorised = DataAuthorisation.objects.filter(
                enterprise_id=OuterRef("creditor_id"),
                institution_id=scope.institution_id,
                revoked_at__isnull=True,
            )
            financed = Financing.objects.filter(
                receivable_id=OuterRef("pk"), bank_id=scope.institution_id
            )
            return self.filter(
                (Q(state__in=CONFIRMED_STATE_VALUES) & Exists(authorised)) | Exists(financed)
            )
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(
                Q(creditor__region__code__startswith=scope.region_prefix)
                | Q(purchaser_agency_id=scope.agency_id)
            )
        return self.none()

    def confirmed(self) -> ReceivableQuerySet:
        return self.filter(state__in=CONFIRMED_STATE_VALUES)


class Receivable(models.Model):
    """What a supplier is owed under one contract, until the debtor pays.

    `amount` is what the supplier claims; `confirmed_amount` what the debtor
    confirmed (set once, never changed); `financed` and `vouchered` what of
    the confirmed amount backs financing and vouchers (see the module
    docstring)."""

    kind = models.CharField(
        "类型", max_length=16, choices=ReceivableKind.choices, default=ReceivableKind.ORDINARY
    )
    creditor = models.ForeignKey(
        "registry.Enterprise",
        verbose_name="债权人（供应商）",
        on_delete=models.PROTECT,
        related_name="+",
    )
    #: The debtor as the contract names it; blank only for a purchasing agency.
    debtor_uscc = models.CharField("债务人统一社会信用代码", max_length=18, blank=True)
    debtor_name = models.CharField("债务人名称", max_length=100)
    #: The registered enterprise with `debtor_uscc`, once known (at the latest at 确权).
    debtor = models.ForeignKey(
        "registry.Enterprise",
        verbose_name="债务人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    #: 政采: the purchasing body when it is a government agency on the platform.
    purchaser_agency = models.ForeignKey(
        "accounts.GovernmentAgency",
        verbose_name="采购人（政府部门）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    contract_no = models.CharField("合同编号", max_length=64)
    amount = models.DecimalField("应收账款金额（元）", **MONEY)
    issued_on = models.DateField("债权发生日期")
    due_on = models.DateField("到期日期")
    #: 政采 payment schedule: [{"due_on": "YYYY-MM-DD", "amount": "元"}, …], summing to `amount`.
    payment_schedule = models.JSONField("付款计划", default=list, blank=True)
    state = models.CharField(
        "状态",
        max_length=16,
        choices=ReceivableState.choices,
        default=ReceivableState.REGISTERED,
        db_index=True,
    )
    confirmed_amount = models.DecimalField("确权金额（元）", null=True, blank=True, **MONEY)
    confirmed_at = models.DateTimeField("确权时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: Whether the debtor was on a 应收账款核心企业名单 in force when it confirmed
    #: (a confirmation at platform level, which products may require).
    debtor_listed = models.BooleanField("核心企业确权", default=False)
    dispute_reason = models.CharField("异议理由", max_length=500, blank=True)
    financed = models.DecimalField("已融资占用（元）", default=0, **MONEY)
    vouchered = models.DecimalField("已开立凭证（元）", default=0, **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReceivableQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "应收账款"
        verbose_name_plural = "应收账款"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receivable_amount_positive"),
            models.CheckConstraint(
                condition=Q(due_on__gte=F("issued_on")), name="receivable_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(confirmed_amount__isnull=True)
                | (Q(confirmed_amount__gt=0) & Q(confirmed_amount__lte=F("amount"))),
                name="receivable_confirmed_within_amount",
            ),
            # The double-financing guard's last line: whatever a code path
            # does, financing and vouchers never exceed the confirmed amount.
            models.CheckConstraint(
                condition=Q(financed__gte=0)
                & Q(vouchered__gte=0)
                & (
                    Q(confirmed_amount__isnull=True, financed=0, vouchered=0)
                    | Q(
                        confirmed_amount__isnull=False,
                        confirmed_amount__gte=F("financed") + F("vouchered"),
                    )
                ),
                name="receivable_financed_within_confirmed",
            ),
            models.CheckConstraint(
                condition=(
                    Q(state=ReceivableState.CONFIRMED, confirmed_amount=F("amount"))
                    | Q(
                        state=ReceivableState.PARTLY_CONFIRMED,
                        confirmed_amount__lt=F("amount"),
                    )
                    | (~Q(state__in=CONFIRMED_STATE_VALUES) & Q(confirmed_amount__isnull=True))
                ),
                name="receivable_state_matches_confirmation",
            ),
            # Named by USCC, or (政采 only) a purchasing agency instead.
            models.CheckConstraint(
                condition=(Q(purchaser_agency__isnull=True) & ~Q(debtor_uscc=""))
                | Q(
                    kind=ReceivableKind.GOV_PROCUREMENT,
                    purchaser_agency__isnull=False,
                    debtor_uscc="",
                ),
                name="receivable_debtor_named_once",
            ),
        ]
        indexes = [
            models.Index(fields=["creditor", "state"], name="receivable_creditor_state"),
            models.Index(fields=["debtor_uscc"], name="receivable_debtor_uscc"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_no}"

    @property
    def available(self):
        """The confirmed amount not yet backing financing or a voucher."""
        if self.confirmed_amount is None:
            return 0
        return self.confirmed_amount - self.financed - self.vouchered


class Invoice(models.Model):
    """An invoice behind a receivable: 发票代码 + 发票号码 (10- or 12-digit
    code, 8-digit number), or the 20-digit number of a fully digital invoice
    (数电票, no code). Registered once on the whole platform, whoever
    registers it: the unique constraint holds for every live invoice, and an
    invoice is freed only when its receivable is withdrawn — which is
    possible only before confirmation, so never once it could back financing."""

    receivable = models.ForeignKey(Receivable, on_delete=models.CASCADE, related_name="invoices")
    code = models.CharField("发票代码", max_length=12, blank=True)
    number = models.CharField("发票号码", max_length=20)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = "发票"
        verbose_name_plural = "发票"
        constraints = [
            models.UniqueConstraint(
                fields=["code", "number"],
                condition=Q(active=True),
                name="invoice_registered_once",
            ),
            models.CheckConstraint(
                condition=Q(Exact(Length("number"), 20), code="")
                | (
                    Q(Exact(Length("number"), 8))
                    & (Q(Exact(Length("code"), 10)) | Q(Exact(Length("code"), 12)))
                ),
                name="invoice_number_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.number}".strip()


# --- financing -------------------------------------------------------------------------


class FinancingMode(models.TextChoices):
    PLEDGE = "pledge", _("应收账款质押")
    FACTORING_RECOURSE = "factoring_recourse", _("有追索权保理")
    FACTORING_NON_RECOURSE = "factoring_non_recourse", _("无追索权保理")


class FinancingState(models.TextChoices):
    ACTIVE = "active", _("已放款")
    OVERDUE = "overdue", _("已逾期")
    REPAID = "repaid", _("已还款")


class FinancingQuerySet(models.QuerySet):
    def visible_to(self, user) -> FinancingQuerySet:
        """The bank; the receivable's creditor and debtor (a factoring must be
        notified to the debtor, who pays the bank); an agency those whose
        creditor is in its region's subtree; platform admins all."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(bank_id=scope.institution_id)
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(
                Q(receivable__creditor_id=scope.enterprise_id)
                | Q(receivable__debtor_id=scope.enterprise_id)
            )
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(
                Q(receivable__creditor__region__code__startswith=scope.region_prefix)
                | Q(receivable__purchaser_agency_id=scope.agency_id)
            )
        return self.none()


class Financing(models.Model):
    """One bank's financing on one receivable.

    `backing` is the part of the confirmed amount pledged or assigned to the
    bank (it is added to the receivable's `financed`); `amount` is what the
    bank lends on it, at most backing × `advance_ratio` %."""

    receivable = models.ForeignKey(
        Receivable, verbose_name="应收账款", on_delete=models.PROTECT, related_name="financings"
    )
    bank = models.ForeignKey(
        "finance.FinancialInstitution",
        verbose_name="融资银行",
        on_delete=models.PROTECT,
        related_name="+",
    )
    mode = models.CharField("融资方式", max_length=24, choices=FinancingMode.choices)
    backing = models.DecimalField("质押/转让应收账款金额（元）", **MONEY)
    amount = models.DecimalField("融资金额（元）", **MONEY)
    advance_ratio = models.DecimalField("融资比例（%）", **RATE)
    #: 动产融资统一登记公示系统 (中登网) registration number of the pledge or assignment.
    registration_no = models.CharField("中登网登记编号", max_length=32, unique=True)
    contract_no = models.CharField("融资合同编号", max_length=64)
    financed_on = models.DateField("放款日期")
    matures_on = models.DateField("到期日期")
    #: 回款账户: where the debtor pays (政采贷: the purchasing body pays into it).
    repayment_account = models.CharField("回款账户", max_length=100, blank=True)
    state = models.CharField(
        "状态",
        max_length=12,
        choices=FinancingState.choices,
        default=FinancingState.ACTIVE,
        db_index=True,
    )
    repaid_on = models.DateField("还款日期", null=True, blank=True)
    overdue_on = models.DateField("逾期日期", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FinancingQuerySet.as_manager()

    class Meta:
        ordering = ["-financed_on", "-pk"]
        verbose_name = "应收账款融资"
        verbose_name_plural = "应收账款融资"
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(amount__lte=F("backing")),
                name="financing_amount_within_backing",
            ),
            models.CheckConstraint(
                condition=Q(advance_ratio__gt=0) & Q(advance_ratio__lte=100),
                name="financing_ratio_range",
            ),
            models.CheckConstraint(
                condition=Q(matures_on__gte=F("financed_on")), name="financing_dates_ordered"
            ),
        ]
        indexes = [models.Index(fields=["bank", "state"], name="financing_bank_state")]

    def __str__(self) -> str:
        return self.contract_no


# --- digital payables vouchers ---------------------------------------------------------


class VoucherState(models.TextChoices):
    HELD = "held", _("持有中")
    TRANSFERRED = "transferred", _("已拆分转让")
    DISCOUNTED = "discounted", _("已贴现")
    PAID = "paid", _("已兑付")


#: Leaves still owed by the issuer (paid at maturity).
OUTSTANDING_STATES = (VoucherState.HELD, VoucherState.DISCOUNTED)


class VoucherQuerySet(models.QuerySet):
    def visible_to(self, user) -> VoucherQuerySet:
        """The issuer (it pays every leaf at maturity) and every enterprise
        that holds or held a node; the bank a node was discounted at; an
        agency those whose issuer is in its region's subtree; platform
        admins all."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(Q(issuer_id=scope.enterprise_id) | Q(holder_id=scope.enterprise_id))
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(bank_id=scope.institution_id)
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(issuer__region__code__startswith=scope.region_prefix)
        return self.none()

    def tree(self, root_id: int) -> VoucherQuerySet:
        """Every node of the tree rooted at `root_id`, the root included."""
        return self.filter(Q(pk=root_id) | Q(root_id=root_id))


class Voucher(models.Model):
    """One node of a 数字债权凭证 tree.

    A node's amount never changes. Splitting a held node moves it to
    `transferred` and creates children — the parts transferred or discounted
    and, when something is left, the remainder kept by the holder — whose
    amounts sum exactly to the node's (`allocated`, written in the same
    transaction under the node's row lock). So the outstanding leaves (held
    or discounted) of a tree always sum to the root's face amount."""

    number = models.CharField("凭证编号", max_length=64, unique=True)
    receivable = models.ForeignKey(
        Receivable, verbose_name="基础应付账款", on_delete=models.PROTECT, related_name="vouchers"
    )
    issuer = models.ForeignKey(
        "registry.Enterprise", verbose_name="开立企业", on_delete=models.PROTECT, related_name="+"
    )
    root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    depth = models.PositiveIntegerField("层级", default=0)
    #: Who holds (or, for a transferred or discounted node, last held) it.
    holder = models.ForeignKey(
        "registry.Enterprise", verbose_name="持有企业", on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField("金额（元）", **MONEY)
    state = models.CharField(
        "状态", max_length=12, choices=VoucherState.choices, default=VoucherState.HELD
    )
    #: The sum of the children's amounts: 0, or the whole amount once split.
    allocated = models.DecimalField(default=0, **MONEY)
    issued_on = models.DateField("开立日期")
    due_on = models.DateField("到期日期")
    bank = models.ForeignKey(
        "finance.FinancialInstitution",
        verbose_name="贴现银行",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    discount_rate = models.DecimalField("贴现年利率（%）", null=True, blank=True, **RATE)
    discount_proceeds = models.DecimalField("贴现实付（元）", null=True, blank=True, **MONEY)
    discounted_on = models.DateField("贴现日期", null=True, blank=True)
    discount_contract_no = models.CharField("贴现合同编号", max_length=64, blank=True)
    paid_on = models.DateField("兑付日期", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VoucherQuerySet.as_manager()

    class Meta:
        ordering = ["root_id", "pk"]
        verbose_name = "数字债权凭证"
        verbose_name_plural = "数字债权凭证"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="voucher_amount_positive"),
            models.CheckConstraint(
                condition=Q(state=VoucherState.TRANSFERRED, allocated=F("amount"))
                | (~Q(state=VoucherState.TRANSFERRED) & Q(allocated=0)),
                name="voucher_split_allocates_all",
            ),
            models.CheckConstraint(
                condition=~Q(state=VoucherState.DISCOUNTED) | Q(bank__isnull=False),
                name="voucher_discount_names_bank",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, root__isnull=True, depth=0)
                | Q(parent__isnull=False, root__isnull=False, depth__gt=0),
                name="voucher_tree_shape",
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=F("issued_on")), name="voucher_dates_ordered"
            ),
        ]
        indexes = [
            models.Index(fields=["root", "state"], name="voucher_root_state"),
            models.Index(fields=["holder", "state"], name="voucher_holder_state"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def tree_root_id(self) -> int:
        return self.root_id or self.pk


from .attachments import (  # noqa: E402  (they reference the models above)
    AttachmentKind,
    ReceivableAttachment,
)
from .discounts import (  # noqa: E402
    DiscountApplication,
    DiscountApplicationState,
)
from .zhongzheng import (  # noqa: E402
    ZhongzhengLink,
    ZhongzhengStatus,
)

__all__ = [
    "CONFIRMED_STATES",
    "CONFIRMED_STATE_VALUES",
    "OUTSTANDING_STATES",
    "AttachmentKind",
    "Chain",
    "ChainKeeper",
    "ChainMeasure",
    "ChainMember",
    "DiscountApplication",
    "DiscountApplicationState",
    "Financing",
    "FinancingMode",
    "FinancingState",
    "Invoice",
    "MemberRole",
    "Receivable",
    "ReceivableAttachment",
    "ReceivableKind",
    "ReceivableState",
    "Voucher",
    "VoucherState",
    "ZhongzhengLink",
    "ZhongzhengStatus",
]
