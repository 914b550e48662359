"""银企对接会 and 路演: an agency organises them, invites institutions and
enterprises, takes registrations, and records what was presented and signed.

Held (closed) events feed the 信息对接 indicators: 银企信息对接活动（场次） and
银企信息对接活动实现融资额（亿元） (see chanrong.events.services, registered as
computed sources with insights).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import ScopeKind, scope_of


class EventKind(models.TextChoices):
    MATCHMAKING = "matchmaking", _("银企对接会")
    ROADSHOW = "roadshow", _("路演")


class EventStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    CLOSED = "closed", _("已结束")
    CANCELLED = "cancelled", _("已取消")


class EventQuerySet(models.QuerySet):
    def visible_to(self, user) -> EventQuerySet:
        """Platform admins see every event. Government sees the events held in
        its region's subtree (drafts only when its own agency organises them).
        Every signed-in user sees open events once published; enterprises and
        institutions also see the events they are invited to. Drafts are
        visible only to the organiser."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.NONE:
            return self.none()
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        announced = ~Q(status=EventStatus.DRAFT)
        rule = announced & Q(is_open=True)
        if scope.kind == ScopeKind.GOVERNMENT:
            subtree = Q(region__code__startswith=scope.region_prefix)
            rule |= (subtree & announced) | Q(organiser_id=scope.agency_id)
        elif scope.kind == ScopeKind.ENTERPRISE:
            rule |= announced & Q(invitations__enterprise_id=scope.enterprise_id)
        elif scope.kind == ScopeKind.INSTITUTION:
            rule |= announced & Q(invitations__institution_id=scope.institution_id)
        return self.filter(pk__in=self.model.objects.filter(rule).values("pk"))


class Event(models.Model):
    kind = models.CharField("类型", max_length=12, choices=EventKind.choices)
    title = models.CharField("名称", max_length=200)
    description = models.TextField("简介", blank=True)
    date = models.DateField("日期")
    place = models.CharField("地点", max_length=200)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")
    organiser = models.ForeignKey(
        "accounts.GovernmentAgency", on_delete=models.PROTECT, related_name="events"
    )
    # Open: any signed-in enterprise or institution may see it and register.
    is_open = models.BooleanField("公开报名", default=False)
    status = models.CharField(
        "状态", max_length=12, choices=EventStatus.choices, default=EventStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["status", "date"])]
        verbose_name = "对接活动"
        verbose_name_plural = "对接活动"

    def __str__(self) -> str:
        return self.title


class Invitation(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="invitations")
    enterprise = models.ForeignKey(
        "registry.Enterprise", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    institution = models.ForeignKey(
        "finance.FinancialInstitution",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(enterprise__isnull=False) & Q(institution__isnull=True))
                | (Q(enterprise__isnull=True) & Q(institution__isnull=False)),
                name="event_invitation_one_party",
            ),
            models.UniqueConstraint(
                fields=["event", "enterprise"], name="event_invitation_enterprise_once"
            ),
            models.UniqueConstraint(
                fields=["event", "institution"], name="event_invitation_institution_once"
            ),
        ]
        verbose_name = "邀请"
        verbose_name_plural = "邀请"

    def __str__(self) -> str:
        return str(self.enterprise or self.institution)

    @property
    def party(self):
        return self.enterprise or self.institution


class Registration(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    enterprise = models.ForeignKey(
        "registry.Enterprise", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    institution = models.ForeignKey(
        "finance.FinancialInstitution",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="event_registration_once")
        ]
        verbose_name = "报名"
        verbose_name_plural = "报名"

    def __str__(self) -> str:
        return f"{self.user} @ {self.event}"

    @property
    def party(self):
        return self.enterprise or self.institution


class PresentedDemand(models.Model):
    """A financing need an enterprise presented at the event."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="presented")
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField("需求", max_length=200)
    amount = models.DecimalField("金额（元）", max_digits=20, decimal_places=2)
    # Link to a platform demand (chanrong.demands) when there is one, as "demand:<id>".
    demand_ref = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = "路演需求"
        verbose_name_plural = "路演需求"

    def __str__(self) -> str:
        return self.title


class SignedDeal(models.Model):
    """An agreement signed at (or as a result of) the event."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deals")
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.PROTECT, related_name="+"
    )
    institution = models.ForeignKey(
        "finance.FinancialInstitution", on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField("签约金额（元）", max_digits=20, decimal_places=2)
    signed_on = models.DateField("签约日期")
    note = models.CharField("备注", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = "签约"
        verbose_name_plural = "签约"

    def __str__(self) -> str:
        return f"{self.enterprise} × {self.institution}"
