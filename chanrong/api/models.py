"""Webhooks: where an institution's own systems want events POSTed, and the
log of every delivery (so that nothing is lost silently and any delivery can
be sent again)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class EndpointQuerySet(models.QuerySet):
    def visible_to(self, user) -> EndpointQuerySet:
        """An institution's managers see their institution's endpoints; platform
        admins see all (to help and to switch off a misbehaving one); nobody
        else sees any — other staff included, since an endpoint reveals
        the institution's internal systems."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_platform_admin:
            return self.all()
        if user.is_institution_manager and user.institution_id:
            return self.filter(institution_id=user.institution_id)
        return self.none()


class WebhookEndpoint(models.Model):
    institution = models.ForeignKey(
        "finance.FinancialInstitution",
        verbose_name="金融机构",
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
    )
    url = models.URLField("接收地址", max_length=500)
    description = models.CharField("说明", max_length=100, blank=True)
    # Fernet ciphertext (chanrong.core.secretbox): the platform must sign with
    # the secret, so it cannot be hashed; it is shown once, at creation.
    secret_encrypted = models.TextField(editable=False)
    secret_hint = models.CharField("密钥末四位", max_length=8, editable=False)
    events = models.JSONField("订阅事件", default=list)
    active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    deactivated_at = models.DateTimeField("停用时间", null=True, blank=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "Webhook 接收地址"
        verbose_name_plural = "Webhook 接收地址"

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event: str) -> bool:
        return event in (self.events or [])


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SUCCEEDED = "succeeded", _("成功")
    FAILED = "failed", _("失败，将重试")
    GIVING_UP = "giving_up", _("已放弃")


class DeliveryQuerySet(models.QuerySet):
    def visible_to(self, user) -> DeliveryQuerySet:
        return self.filter(endpoint__in=WebhookEndpoint.objects.visible_to(user))


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name="接收地址",
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.CharField("事件", max_length=64)
    # Sent as the Idempotency-Key header; a manual redelivery keeps the key,
    # so that the receiver can tell it has already processed the event.
    idempotency_key = models.UUIDField("幂等键", default=uuid.uuid4, db_index=True)
    payload = models.JSONField("数据", encoder=DjangoJSONEncoder, default=dict)
    status = models.CharField(
        "状态", max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField("最近响应码", null=True, blank=True)
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    redelivery_of = models.ForeignKey(
        "self",
        verbose_name="重发自",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="redeliveries",
    )

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "Webhook 投递"
        verbose_name_plural = "Webhook 投递"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"
