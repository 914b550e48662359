"""Early-warning rules as data (预警规则) and the alerts they raise.

An agency configures rules for its region — what to watch (`RuleKind`), its
threshold (`params`, checked by `services.warnings.parse_params`) and a
severity 红/橙/黄. `services.warnings.evaluate` turns facts the platform
already holds (tax grades, lists, the loan book, operating data,
qualifications, scores, credit records) into `Alert`s, one open alert per rule and
enterprise: a rule that keeps matching does not raise the alarm twice, and
after disposal it may raise it again when the facts change.

Visibility: the agencies of the enterprise's region subtree, and the
institutions with exposure to it (a loan on their books); not the enterprise.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import Scope, ScopeKind, scope_of

from .loans import LoanAccount, LoanStatus


class Severity(models.TextChoices):
    RED = "red", _("红色")
    ORANGE = "orange", _("橙色")
    YELLOW = "yellow", _("黄色")


SEVERITY_RANK = {Severity.RED: 0, Severity.ORANGE: 1, Severity.YELLOW: 2}


class RuleKind(models.TextChoices):
    TAX_GRADE_DROP = "tax_grade_drop", _("纳税信用等级下降")
    BLACKLISTED = "blacklisted", _("列入失信黑名单")
    OVERDUE = "overdue", _("贷款逾期")
    DOWNGRADE = "downgrade", _("五级分类下调")
    REVENUE_COLLAPSE = "revenue_collapse", _("经营大幅下滑")
    ELECTRICITY_DROP = "electricity_drop", _("用电量大幅下降")
    QUALIFICATION_EXPIRY = "qualification_expiry", _("资质即将到期")
    LOW_SCORE = "low_score", _("风险评分过低")
    PENALTY_EVENT = "penalty_event", _("行政处罚")
    JUDGMENT_EVENT = "judgment_event", _("涉诉/司法判决")


class WarningRuleQuerySet(models.QuerySet):
    def visible_to(self, user) -> WarningRuleQuerySet:
        """Agencies see the rules of their region subtree and of the regions
        above them (those apply to their enterprises too); platform admins all."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.GOVERNMENT:
            prefix = scope.region_prefix
            above = [prefix[:n] for n in range(0, len(prefix) + 1, 2)]
            return self.filter(Q(region_prefix__startswith=prefix) | Q(region_prefix__in=above))
        return self.none()


class WarningRule(models.Model):
    agency = models.ForeignKey(
        "accounts.GovernmentAgency", on_delete=models.PROTECT, related_name="warning_rules"
    )
    #: The agency's region prefix when the rule was made: the enterprises it watches.
    region_prefix = models.CharField(max_length=6, blank=True)
    name = models.CharField(_("规则名称"), max_length=100)
    kind = models.CharField(_("规则类型"), max_length=24, choices=RuleKind.choices)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    severity = models.CharField(_("预警级别"), max_length=8, choices=Severity.choices)
    enabled = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WarningRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("预警规则")
        verbose_name_plural = _("预警规则")
        ordering = ["region_prefix", "severity", "name", "pk"]

    def __str__(self) -> str:
        return self.name


class AlertState(models.TextChoices):
    OPEN = "open", _("待处理")
    ACKNOWLEDGED = "acknowledged", _("已签收")
    DISPOSED = "disposed", _("已处置")


class AlertQuerySet(models.QuerySet):
    def visible_to(self, user) -> AlertQuerySet:
        return self.for_scope(scope_of(user))

    def for_scope(self, scope: Scope) -> AlertQuerySet:
        """`visible_to`'s rule for a scope rather than a user: what kept
        figures are computed over (services.book_kept)."""
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.GOVERNMENT:
            if not scope.region_prefix:
                # The whole country: every enterprise has a region (a required
                # key), so no join to filter on it (tests/risk/test_national_scope.py).
                return self.all()
            return self.filter(enterprise__region__code__startswith=scope.region_prefix)
        if scope.kind == ScopeKind.INSTITUTION:
            exposed = LoanAccount.objects.filter(
                institution_id=scope.institution_id,
                enterprise_id=OuterRef("enterprise_id"),
                status__in=(LoanStatus.ACTIVE, LoanStatus.RECALLED),
            )
            return self.filter(Exists(exposed))
        return self.none()

    def live(self) -> AlertQuerySet:
        return self.exclude(state=AlertState.DISPOSED)


class Alert(models.Model):
    rule = models.ForeignKey(WarningRule, on_delete=models.PROTECT, related_name="alerts")
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.CASCADE, related_name="risk_alerts"
    )
    severity = models.CharField(_("预警级别"), max_length=8, choices=Severity.choices)
    state = models.CharField(
        _("状态"), max_length=16, choices=AlertState.choices, default=AlertState.OPEN
    )
    detail = models.CharField(_("预警内容"), max_length=500)
    opened_on = models.DateField(_("预警日期"))
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    disposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    disposed_at = models.DateTimeField(null=True, blank=True)
    disposal = models.CharField(_("处置情况"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("风险预警")
        verbose_name_plural = _("风险预警")
        ordering = ["state", "severity", "-opened_on", "-pk"]
        indexes = [
            models.Index(fields=["state", "severity"]),
            # The open warnings' enterprises, in key order: the 待处理的风险预警
            # count of a region merges them with the enterprises' keys
            # (registry 0011) instead of hashing the region's enterprises.
            models.Index(
                fields=["enterprise"], condition=Q(state="open"), name="alert_open_enterprise"
            ),
        ]
        constraints = [
            # One live alert per rule and enterprise: a rule that keeps
            # matching does not raise the alarm twice.
            models.UniqueConstraint(
                fields=["rule", "enterprise"],
                condition=~Q(state="disposed"),
                name="risk_alert_one_live_per_rule_enterprise",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_severity_display()} {self.enterprise} {self.detail[:30]}"
