"""Scorecard versions and the scores they gave.

A `ModelVersion` IS its points table: the bin edges (or category groups) and
the points of each bin, stored as JSON and scored from directly
(`chanrong.risk.scorecard.trainer.score`). No fitted object is pickled, so a
stored version is data a reviewer can read, never code that runs on load.

A version is proposed by the monthly retraining (or `chanrong risk train`),
goes live only when a government admin approves it, and is retired when the
next one goes live; one below the AUC floor is refused with the reason and
never goes live (a database constraint also keeps a single live version).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import ScopeKind, scope_of


class VersionStatus(models.TextChoices):
    PROPOSED = "proposed", _("待审批")
    LIVE = "live", _("在用")
    RETIRED = "retired", _("已停用")
    REFUSED = "refused", _("已拒绝")


class ModelVersionQuerySet(models.QuerySet):
    def visible_to(self, user) -> ModelVersionQuerySet:
        """The points table is for government, institutions and platform
        admins; enterprises see their own score and reasons, not the model."""
        kind = scope_of(user).kind
        if kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT, ScopeKind.INSTITUTION):
            return self.all()
        return self.none()

    def live(self) -> ModelVersionQuerySet:
        return self.filter(status=VersionStatus.LIVE)


class ModelVersion(models.Model):
    """One trained scorecard."""

    number = models.PositiveIntegerField(_("版本号"), unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    as_of = models.DateField(_("训练基准日"))
    trained_from = models.DateField(_("样本起始观察日"), null=True, blank=True)
    trained_until = models.DateField(_("样本截止观察日"), null=True, blank=True)
    features = models.JSONField(_("特征"), default=list)
    table = models.JSONField(_("评分卡（分箱与分值）"), default=dict)
    metrics = models.JSONField(_("模型指标"), default=dict)
    status = models.CharField(
        _("状态"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.PROPOSED
    )
    refusal_reason = models.CharField(_("拒绝原因"), max_length=500, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("评分卡版本")
        verbose_name_plural = _("评分卡版本")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="live"),
                name="risk_model_one_live_version",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number}"

    @property
    def test_auc(self) -> float | None:
        value = (self.metrics or {}).get("test", {}).get("auc")
        return None if value is None else float(value)


class EnterpriseScoreQuerySet(models.QuerySet):
    def visible_to(self, user) -> EnterpriseScoreQuerySet:
        """Scores of the enterprises `scorable_enterprises(user)` returns."""
        return self.filter(enterprise__in=scorable_enterprises(user).values("pk"))


def scorable_enterprises(user):
    """Enterprises whose score `user` may read: government of the
    enterprise's region subtree, platform admins, the enterprise itself, and
    an institution for the enterprises that authorised it (DataAuthorisation)
    or that it has a loan out to (an active or recalled loan on its books —
    a bank must see the risk of what it lent, authorised or not). The one
    rule for scores: pages, API and the queryset's visible_to all use it."""
    from chanrong.registry.models import Enterprise

    from .loans import LoanAccount, LoanStatus

    scope = scope_of(user)
    visible = Enterprise.objects.visible_to(user)
    if scope.kind != ScopeKind.INSTITUTION:
        return visible
    exposed = LoanAccount.objects.filter(
        institution_id=scope.institution_id,
        enterprise_id=OuterRef("pk"),
        status__in=(LoanStatus.ACTIVE, LoanStatus.RECALLED),
    )
    return Enterprise.objects.filter(Exists(exposed) | Q(pk__in=visible.values("pk")))


class EnterpriseScore(models.Model):
    """An enterprise's score under one version as of one day, with its top
    reasons ([{"feature", "label", "value", "points", "text"}])."""

    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.CASCADE, related_name="risk_scores"
    )
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="scores")
    as_of = models.DateField(_("评分日期"))
    score = models.FloatField(_("评分"))
    probability = models.FloatField(_("违约概率"))
    reasons = models.JSONField(_("主要扣分原因"), default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EnterpriseScoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("企业风险评分")
        verbose_name_plural = _("企业风险评分")
        ordering = ["-as_of", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "version", "as_of"], name="risk_score_once_per_day"
            ),
        ]
        indexes = [models.Index(fields=["enterprise", "as_of"])]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.version} {self.as_of}: {self.score:.0f}"
