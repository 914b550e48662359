"""Managing webhook endpoints and their deliveries (the rules; web and API call these).

Only an institution's managers register endpoints, for their own
institution. Platform admins can see every endpoint and switch one off,
ping it or send a delivery again (to help an institution), but they do not
create endpoints or see secrets. Every change is audited; a secret is never
written to the audit log, the database in clear, or any page after the one
that shows it once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed

from . import webhooks
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

MAX_ENDPOINTS = 20  # active endpoints per institution: bounds the fan-out of each event
MAX_URL = 500
MAX_DESCRIPTION = 100


@dataclass(frozen=True)
class IssuedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once, never stored in clear


def can_create(actor) -> bool:
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.is_active
        and actor.is_institution_manager
        and actor.institution_id
    )


def can_manage(actor, endpoint: WebhookEndpoint) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.is_platform_admin:
        return True
    return bool(actor.is_institution_manager and actor.institution_id == endpoint.institution_id)


def can_rotate(actor, endpoint: WebhookEndpoint) -> bool:
    return can_create(actor) and actor.institution_id == endpoint.institution_id


def get_visible_endpoint(actor, pk: int) -> WebhookEndpoint:
    endpoint = (
        WebhookEndpoint.objects.visible_to(actor)
        .select_related("institution", "created_by")
        .filter(pk=pk)
        .first()
    )
    if endpoint is None:
        raise NotFound(_("接收地址不存在"))
    return endpoint


def get_visible_delivery(actor, pk: int) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.visible_to(actor)
        .select_related("endpoint", "endpoint__institution")
        .filter(pk=pk)
        .first()
    )
    if delivery is None:
        raise NotFound(_("投递记录不存在"))
    return delivery


def clean_endpoint_data(url: str, events: Iterable[str], description: str = "") -> dict:
    """Normalised values, or ValidationFailed with a message per field."""
    errors: dict[str, str] = {}
    url = (url or "").strip()
    if not url:
        errors["url"] = _("必填")
    elif len(url) > MAX_URL:
        errors["url"] = _("最多 %(n)s 个字符") % {"n": MAX_URL}
    else:
        try:
            webhooks.check_url(url, resolve=False)
            URLValidator(schemes=["http", "https"])(url)
        except webhooks.UnsafeURL as exc:
            errors["url"] = str(exc)
        except ValidationError:
            errors["url"] = _("请输入有效的网址，如 https://bank.example.com/chanrong/webhook")
    chosen = []
    for event in events or []:
        if event not in webhooks.EVENTS:
            errors["events"] = _("未知的事件：%(event)s") % {"event": event}
            break
        if event not in chosen:
            chosen.append(event)
    if not chosen and "events" not in errors:
        errors["events"] = _("至少选择一个事件")
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = _("最多 %(n)s 个字符") % {"n": MAX_DESCRIPTION}
    if errors:
        raise ValidationFailed(errors)
    return {"url": url, "events": sorted(chosen), "description": description}


def create_endpoint(
    actor, *, url: str, events: Iterable[str], description: str = ""
) -> IssuedEndpoint:
    if not can_create(actor):
        raise NotAllowed(_("只有金融机构管理员可以登记接收地址"))
    data = clean_endpoint_data(url, events, description)
    secret = webhooks.new_secret()
    with transaction.atomic():
        active = WebhookEndpoint.objects.select_for_update().filter(
            institution_id=actor.institution_id, active=True
        )
        if active.count() >= MAX_ENDPOINTS:
            raise Conflict(
                _("每个机构最多启用 %(n)s 个接收地址") % {"n": MAX_ENDPOINTS},
                code="too_many_endpoints",
            )
        if active.filter(url=data["url"]).exists():
            raise ValidationFailed({"url": _("本机构已登记了相同的接收地址")})
        endpoint = WebhookEndpoint.objects.create(
            institution_id=actor.institution_id,
            created_by=actor,
            secret_encrypted=webhooks.encrypt_secret(secret),
            secret_hint=secret[-4:],
            **data,
        )
        audit.record(
            "webhook.create",
            actor=actor,
            obj=endpoint,
            changes={"url": data["url"], "events": data["events"]},
        )
    return IssuedEndpoint(endpoint=endpoint, secret=secret)


def _require_manage(actor, endpoint: WebhookEndpoint) -> None:
    if not can_manage(actor, endpoint):
        raise NotAllowed()


def set_active(actor, endpoint: WebhookEndpoint, active: bool) -> WebhookEndpoint:
    """Deactivate (pending deliveries are then given up) or reactivate."""
    _require_manage(actor, endpoint)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.active == active:
            return locked
        if active:
            count = WebhookEndpoint.objects.filter(
                institution_id=locked.institution_id, active=True
            ).count()
            if count >= MAX_ENDPOINTS:
                raise Conflict(
                    _("每个机构最多启用 %(n)s 个接收地址") % {"n": MAX_ENDPOINTS},
                    code="too_many_endpoints",
                )
        locked.active = active
        locked.deactivated_at = None if active else timezone.now()
        locked.save(update_fields=["active", "deactivated_at"])
        audit.record(
            "webhook.activate" if active else "webhook.deactivate",
            actor=actor,
            obj=locked,
            changes={"active": [not active, active]},
        )
    endpoint.active, endpoint.deactivated_at = locked.active, locked.deactivated_at
    return locked


def rotate_secret(actor, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, effective for the next attempt; returns it (once)."""
    if not can_rotate(actor, endpoint):
        raise NotAllowed(_("只有本机构的管理员可以更换密钥"))
    secret = webhooks.new_secret()
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            secret_encrypted=webhooks.encrypt_secret(secret), secret_hint=secret[-4:]
        )
        audit.record("webhook.rotate_secret", actor=actor, obj=endpoint)
    endpoint.secret_hint = secret[-4:]
    return secret


def send_ping(actor, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A "ping" event to this endpoint alone, to test the receiver."""
    _require_manage(actor, endpoint)
    if not endpoint.active:
        raise Conflict(_("接收地址已停用，不能发送测试"), code="endpoint_inactive")
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=webhooks.PING,
            payload={"message": "ping", "endpoint_id": endpoint.pk},
            next_attempt_at=timezone.now(),
        )
        audit.record("webhook.ping", actor=actor, obj=endpoint, changes={"delivery": delivery.pk})
        webhooks.schedule(delivery)
    return delivery


def redeliver(actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again as a new delivery with the same event, payload
    and Idempotency-Key (so the receiver can recognise a repeat)."""
    endpoint = delivery.endpoint
    _require_manage(actor, endpoint)
    if not endpoint.active:
        raise Conflict(_("接收地址已停用，不能重发"), code="endpoint_inactive")
    if delivery.status == DeliveryStatus.PENDING:
        raise Conflict(_("该投递尚未发送，无需重发"), code="delivery_pending")
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=delivery.event,
            payload=delivery.payload,
            idempotency_key=delivery.idempotency_key,
            redelivery_of=delivery,
            next_attempt_at=timezone.now(),
        )
        audit.record(
            "webhook.redeliver",
            actor=actor,
            obj=endpoint,
            changes={"delivery": delivery.pk, "redelivery": again.pk},
        )
        webhooks.schedule(again)
    return again
