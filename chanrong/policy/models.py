"""Government money beside bank money (财政金融互动): programmes, the loans
they pay on, applications, the budget ledger, and the two revolving pools.

- A `Programme` is one instrument of one agency (贴息, 担保费补贴, 转贷应急,
  风险补偿, 奖励) with its legal basis, period, eligibility and the parameters
  of its kind, both as JSON validated by `policy.params` / `policy.rules`
  (so a new parameter is a code change in one place, not a migration).
- A `Loan` is the fact every instrument pays on: either a loan disbursed on
  the platform (copied from the demand's disbursement, nothing retyped) or an
  off-platform loan whose facts the lending bank confirms.
- An `Application` asks one programme for money on one loan for one period
  (or for one award item); its amount comes from `policy.calculator`, the same
  function at submission, review and payment.
- `BudgetYear` is the ledger's running total per programme and year, locked
  on every commitment, so commitments plus payments never exceed the
  appropriation; `EnterpriseYear` does the same for an enterprise's annual
  cap; `LedgerEntry` keeps every movement.
- `Pool` is the capital of a 转贷应急 or 风险补偿 programme, with its
  movements: bridge draws and repayments, loss compensation and recoveries.

Visibility: programmes in force are public; an enterprise sees its own
applications, a bank those on its loans, an agency those of programmes in its
region's subtree.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from chanrong.core.fieldcrypt import EncryptedTextField
from chanrong.core.scope import ScopeKind, scope_of

MONEY = {"max_digits": 20, "decimal_places": 2}
RATE = {"max_digits": 9, "decimal_places": 6}


class ProgrammeKind(models.TextChoices):
    INTEREST = "interest", _("贷款贴息")
    GUARANTEE_FEE = "guarantee_fee", _("担保费补贴")
    BRIDGE = "bridge", _("转贷应急")
    RISK_POOL = "risk_pool", _("风险补偿")
    AWARD = "award", _("奖励")


#: Kinds whose money goes out through applications checked against the yearly
#: budget; the two pools move their own capital instead.
APPLICATION_KINDS = (ProgrammeKind.INTEREST, ProgrammeKind.GUARANTEE_FEE, ProgrammeKind.AWARD)
POOL_KINDS = (ProgrammeKind.BRIDGE, ProgrammeKind.RISK_POOL)


class ProgrammeState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    CLOSED = "closed", _("已结束")


class ProgrammeQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProgrammeQuerySet:
        """Published and closed programmes are public; drafts only to the
        agencies whose region subtree holds the programme's region (and
        platform admins)."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        public = ~Q(state=ProgrammeState.DRAFT)
        if scope.kind == ScopeKind.GOVERNMENT:
            mine = Q(region__code__startswith=scope.region_prefix)
            return self.filter(public | mine)
        return self.filter(public)

    def managed_by(self, user) -> ProgrammeQuerySet:
        """Programmes this user may edit and whose applications it reviews:
        a 财政 or 工信 agency's own region subtree."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind != ScopeKind.GOVERNMENT:
            return self.none()
        return self.filter(region__code__startswith=scope.region_prefix)

    def in_force(self, day) -> ProgrammeQuerySet:
        return self.filter(state=ProgrammeState.PUBLISHED, starts_on__lte=day, ends_on__gte=day)


class Programme(models.Model):
    """One subsidy, fund or award programme of one agency."""

    agency = models.ForeignKey(
        "accounts.GovernmentAgency",
        verbose_name="主管部门",
        on_delete=models.PROTECT,
        related_name="programmes",
    )
    region = models.ForeignKey(
        "core.Region", verbose_name="适用地区", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("政策类型", max_length=16, choices=ProgrammeKind.choices)
    name = models.CharField("政策名称", max_length=200)
    basis = models.CharField("政策依据（文号）", max_length=200)
    summary = models.TextField("政策说明", blank=True)
    starts_on = models.DateField("政策开始日期")
    ends_on = models.DateField("政策结束日期")
    state = models.CharField(
        "状态", max_length=12, choices=ProgrammeState.choices, default=ProgrammeState.DRAFT
    )
    #: Kind-specific parameters (policy.params): rates, caps, day-count basis …
    params = models.JSONField("政策参数", default=dict)
    #: Who qualifies (policy.rules): enterprise classes, lists, regions, loan terms …
    eligibility = models.JSONField("申报条件", default=dict)
    requires_bank_confirmation = models.BooleanField("需贷款银行确认", default=True)
    #: 免申即享: the platform builds the application from its own data and the
    #: enterprise only confirms it.
    auto_apply = models.BooleanField("免申即享", default=False)
    notice_days = models.PositiveSmallIntegerField("公示期（工作日）", default=5)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgrammeQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = "政策项目"
        verbose_name_plural = "政策项目"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="programme_period_ordered"
            ),
        ]
        indexes = [models.Index(fields=["state", "kind"])]

    def __str__(self) -> str:
        return self.name


class LoanSource(models.TextChoices):
    PLATFORM = "platform", _("平台放款")
    OFF_PLATFORM = "off_platform", _("平台外贷款")


class LoanQuerySet(models.QuerySet):
    def visible_to(self, user) -> LoanQuerySet:
        """The borrower, the lending institution, the agencies of the
        borrower's region subtree, and platform admins."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(enterprise_id=scope.enterprise_id)
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(institution_id=scope.institution_id)
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(enterprise__region__code__startswith=scope.region_prefix)
        return self.none()


class Loan(models.Model):
    """A loan a programme pays on. Platform loans are copied from the demand's
    disbursement and are confirmed by construction (the bank reported them);
    an off-platform loan counts only once its bank confirms it."""

    enterprise = models.ForeignKey(
        "registry.Enterprise", verbose_name="借款企业", on_delete=models.PROTECT, related_name="+"
    )
    institution = models.ForeignKey(
        "finance.FinancialInstitution",
        verbose_name="贷款机构",
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField("来源", max_length=16, choices=LoanSource.choices)
    demand = models.OneToOneField(
        "demands.Demand",
        verbose_name="平台融资需求",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policy_loan",
    )
    contract_no = models.CharField("借款合同编号", max_length=64)
    principal = models.DecimalField("贷款金额（元）", **MONEY)
    rate = models.DecimalField("执行年利率（%）", **RATE)
    loan_date = models.DateField("放款日期")
    maturity_date = models.DateField("到期日期")
    #: Demand kind ("debt" …) and a few words of purpose, for eligibility.
    kind = models.CharField("贷款类型", max_length=16, default="debt")
    purpose = models.CharField("贷款用途", max_length=200, blank=True)
    project = models.ForeignKey(
        "registry.Project",
        verbose_name="支持项目",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: Guarantee on the loan (担保费补贴): guarantor, amount and yearly fee rate.
    guarantor = models.ForeignKey(
        "finance.FinancialInstitution",
        verbose_name="担保机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    guarantee_fee_rate = models.DecimalField("担保费率（%/年）", null=True, blank=True, **RATE)
    confirmed_at = models.DateTimeField("银行确认时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LoanQuerySet.as_manager()

    class Meta:
        ordering = ["-loan_date", "pk"]
        verbose_name = "贷款"
        verbose_name_plural = "贷款"
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "contract_no"], name="loan_contract_unique"
            ),
            models.CheckConstraint(condition=Q(principal__gt=0), name="loan_principal_positive"),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lt=100), name="loan_rate_range"
            ),
            models.CheckConstraint(
                condition=Q(maturity_date__gt=F("loan_date")), name="loan_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_no}"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class ApplicationState(models.TextChoices):
    #: 免申即享: built by the platform from its own data, waiting for the enterprise to confirm.
    PROPOSED = "proposed", _("待企业确认")
    BANK_PENDING = "bank_pending", _("待银行确认")
    SUBMITTED = "submitted", _("待初审")
    VERIFIED = "verified", _("待财政复核")
    NOTICE = "notice", _("公示中")
    APPROVED = "approved", _("待拨付")
    PAID = "paid", _("已拨付")
    REJECTED = "rejected", _("已驳回")
    WITHDRAWN = "withdrawn", _("已撤回")


#: States in which an application holds a claim on its loan and period: a second
#: application for the same loan and period is refused while one is live.
LIVE_STATES = (
    ApplicationState.PROPOSED,
    ApplicationState.BANK_PENDING,
    ApplicationState.SUBMITTED,
    ApplicationState.VERIFIED,
    ApplicationState.NOTICE,
    ApplicationState.APPROVED,
    ApplicationState.PAID,
)
LIVE_STATE_VALUES = [str(state) for state in LIVE_STATES]
#: States that hold budget (committed at 财政复核, released on rejection/withdrawal).
COMMITTED_STATES = (ApplicationState.NOTICE, ApplicationState.APPROVED)


class ApplicationQuerySet(models.QuerySet):
    def visible_to(self, user) -> ApplicationQuerySet:
        """An enterprise sees its own; an institution those on its loans (or
        naming it as the awarded bank); an agency those of programmes in its
        region subtree; platform admins all."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(enterprise_id=scope.enterprise_id)
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(
                Q(loan__institution_id=scope.institution_id)
                | Q(institution_id=scope.institution_id)
            )
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(programme__region__code__startswith=scope.region_prefix)
        return self.none()

    def in_notice(self) -> ApplicationQuerySet:
        """What the public 公示 page lists."""
        return self.filter(state=ApplicationState.NOTICE)


class Application(models.Model):
    """One claim on one programme: a loan and a period, or an award item."""

    programme = models.ForeignKey(
        Programme, verbose_name="政策项目", on_delete=models.PROTECT, related_name="applications"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        verbose_name="申请企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    #: The institution paid, for awards to banks (首贷奖励); else the lender.
    institution = models.ForeignKey(
        "finance.FinancialInstitution",
        verbose_name="申请机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    loan = models.ForeignKey(
        Loan,
        verbose_name="贷款",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    #: The budget year the money comes from (the year the period ends in).
    year = models.PositiveSmallIntegerField("预算年度")
    period_start = models.DateField("计息起始日", null=True, blank=True)
    period_end = models.DateField("计息截止日", null=True, blank=True)
    #: Interest or guarantee fee actually paid in the period, as the bank confirmed.
    paid_cost = models.DecimalField("实付利息/担保费（元）", null=True, blank=True, **MONEY)
    award_item = models.CharField("奖励事项", max_length=64, blank=True)
    amount = models.DecimalField("核定金额（元）", default=0, **MONEY)
    #: The calculator's explanation at the last computation (policy.calculator.Result.as_json()).
    calculation = models.JSONField("计算过程", default=dict)
    state = models.CharField("状态", max_length=16, choices=ApplicationState.choices, db_index=True)
    auto_built = models.BooleanField("免申即享生成", default=False)
    reason = models.CharField("驳回/撤回原因", max_length=500, blank=True)
    notice_starts_on = models.DateField("公示开始", null=True, blank=True)
    notice_ends_on = models.DateField("公示截止", null=True, blank=True)
    voucher_no = models.CharField("拨付凭证号", max_length=64, blank=True)
    paid_on = models.DateField("拨付日期", null=True, blank=True)
    bank_confirmed_at = models.DateTimeField(null=True, blank=True)
    bank_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    #: Four eyes: 初审 and 财政复核 are done by different people.
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "政策申请"
        verbose_name_plural = "政策申请"
        constraints = [
            # One live application per programme, loan and period start (a
            # double submission); overlapping periods are refused by the
            # service under the loan's row lock, with a clear message.
            models.UniqueConstraint(
                fields=["programme", "loan", "period_start"],
                condition=Q(loan__isnull=False) & Q(state__in=LIVE_STATE_VALUES),
                name="application_one_live_per_loan_period",
            ),
            models.UniqueConstraint(
                fields=["programme", "enterprise", "award_item"],
                condition=Q(loan__isnull=True)
                & Q(enterprise__isnull=False)
                & Q(state__in=LIVE_STATE_VALUES),
                name="application_one_live_award",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="application_amount_nonneg"),
        ]
        indexes = [
            models.Index(fields=["programme", "state"]),
            models.Index(fields=["enterprise", "year"]),
        ]

    def __str__(self) -> str:
        return f"{self.programme} #{self.pk}"


class Objection(models.Model):
    """An objection (异议) raised during 公示, recorded with its handling."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="objections"
    )
    # A member of the public: encrypted at rest, shown masked
    # (services/objection_personal.py, docs/registry.md "Personal data").
    name = EncryptedTextField("异议人", max_length=64)
    contact = EncryptedTextField("联系方式", max_length=64)
    text = models.TextField("异议内容")
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField("处理意见", max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "公示异议"
        verbose_name_plural = "公示异议"

    def __str__(self) -> str:
        # Never the objector's name: this string is what audit entries keep.
        return f"公示异议 #{self.pk}"


class Attachment(models.Model):
    """Supporting material: loan contract, interest payment slips, guarantee
    contract, fee invoice, renewal commitment … (checked like the pilot
    application's uploads)."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="attachments"
    )
    slot = models.CharField("材料类型", max_length=32)
    file = models.FileField(upload_to="policy/%Y/%m/")
    original_name = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slot", "uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class BudgetYear(models.Model):
    """A programme's appropriation for one year and what is held against it.

    Locked (SELECT … FOR UPDATE) by every commitment, release and payment;
    the check constraint is the last line of defence should a code path ever
    forget the lock."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="budget_years")
    year = models.PositiveSmallIntegerField("年度")
    appropriation = models.DecimalField("年度预算（元）", **MONEY)
    committed = models.DecimalField("已承诺（元）", default=0, **MONEY)
    paid = models.DecimalField("已拨付（元）", default=0, **MONEY)

    class Meta:
        ordering = ["programme", "year"]
        verbose_name = "年度预算"
        verbose_name_plural = "年度预算"
        constraints = [
            models.UniqueConstraint(fields=["programme", "year"], name="budget_year_unique"),
            models.CheckConstraint(
                condition=Q(committed__gte=0)
                & Q(paid__gte=0)
                & Q(appropriation__gte=F("committed") + F("paid")),
                name="budget_never_overrun",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}/{self.year}"

    @property
    def available(self):
        return self.appropriation - self.committed - self.paid


class EnterpriseYear(models.Model):
    """What one enterprise holds from one programme in one year, against the
    programme's per-enterprise annual cap."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.CASCADE, related_name="+"
    )
    committed = models.DecimalField(default=0, **MONEY)
    paid = models.DecimalField(default=0, **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "year", "enterprise"], name="enterprise_year_unique"
            ),
            models.CheckConstraint(
                condition=Q(committed__gte=0) & Q(paid__gte=0), name="enterprise_year_nonneg"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}/{self.year}/{self.enterprise_id}"


class LedgerKind(models.TextChoices):
    APPROPRIATE = "appropriate", _("预算安排")
    COMMIT = "commit", _("承诺")
    RELEASE = "release", _("释放")
    PAY = "pay", _("拨付")


class LedgerEntry(models.Model):
    """One movement of a programme's yearly budget (专款专用、专账核算)."""

    budget = models.ForeignKey(BudgetYear, on_delete=models.CASCADE, related_name="entries")
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    kind = models.CharField(max_length=12, choices=LedgerKind.choices)
    amount = models.DecimalField(**MONEY)
    #: Balances after this movement, for the ledger page and for audit.
    committed_after = models.DecimalField(**MONEY)
    paid_after = models.DecimalField(**MONEY)
    note = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    # --- revolving pools: 转贷应急 and 风险补偿 ---------------------------------------------

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class Pool(models.Model):
    """The capital of a 转贷应急 fund or a 风险补偿 pool.

    balance = capital − outstanding (bridge draws not yet repaid) − paid_out
    (loss compensation) + recovered (recoveries flowing back); never below
    zero, held by a check constraint and by locking this row on every movement.
    """

    programme = models.OneToOneField(Programme, on_delete=models.CASCADE, related_name="pool")
    capital = models.DecimalField("资金池规模（元）", default=0, **MONEY)
    outstanding = models.DecimalField("在用资金（元）", default=0, **MONEY)
    paid_out = models.DecimalField("累计代偿（元）", default=0, **MONEY)
    recovered = models.DecimalField("累计回收（元）", default=0, **MONEY)
    fee_income = models.DecimalField("累计使用费（元）", default=0, **MONEY)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(outstanding__gte=0)
                & Q(paid_out__gte=0)
                & Q(recovered__gte=0)
                & Q(capital__gte=F("outstanding") + F("paid_out") - F("recovered")),
                name="pool_never_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"pool {self.programme_id}"

    @property
    def balance(self):
        return self.capital - self.outstanding - self.paid_out + self.recovered


class PoolMovementKind(models.TextChoices):
    CAPITAL = "capital", _("注资")
    DRAW = "draw", _("转贷出款")
    REPAY = "repay", _("转贷归还")
    FEE = "fee", _("使用费")
    COMPENSATE = "compensate", _("风险代偿")
    RECOVER = "recover", _("追偿回收")


class PoolMovement(models.Model):
    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="movements")
    kind = models.CharField(max_length=12, choices=PoolMovementKind.choices)
    amount = models.DecimalField(**MONEY)
    balance_after = models.DecimalField(**MONEY)
    on = models.DateField()
    bridge = models.ForeignKey(
        "BridgeDraw", null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    claim = models.ForeignKey(
        "LossClaim", null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    note = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class BridgeState(models.TextChoices):
    REQUESTED = "requested", _("待审核")
    APPROVED = "approved", _("待出款")
    DRAWN = "drawn", _("使用中")
    REPAID = "repaid", _("已归还")
    REJECTED = "rejected", _("已驳回")
    WITHDRAWN = "withdrawn", _("已撤回")


class BridgeQuerySet(models.QuerySet):
    def visible_to(self, user) -> BridgeQuerySet:
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(enterprise_id=scope.enterprise_id)
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(loan__institution_id=scope.institution_id)
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(programme__region__code__startswith=scope.region_prefix)
        return self.none()


class BridgeDraw(models.Model):
    """A 转贷应急 draw: the fund repays a maturing loan for the enterprise
    against the bank's written renewal commitment, and is repaid from the
    renewed loan within the programme's maximum days."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="bridge_draws")
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.PROTECT, related_name="+"
    )
    loan = models.ForeignKey(
        Loan, verbose_name="到期贷款", on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField("转贷金额（元）", **MONEY)
    commitment_no = models.CharField("银行续贷承诺书编号", max_length=64)
    #: The lending bank confirms its written renewal commitment on the platform
    #: (at once when the bank itself files the request); approval waits for it.
    commitment_confirmed_at = models.DateTimeField("银行确认承诺时间", null=True, blank=True)
    commitment_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=12, choices=BridgeState.choices, db_index=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    drawn_on = models.DateField("出款日期", null=True, blank=True)
    due_on = models.DateField("应还日期", null=True, blank=True)
    repaid_on = models.DateField("归还日期", null=True, blank=True)
    renewed_loan = models.ForeignKey(
        Loan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fee = models.DecimalField("使用费（元）", null=True, blank=True, **MONEY)
    calculation = models.JSONField(default=dict)
    reason = models.CharField(max_length=500, blank=True)
    #: The hourly overdue reminder tells people once a day, not every hour.
    overdue_notified_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = BridgeQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bridge_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"bridge {self.pk}"


class RegistrationQuerySet(models.QuerySet):
    def visible_to(self, user) -> RegistrationQuerySet:
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(loan__enterprise_id=scope.enterprise_id)
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(loan__institution_id=scope.institution_id)
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(programme__region__code__startswith=scope.region_prefix)
        return self.none()


class PoolRegistration(models.Model):
    """A loan a bank registered into a 风险补偿 pool (备案)."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="registrations")
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="+")
    registered_on = models.DateField("备案日期")
    share = models.DecimalField("补偿比例（%）", max_digits=7, decimal_places=4)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["programme", "loan"], name="registration_unique"),
        ]

    def __str__(self) -> str:
        return f"registration {self.pk}"


class ClaimState(models.TextChoices):
    CLAIMED = "claimed", _("待审核")
    PAID = "paid", _("已代偿")
    REJECTED = "rejected", _("已驳回")


class LossClaim(models.Model):
    """A bank's loss on a registered loan and what the pool paid for it;
    recoveries later flow back into the pool in the same ratio."""

    registration = models.ForeignKey(
        PoolRegistration, on_delete=models.PROTECT, related_name="claims"
    )
    loss = models.DecimalField("损失金额（元）", **MONEY)
    compensation = models.DecimalField("代偿金额（元）", default=0, **MONEY)
    recovered = models.DecimalField("已回收（元）", default=0, **MONEY)
    calculation = models.JSONField(default=dict)
    state = models.CharField(max_length=12, choices=ClaimState.choices, db_index=True)
    claimed_on = models.DateField()
    paid_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-claimed_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(loss__gt=0), name="claim_loss_positive"),
        ]

    def __str__(self) -> str:
        return f"claim {self.pk}"


from .outreach_models import OutreachNotice  # noqa: E402, F401  (政策找人: services/outreach/)
