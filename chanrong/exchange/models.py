"""互联互通 records: this deployment's identity, its peers (parents it
reports to, children that report to it), one-time registration codes, the
batches sent and received, the figures a received batch carried, and the
refusals.

Visibility (one rule per family, `visible_to`): the platform admin sees
everything; government users see peers, batches and figures whose region
lies in their own region's subtree; nobody else sees any of it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chanrong.core.fieldcrypt import EncryptedTextField
from chanrong.core.scope import ScopeKind, scope_of


def _region_scoped(queryset, user, field: str = "region_code"):
    scope = scope_of(user)
    if scope.kind == ScopeKind.PLATFORM:
        return queryset
    if scope.kind == ScopeKind.GOVERNMENT:
        if not scope.region_prefix:
            return queryset
        return queryset.filter(**{f"{field}__startswith": scope.region_prefix})
    return queryset.none()


class Identity(models.Model):
    """This deployment (one row). The private key is encrypted at rest with the
    platform's field encryption (AES-256-GCM, keys from CHANRONG_FIELD_KEYS,
    rotated by `chanrong crypto rotate`): it travels with the database in
    backups, a dump alone does not reveal it, and two deployments on one
    machine never share a key file."""

    deployment_id = models.UUIDField("平台标识", default=uuid.uuid4, unique=True)
    name = models.CharField("平台名称", max_length=100)
    # "" = national (工信部); else a GB/T 2260 code.
    region_code = models.CharField("所辖地区代码", max_length=6, blank=True)
    base_url = models.URLField("本平台地址", blank=True)
    private_key = EncryptedTextField("签名私钥")
    public_key = models.CharField("签名公钥", max_length=64)  # base64 of the raw 32 bytes
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "本平台身份"
        verbose_name_plural = "本平台身份"

    def __str__(self) -> str:
        return self.name


class PeerRole(models.TextChoices):
    PARENT = "parent", _("上级平台")
    CHILD = "child", _("下级平台")


class PeerState(models.TextChoices):
    ACTIVE = "active", _("正常")
    SUSPENDED = "suspended", _("已停用")


class PeerQuerySet(models.QuerySet):
    def visible_to(self, user) -> PeerQuerySet:
        return _region_scoped(self, user)


class Peer(models.Model):
    """Another deployment whose public key is pinned here. A child may report
    only for `region_code` and its subtree (fixed by the parent at
    registration, inside the parent's own region)."""

    role = models.CharField("关系", max_length=8, choices=PeerRole.choices)
    deployment_id = models.UUIDField("平台标识")
    name = models.CharField("平台名称", max_length=100)
    region_code = models.CharField("地区代码", max_length=6, blank=True)
    base_url = models.URLField("地址", blank=True)
    public_key = models.CharField("签名公钥", max_length=64)
    state = models.CharField(
        "状态", max_length=12, choices=PeerState.choices, default=PeerState.ACTIVE
    )
    # Receiving side: the highest sequence accepted from this peer.
    last_sequence = models.PositiveBigIntegerField(default=0)
    # Sending side: the sequence the next batch to this peer gets.
    next_sequence = models.PositiveBigIntegerField(default=1)
    registered_at = models.DateTimeField(auto_now_add=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PeerQuerySet.as_manager()

    class Meta:
        ordering = ["role", "region_code", "name"]
        verbose_name = "互联平台"
        verbose_name_plural = "互联平台"
        constraints = [
            models.UniqueConstraint(fields=["deployment_id", "role"], name="exchange_peer_once")
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_role_display()}）"


class RegistrationCode(models.Model):
    """A one-time code the parent's admin gives a child's admin out of band.
    Only its SHA-256 is kept; it fixes the region the child may report for."""

    code_hash = models.CharField(max_length=64, unique=True)
    region_code = models.CharField("下级地区代码", max_length=6)
    note = models.CharField("说明", max_length=200, blank=True)
    expires_at = models.DateTimeField("有效期至")
    used_at = models.DateTimeField(null=True, blank=True)
    peer = models.ForeignKey(
        Peer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "注册码"
        verbose_name_plural = "注册码"

    def __str__(self) -> str:
        return f"注册码（{self.region_code}）"


class BatchKind(models.TextChoices):
    INDICATOR_ACTUALS = "indicator_actuals", _("指标实际值")
    PILOT_PROGRESS = "pilot_progress", _("试点进展报告")
    FINANCING_STATS = "financing_stats", _("融资需求与融资统计")
    LIST_VERSION = "list_version", _("名单发布版本")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("待发送")
    RETRYING = "retrying", _("重试中")
    DELIVERED = "delivered", _("已确认")
    REFUSED = "refused", _("被拒收")


class BatchQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _region_scoped(self, user)


class OutboundBatch(models.Model):
    """A batch this deployment sends to a parent. `body` is the signed
    envelope exactly as sent, the same bytes on every attempt."""

    batch_id = models.UUIDField(unique=True)
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="outbound")
    sequence = models.PositiveBigIntegerField()
    kind = models.CharField("类型", max_length=24, choices=BatchKind.choices)
    region_code = models.CharField("地区代码", max_length=6, blank=True)
    period = models.CharField("报告期", max_length=10)
    # What it was built from ("indicators:2026-11", "list_version:12"), so
    # that the scheduler never sends the same thing to one parent twice.
    source_ref = models.CharField(max_length=64)
    body = models.TextField()
    state = models.CharField(
        "状态", max_length=12, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "报送批次"
        verbose_name_plural = "报送批次"
        constraints = [
            models.UniqueConstraint(fields=["peer", "sequence"], name="exchange_out_sequence"),
            models.UniqueConstraint(fields=["peer", "source_ref"], name="exchange_out_source"),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period} #{self.sequence}"


class InboundBatch(models.Model):
    """A batch accepted from a child: its envelope fields and the exact body."""

    batch_id = models.UUIDField(unique=True)
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="inbound")
    sequence = models.PositiveBigIntegerField()
    format_version = models.PositiveSmallIntegerField()
    kind = models.CharField("类型", max_length=24, choices=BatchKind.choices)
    region_code = models.CharField("地区代码", max_length=6, blank=True)
    period = models.CharField("报告期", max_length=10)
    sent_at = models.DateTimeField("生成时间")
    received_at = models.DateTimeField("接收时间", auto_now_add=True)
    digest = models.CharField(max_length=64)  # SHA-256 of the signed bytes
    body = models.TextField()
    payload = models.JSONField()

    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = "接收批次"
        verbose_name_plural = "接收批次"
        constraints = [
            models.UniqueConstraint(fields=["peer", "sequence"], name="exchange_in_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period} #{self.sequence}"


class FigureQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _region_scoped(self, user)


class ReceivedFigure(models.Model):
    """One number a child reported (an indicator actual, a demand or
    financing aggregate), kept per source deployment so that it is always
    shown with its source and never mixed into this deployment's own."""

    batch = models.ForeignKey(InboundBatch, on_delete=models.CASCADE, related_name="figures")
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=24, choices=BatchKind.choices)
    region_code = models.CharField("地区代码", max_length=6)
    period = models.CharField("报告期", max_length=10)
    key = models.CharField("指标", max_length=64)
    label = models.CharField("名称", max_length=100)
    unit = models.CharField("单位", max_length=16, blank=True)
    value = models.DecimalField("数值", max_digits=24, decimal_places=4)

    objects = FigureQuerySet.as_manager()

    class Meta:
        ordering = ["peer", "region_code", "-period", "key"]
        verbose_name = "下级报送数据"
        verbose_name_plural = "下级报送数据"
        indexes = [models.Index(fields=["region_code", "period"])]

    def __str__(self) -> str:
        return f"{self.label} {self.region_code} {self.period}"


class RefusalQuerySet(models.QuerySet):
    def visible_to(self, user):
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self
        if scope.kind == ScopeKind.GOVERNMENT:
            visible = Peer.objects.visible_to(user)
            return self.filter(peer__in=visible)
        return self.none()


class Refusal(models.Model):
    """A request refused at the edge: nothing of it was stored but this row."""

    peer = models.ForeignKey(
        Peer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_sender = models.CharField("声称的发送方", max_length=64, blank=True)
    batch_id = models.CharField(max_length=64, blank=True)
    endpoint = models.CharField(max_length=32)
    code = models.CharField("错误码", max_length=32)
    message = models.CharField("说明", max_length=500)
    remote_addr = models.CharField(max_length=64, blank=True)
    digest = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RefusalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "拒收记录"
        verbose_name_plural = "拒收记录"

    def __str__(self) -> str:
        return self.code


__all__ = [
    "BatchKind",
    "DeliveryState",
    "Identity",
    "InboundBatch",
    "OutboundBatch",
    "Peer",
    "PeerRole",
    "PeerState",
    "ReceivedFigure",
    "Refusal",
    "RegistrationCode",
]
