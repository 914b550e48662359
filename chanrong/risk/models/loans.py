"""The loan book (贷款台账): one `LoanAccount` per loan, its repayment schedule,
its repayments and the history of what the lending bank reported.

Amounts are Decimal 元, rates Decimal percent (per year). `outstanding` and
`repaid_principal` are running totals kept by `services.loanbook` under a row
lock, with check constraints behind them, so a repayment above the principal
can never be stored however the request arrives.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import Scope, ScopeKind, scope_of

MONEY = {"max_digits": 20, "decimal_places": 2}
RATE = {"max_digits": 9, "decimal_places": 6}


class LoanOrigin(models.TextChoices):
    PLATFORM = "platform", _("平台撮合")
    REPORTED = "reported", _("机构报送（平台外）")


class LoanStatus(models.TextChoices):
    ACTIVE = "active", _("存续")
    SETTLED = "settled", _("已结清")
    RENEWED = "renewed", _("已无还本续贷")
    RECALLED = "recalled", _("已提前收回")
    WRITTEN_OFF = "written_off", _("已核销")


class Collateral(models.TextChoices):
    """担保方式 of a loan: 信用 (none) or one of the three secured kinds.
    Blank = not reported. Platform loans take it from the accepted offer's
    product (`services.groups.collateral_of_demand`); banks report it for
    their off-platform loans."""

    CREDIT = "credit", _("信用")
    GUARANTEE = "guarantee", _("保证")
    MORTGAGE = "mortgage", _("抵押")
    PLEDGE = "pledge", _("质押")


#: The secured kinds (担保类贷款), the complement of 信用贷 among reported loans.
SECURED = frozenset({Collateral.GUARANTEE, Collateral.MORTGAGE, Collateral.PLEDGE})


class Classification(models.TextChoices):
    """贷款五级分类, in order of worsening; the last three are non-performing."""

    NORMAL = "normal", _("正常")
    SPECIAL_MENTION = "special_mention", _("关注")
    SUBSTANDARD = "substandard", _("次级")
    DOUBTFUL = "doubtful", _("可疑")
    LOSS = "loss", _("损失")


#: Rank of each class, for "downgrade" (a higher rank) and 不良 (rank ≥ 2).
CLASS_RANK = {c.value: i for i, c in enumerate(Classification)}
NON_PERFORMING = frozenset(c for c, rank in CLASS_RANK.items() if rank >= 2)


class LoanAccountQuerySet(models.QuerySet):
    def visible_to(self, user) -> LoanAccountQuerySet:
        """The borrower, the lending institution, the agencies of the
        borrower's region subtree, and platform admins; anyone else none."""
        return self.for_scope(scope_of(user))

    def for_scope(self, scope: Scope) -> LoanAccountQuerySet:
        """`visible_to`'s rule for a scope rather than a user: what kept
        figures are computed over (services.book_kept)."""
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(enterprise_id=scope.enterprise_id)
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(institution_id=scope.institution_id)
        if scope.kind == ScopeKind.GOVERNMENT:
            if not scope.region_prefix:
                # The whole country: every enterprise has a region (a required
                # key), so no join to filter on it (tests/risk/test_national_scope.py).
                return self.all()
            return self.filter(enterprise__region__code__startswith=scope.region_prefix)
        return self.none()

    def live(self) -> LoanAccountQuerySet:
        return self.filter(status=LoanStatus.ACTIVE)

    def non_performing(self) -> LoanAccountQuerySet:
        return self.filter(classification__in=NON_PERFORMING)


class LoanAccount(models.Model):
    """One loan of one enterprise at one institution."""

    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.PROTECT, related_name="loan_accounts"
    )
    institution = models.ForeignKey(
        "finance.FinancialInstitution", on_delete=models.PROTECT, related_name="loan_accounts"
    )
    source = models.CharField(_("来源"), max_length=16, choices=LoanOrigin.choices)
    demand = models.OneToOneField(
        "demands.Demand",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="loan_account",
    )
    contract_no = models.CharField(_("借款合同编号"), max_length=64, blank=True)
    principal = models.DecimalField(_("贷款金额（元）"), **MONEY)
    rate = models.DecimalField(_("执行年利率（%）"), null=True, blank=True, **RATE)
    collateral = models.CharField(
        _("担保方式"), max_length=12, choices=Collateral.choices, blank=True, default=""
    )
    # 绿色贷款: the item of the 绿色产业指导目录 (2019) the loan finances, as the
    # bank reports it (e.g. "3.2.1"); blank = not reported as green. Text,
    # so the risk app needs no catalogue (the green app keeps it).
    green_category = models.CharField(
        _("绿色产业指导目录类别"), max_length=16, blank=True, default=""
    )
    disbursed_on = models.DateField(_("放款日期"))
    maturity_on = models.DateField(_("到期日期"))
    status = models.CharField(
        _("状态"), max_length=16, choices=LoanStatus.choices, default=LoanStatus.ACTIVE
    )
    classification = models.CharField(
        _("五级分类"), max_length=16, choices=Classification.choices, default=Classification.NORMAL
    )
    repaid_principal = models.DecimalField(_("已还本金（元）"), default=0, **MONEY)
    outstanding = models.DecimalField(_("贷款余额（元）"), **MONEY)
    days_overdue = models.PositiveIntegerField(_("逾期天数"), default=0)
    overdue_amount = models.DecimalField(_("逾期金额（元）"), default=0, **MONEY)
    reported_on = models.DateField(_("最近报送日期"), null=True, blank=True)
    renewed_from = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewed_by",
        verbose_name=_("续贷前原贷款"),
    )
    closed_on = models.DateField(_("结清/收回日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LoanAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("贷款台账")
        verbose_name_plural = _("贷款台账")
        ordering = ["-disbursed_on", "-pk"]
        indexes = [
            models.Index(fields=["institution", "status"]),
            models.Index(fields=["enterprise", "status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "contract_no"],
                condition=~Q(contract_no=""),
                name="risk_loan_contract_unique_per_institution",
            ),
            models.CheckConstraint(
                condition=Q(principal__gt=0), name="risk_loan_principal_positive"
            ),
            models.CheckConstraint(
                condition=Q(maturity_on__gte=F("disbursed_on")),
                name="risk_loan_maturity_after_start",
            ),
            models.CheckConstraint(
                condition=Q(repaid_principal__gte=0, repaid_principal__lte=F("principal")),
                name="risk_loan_repaid_within_principal",
            ),
            models.CheckConstraint(
                condition=Q(outstanding=F("principal") - F("repaid_principal")),
                name="risk_loan_outstanding_is_principal_less_repaid",
            ),
            models.CheckConstraint(
                condition=Q(overdue_amount__gte=0, overdue_amount__lte=F("outstanding")),
                name="risk_loan_overdue_within_outstanding",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        """What a person calls the loan: the bank's contract number, or for a
        platform loan not yet numbered by its bank, its demand's number."""
        if self.contract_no:
            return self.contract_no
        return f"LB-{self.pk}"

    @property
    def is_non_performing(self) -> bool:
        return self.classification in NON_PERFORMING


class ScheduleItem(models.Model):
    """One instalment of the repayment schedule (还款计划)."""

    loan = models.ForeignKey(LoanAccount, on_delete=models.CASCADE, related_name="schedule")
    due_on = models.DateField(_("应还日期"))
    principal_due = models.DecimalField(_("应还本金（元）"), **MONEY)
    interest_due = models.DecimalField(_("应还利息（元）"), default=0, **MONEY)

    class Meta:
        ordering = ["due_on"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "due_on"], name="risk_schedule_one_per_day"),
            models.CheckConstraint(
                condition=Q(principal_due__gte=0, interest_due__gte=0),
                name="risk_schedule_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan} {self.due_on}"


class Repayment(models.Model):
    """One repayment the lending bank reported."""

    loan = models.ForeignKey(LoanAccount, on_delete=models.PROTECT, related_name="repayments")
    paid_on = models.DateField(_("还款日期"))
    principal = models.DecimalField(_("归还本金（元）"), **MONEY)
    interest = models.DecimalField(_("归还利息（元）"), default=0, **MONEY)
    # The bank's own transaction number: a repayment reported again with the
    # same number (an API retry, a file imported twice) is the same repayment.
    reference = models.CharField(_("还款流水号"), max_length=64, blank=True, default="")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paid_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "reference"],
                condition=~Q(reference=""),
                name="risk_repayment_reference_once",
            ),
            models.CheckConstraint(
                condition=Q(principal__gte=0, interest__gte=0)
                & (Q(principal__gt=0) | Q(interest__gt=0)),
                name="risk_repayment_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan} {self.paid_on}"


class LoanEventKind(models.TextChoices):
    OPENED = "opened", _("放款入账")
    SCHEDULE = "schedule", _("报送还款计划")
    REPAYMENT = "repayment", _("还款")
    STATUS = "status", _("报送逾期与分类")
    SETTLED = "settled", _("结清")
    RENEWED = "renewed", _("无还本续贷")
    RECALLED = "recalled", _("提前收回")
    WRITTEN_OFF = "written_off", _("核销")


class LoanEvent(models.Model):
    """What happened to a loan, as reported: the time series behind the
    scorecard's loan-book features and the warning rules' "changed from …"."""

    loan = models.ForeignKey(LoanAccount, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=LoanEventKind.choices)
    on = models.DateField(_("日期"))
    classification = models.CharField(max_length=16, choices=Classification.choices)
    previous_classification = models.CharField(
        max_length=16, choices=Classification.choices, blank=True
    )
    days_overdue = models.PositiveIntegerField(default=0)
    outstanding = models.DecimalField(**MONEY)
    note = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["on", "pk"]
        indexes = [models.Index(fields=["loan", "on"])]

    def __str__(self) -> str:
        return f"{self.loan} {self.on} {self.get_kind_display()}"

    @property
    def is_downgrade(self) -> bool:
        if not self.previous_classification:
            return False
        return CLASS_RANK[self.classification] > CLASS_RANK[self.previous_classification]
