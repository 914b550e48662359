"""Health check of the webhooks for `chanrong doctor` and the 系统状态 page
(registered with core.health in ApiConfig.ready)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from chanrong.core.health import Finding, State

#: Deliveries given up on this recently are reported.
GIVEN_UP_WINDOW = timedelta(days=7)


def check_webhook_deliveries() -> Finding:
    from .models import DeliveryStatus, WebhookDelivery

    now = timezone.now()
    failing = WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED)
    retrying = failing.count()
    endpoints = failing.values("endpoint").distinct().count()
    given_up = WebhookDelivery.objects.filter(
        status=DeliveryStatus.GIVING_UP, created_at__gte=now - GIVEN_UP_WINDOW
    ).count()
    details = {"retrying": retrying, "endpoints": endpoints, "given_up_7d": given_up}
    if not retrying and not given_up:
        return Finding(
            "webhooks", State.OK, "事件推送正常", "webhook deliveries are healthy", details
        )
    return Finding(
        "webhooks",
        State.WARN,
        f"事件推送：{retrying} 个投递失败待重试（{endpoints} 个接收地址），近 7 天放弃 {given_up} 个",
        f"webhooks: {retrying} failing deliveries awaiting retry ({endpoints} endpoint(s)), "
        f"{given_up} given up in the last 7 days",
        details,
    )
