"""抽贷断贷会商 (企业抽断贷会商机制): a consultation about loans a bank intends
to cut, not renew or recall early.

An enterprise, or an institution with exposure to it, asks the supervising
agency (the government of the enterprise's region) to consult before the
loans are cut. The agency accepts (or declines) it, convenes the institutions
with exposure (`ConsultationParticipant`: each records its position), holds a
meeting (date, place or online, minutes), records a decision with each
institution's commitment, and follows it up (`ConsultationFollowUp`: notes by
the agency, and each institution's report whether it kept its commitment)
until the case is closed. The states are declared in `risk.workflows`.

Visibility (one `visible_to(user)`): the agencies of the enterprise's region
subtree, the enterprise itself, the requesting institution and the
participating institutions; anyone else none (a 404).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import ScopeKind, scope_of


class ConsultationKind(models.TextChoices):
    CUT = "cut", _("抽贷")
    NO_RENEWAL = "no_renewal", _("断贷（到期不续贷）")
    RECALL = "recall", _("提前收回")


class ConsultationState(models.TextChoices):
    REQUESTED = "requested", _("已申请")
    ACCEPTED = "accepted", _("已受理")
    DECLINED = "declined", _("不予受理")
    WITHDRAWN = "withdrawn", _("已撤回")
    CONVENED = "convened", _("会商中")
    DECIDED = "decided", _("已形成意见")
    CLOSED = "closed", _("已办结")


#: States in which a consultation is still being worked on.
OPEN_STATES = frozenset(
    {
        ConsultationState.REQUESTED,
        ConsultationState.ACCEPTED,
        ConsultationState.CONVENED,
        ConsultationState.DECIDED,
    }
)


class DecisionKind(models.TextChoices):
    MAINTAIN = "maintain", _("维持授信")
    RENEW = "renew", _("续贷")
    EXTEND = "extend", _("展期")
    RESCHEDULE = "reschedule", _("调整还款计划")
    REDUCE = "reduce", _("压降授信")
    OTHER = "other", _("其他")


class ConsultationQuerySet(models.QuerySet):
    def visible_to(self, user) -> ConsultationQuerySet:
        """Agencies of the enterprise's region subtree; the enterprise; the
        requesting institution and every participating institution."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(enterprise_id=scope.enterprise_id)
        if scope.kind == ScopeKind.INSTITUTION:
            takes_part = ConsultationParticipant.objects.filter(
                consultation_id=OuterRef("pk"), institution_id=scope.institution_id
            )
            return self.filter(
                Q(requesting_institution_id=scope.institution_id) | Exists(takes_part)
            )
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(enterprise__region__code__startswith=scope.region_prefix)
        return self.none()

    def open(self) -> ConsultationQuerySet:
        return self.filter(state__in=OPEN_STATES)


class Consultation(models.Model):
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.PROTECT, related_name="risk_consultations"
    )
    loans = models.ManyToManyField(
        "risk.LoanAccount", related_name="consultations", verbose_name=_("涉及贷款")
    )
    kind = models.CharField(_("会商事由"), max_length=16, choices=ConsultationKind.choices)
    reason = models.TextField(_("情况说明"), max_length=2000)
    state = models.CharField(
        _("状态"),
        max_length=16,
        choices=ConsultationState.choices,
        default=ConsultationState.REQUESTED,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The institution that asked, when a bank asked; empty when the enterprise asked.
    requesting_institution = models.ForeignKey(
        "finance.FinancialInstitution",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_on = models.DateField(_("申请日期"))
    agency = models.ForeignKey(
        "accounts.GovernmentAgency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="risk_consultations",
        verbose_name=_("会商牵头部门"),
    )
    accepted_on = models.DateField(_("受理日期"), null=True, blank=True)
    declined_reason = models.CharField(_("不予受理理由"), max_length=1000, blank=True)
    meeting_on = models.DateField(_("会商日期"), null=True, blank=True)
    meeting_place = models.CharField(_("会商地点"), max_length=200, blank=True)
    meeting_online = models.BooleanField(_("线上会商"), default=False)
    minutes = models.TextField(_("会议纪要"), max_length=5000, blank=True)
    decision = models.CharField(
        _("会商意见"), max_length=16, choices=DecisionKind.choices, blank=True
    )
    decision_text = models.TextField(_("会商意见说明"), max_length=3000, blank=True)
    decided_on = models.DateField(_("形成意见日期"), null=True, blank=True)
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)
    closing_note = models.CharField(_("办结说明"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        verbose_name = _("抽贷断贷会商")
        verbose_name_plural = _("抽贷断贷会商")
        ordering = ["-requested_on", "-pk"]
        indexes = [models.Index(fields=["state", "requested_on"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.enterprise}"

    @property
    def reference(self) -> str:
        return f"HS-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class ConsultationParticipant(models.Model):
    """An institution convened to the consultation: its position before the
    meeting, its commitment in the decision, and whether it kept it."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="participants"
    )
    institution = models.ForeignKey(
        "finance.FinancialInstitution", on_delete=models.PROTECT, related_name="+"
    )
    position = models.TextField(_("本机构意见"), max_length=2000, blank=True)
    position_at = models.DateTimeField(null=True, blank=True)
    commitment = models.CharField(_("承诺事项"), max_length=1000, blank=True)
    #: None until the institution reports on it during the follow-up.
    commitment_kept = models.BooleanField(_("是否履行承诺"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "institution"],
                name="risk_consultation_participant_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.consultation} {self.institution}"


class ConsultationFollowUp(models.Model):
    """One follow-up note: by the agency, or an institution's report on its
    commitment (then `institution` and `kept` are set)."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="follow_ups"
    )
    on = models.DateField(_("跟踪日期"))
    note = models.CharField(_("跟踪情况"), max_length=2000)
    institution = models.ForeignKey(
        "finance.FinancialInstitution",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kept = models.BooleanField(_("是否履行承诺"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"{self.consultation} {self.on}"
