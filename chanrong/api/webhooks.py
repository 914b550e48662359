"""Webhooks: POST events to the systems of the institutions that asked for them.

Other apps call `emit(institution_id, event, payload)` inside the
transaction of the change; one WebhookDelivery per matching active endpoint
is written in that transaction and a delivery task enqueued once it commits.

Each attempt POSTs a JSON body with

    X-Chanrong-Event       the event name, e.g. "dispatch.created"
    X-Chanrong-Delivery    the delivery's id (a redelivery has a new one)
    Idempotency-Key        a UUID per event and endpoint (kept on redelivery)
    X-Chanrong-Timestamp   Unix seconds when this attempt was signed
    X-Chanrong-Signature   "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)

A 2xx answer is success. Anything else (another status, a redirect, a
timeout after 5 s, a refused connection) is retried after 1 min, 5 min,
30 min, 2 h and 6 h; after the sixth failed attempt the delivery is given up
(an institution manager can send it again from the delivery log).

SSRF: the URL must be http(s); with CHANRONG_WEBHOOK_ALLOW_PRIVATE off (the
default in production) the host must resolve only to public addresses, and
redirects are never followed. See docs/api-guide.md.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chanrong.core import secretbox
from chanrong.core.lookups import PlannedQuery
from chanrong.core.tasking import enqueue_on_commit, rerunnable

from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

#: Events an endpoint can subscribe to. Apps that emit a new event add it
#: here (or call `register_event` at import time).
EVENTS: dict[str, Any] = {
    "dispatch.created": _("新派单（有融资需求派给本机构）"),
    "demand.status_changed": _("融资需求状态变化"),
    "offer.accepted": _("本机构的融资方案被企业选定"),
    "policy.confirmation_requested": _("企业申请政策资金，请本机构确认贷款信息和实付金额"),
    "supplychain.receivable_confirmed": _("已授权本机构的供应商有应收账款获债务人确权（可融资）"),
    "supplychain.financing_created": _("本机构登记了一笔应收账款融资"),
    "supplychain.financing_repaid": _("本机构的应收账款融资已还款"),
    "supplychain.financing_overdue": _("本机构的应收账款融资已逾期"),
    "supplychain.voucher_discounted": _("数字债权凭证在本机构贴现"),
    "supplychain.voucher_paid": _("在本机构贴现的数字债权凭证已到期兑付"),
    "supplychain.discount_applied": _("凭证持有企业向本机构申请贴现数字债权凭证"),
    "supplychain.discount_withdrawn": _("凭证持有企业撤回了向本机构的贴现申请"),
}
#: Sent by the "test ping" button, whatever the endpoint subscribes to.
PING = "ping"

#: Waits after the 1st, 2nd, … failed attempt; after one more failure, give up.
RETRY_DELAYS = (60, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600)
TIMEOUT = 5  # seconds, to connect and between bytes of the answer
SECRET_PURPOSE = "webhook-secret"
SECRET_PREFIX = "whsec_"
SIGNATURE_TOLERANCE = 300  # seconds: receivers should refuse older timestamps
MAX_ERROR = 500
USER_AGENT = "chanrong-webhooks/1"


def register_event(name: str, label: str) -> None:
    EVENTS.setdefault(name, label)


def retry_delays() -> tuple[int, ...]:
    """The back-off schedule (a setting only so that tests can shorten it)."""
    return tuple(getattr(settings, "CHANRONG_WEBHOOK_RETRY_DELAYS", RETRY_DELAYS))


def max_attempts() -> int:
    return len(retry_delays()) + 1


# --- secrets and signatures ------------------------------------------------------


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def encrypt_secret(secret: str) -> str:
    return secretbox.encrypt(secret, purpose=SECRET_PURPOSE)


def endpoint_secret(endpoint: WebhookEndpoint) -> str:
    return secretbox.decrypt(endpoint.secret_encrypted, purpose=SECRET_PURPOSE)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Chanrong-Signature value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance: int = SIGNATURE_TOLERANCE,
    now: float | None = None,
) -> bool:
    """What a receiver does (docs/api-guide.md has a standalone copy): the
    signature matches, in constant time, and the timestamp is recent, so
    that a captured request cannot be replayed later."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def body_of(delivery: WebhookDelivery) -> bytes:
    """The JSON body, the same bytes on every attempt of this delivery."""
    envelope = {
        "id": str(delivery.idempotency_key),
        "event": delivery.event,
        "created_at": timezone.localtime(delivery.created_at).isoformat(),
        "institution_id": delivery.endpoint.institution_id,
        "data": delivery.payload,
    }
    return json.dumps(
        envelope, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")


# --- where we may send ----------------------------------------------------------


class UnsafeURL(ValueError):
    pass


def check_url(url: str, *, resolve: bool = True) -> None:
    """Refuse what must never be fetched: non-http(s) schemes, credentials in
    the URL, and — unless CHANRONG_WEBHOOK_ALLOW_PRIVATE — hosts that resolve
    to loopback, private, link-local, multicast or reserved addresses."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise UnsafeURL(_("只支持 http:// 或 https:// 地址"))
    if not parts.hostname:
        raise UnsafeURL(_("地址缺少主机名"))
    if parts.username or parts.password:
        raise UnsafeURL(_("地址中不能包含用户名或密码"))
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UnsafeURL(_("端口无效")) from exc
    if getattr(settings, "CHANRONG_WEBHOOK_ALLOW_PRIVATE", False):
        return
    try:
        addresses = [ipaddress.ip_address(parts.hostname)]
    except ValueError:
        if not resolve:
            return
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise UnsafeURL(_("无法解析主机名")) from exc
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    for address in addresses:
        address = getattr(address, "ipv4_mapped", None) or address
        if not address.is_global or address.is_multicast:
            raise UnsafeURL(_("地址指向内网或保留地址，已被平台策略禁止"))


# --- emitting and delivering -------------------------------------------------------


def emit(institution_id: int, event: str, payload: Mapping[str, Any]) -> list[WebhookDelivery]:
    """Record `event` for each active endpoint of the institution that
    subscribes to it, and have it sent once the caller's transaction commits.
    `payload` must be JSON-serialisable (Decimal, date and UUID are fine)."""
    return emit_many([(institution_id, event, payload)])


#: The active endpoints of some institutions: read on every publish (about
#: twenty institutions), compiled once per thread and number of institutions.
_ACTIVE_ENDPOINTS = PlannedQuery(
    lambda _context, ids: WebhookEndpoint.objects.filter(institution_id__in=ids, active=True)
)


def emit_many(
    events: Iterable[tuple[int, str, Mapping[str, Any]]],
) -> list[WebhookDelivery]:
    """`emit` for several (institution_id, event, payload) at once: one query
    for the endpoints of all the institutions, one INSERT for all the
    deliveries, one callback to enqueue them after the commit."""
    events = list(events)
    if not events:
        return []
    by_institution: dict[int, list[WebhookEndpoint]] = {}
    institutions = sorted({institution_id for institution_id, _event, _data in events})
    for endpoint in _ACTIVE_ENDPOINTS.rows("active", None, institutions):
        by_institution.setdefault(endpoint.institution_id, []).append(endpoint)
    now = timezone.now()
    rows: list[WebhookDelivery] = []
    for institution_id, event, payload in events:
        if event not in EVENTS and event != PING:
            logger.warning("webhook event %r is not in the catalogue", event)
        endpoints = [
            endpoint
            for endpoint in by_institution.get(institution_id, ())
            if endpoint.subscribes_to(event)
        ]
        if not endpoints:
            continue
        # Normalise now, so that what is stored is exactly what will be sent.
        data = json.loads(json.dumps(dict(payload), cls=DjangoJSONEncoder))
        rows.extend(
            WebhookDelivery(endpoint=endpoint, event=event, payload=data, next_attempt_at=now)
            for endpoint in endpoints
        )
    if not rows:
        return []
    deliveries = WebhookDelivery.objects.bulk_create(rows)
    schedule_many(deliveries)
    return deliveries


def schedule(delivery: WebhookDelivery) -> None:
    enqueue_on_commit(deliver_webhook, delivery.pk)


def schedule_many(deliveries: Iterable[WebhookDelivery]) -> None:
    """Enqueue a delivery task for each, in one callback once the caller's
    transaction commits (at once outside one)."""
    ids = [delivery.pk for delivery in deliveries]
    if ids:
        transaction.on_commit(partial(_enqueue_deliveries, ids))


def _enqueue_deliveries(ids: list[int]) -> None:
    for delivery_id in ids:
        try:
            deliver_webhook.enqueue(delivery_id)
        except Exception:
            # Committed already: the periodic sweep (retry_due_deliveries) sends it.
            logger.exception("could not enqueue webhook delivery %s", delivery_id)


def _claim(delivery_id: int, *, now) -> tuple[WebhookDelivery, int] | None:
    """Take the next attempt of a due delivery, or None if it is not due (done,
    given up, or claimed by another worker). Its next_attempt_at moves ahead
    to when a retry would be due, so a crashed attempt is retried then."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .filter(pk=delivery_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED])
            .first()
        )
        if delivery is None:
            return None
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return None
        endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
        delays = retry_delays()
        if not endpoint.active or delivery.attempts >= len(delays) + 1:
            delivery.status = DeliveryStatus.GIVING_UP
            delivery.next_attempt_at = None
            if not endpoint.active:
                delivery.last_error = str(_("接收地址已停用"))
            delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
            return None
        delivery.attempts += 1
        lease = delays[min(delivery.attempts, len(delays)) - 1]
        delivery.next_attempt_at = now + timedelta(seconds=lease)
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        delivery.endpoint = endpoint
        return delivery, delivery.attempts


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """One HTTP attempt: (status code or None, error text or "")."""
    endpoint = delivery.endpoint
    try:
        check_url(endpoint.url)
    except UnsafeURL as exc:
        return None, str(exc)
    try:
        secret = endpoint_secret(endpoint)
    except secretbox.InvalidToken:
        return None, str(_("无法解密签名密钥（SECRET_KEY 已更换？）请轮换密钥"))
    body = body_of(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Chanrong-Event": delivery.event,
        "X-Chanrong-Delivery": str(delivery.pk),
        "Idempotency-Key": str(delivery.idempotency_key),
        "X-Chanrong-Timestamp": timestamp,
        "X-Chanrong-Signature": sign(secret, timestamp, body),
    }
    try:
        with requests.post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=TIMEOUT,
            allow_redirects=False,
            stream=True,
        ) as response:
            status = response.status_code
            if 200 <= status < 300:
                return status, ""
            snippet = response.raw.read(MAX_ERROR, decode_content=True) or b""
            text = snippet.decode("utf-8", errors="replace").strip()
            return status, f"HTTP {status}" + (f": {text}" if text else "")
    except requests.Timeout:
        return None, str(_("超时（%(seconds)s 秒）") % {"seconds": TIMEOUT})
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"


def attempt(delivery_id: int) -> str | None:
    """Make the next attempt of a delivery if it is due; returns its status
    afterwards, or None when there was nothing to do."""
    claimed = _claim(delivery_id, now=timezone.now())
    if claimed is None:
        return None
    delivery, number = claimed
    status_code, error = _post(delivery)
    now = timezone.now()
    if not error:
        outcome = DeliveryStatus.SUCCEEDED
        fields = {"delivered_at": now, "next_attempt_at": None, "last_error": ""}
    elif number >= max_attempts():
        outcome = DeliveryStatus.GIVING_UP
        fields = {"next_attempt_at": None, "last_error": error[:MAX_ERROR]}
    else:
        outcome = DeliveryStatus.FAILED
        fields = {"last_error": error[:MAX_ERROR]}
    WebhookDelivery.objects.filter(pk=delivery.pk, attempts=number).update(
        status=outcome, last_status_code=status_code, **fields
    )
    if outcome == DeliveryStatus.FAILED:
        _schedule_retry(delivery.pk, delivery.next_attempt_at)
    return outcome


def _schedule_retry(delivery_id: int, when) -> None:
    """Ask the backend to run the retry at its time; backends that cannot
    defer (immediate) leave it to the periodic sweep (`retry_due_deliveries`)."""
    backend = deliver_webhook.get_backend()
    if not getattr(backend, "supports_defer", False):
        return
    try:
        deliver_webhook.using(run_after=when).enqueue(delivery_id)
    except Exception:
        logger.exception("could not schedule the retry of webhook delivery %s", delivery_id)


def due_deliveries(now=None):
    now = now or timezone.now()
    return WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED], next_attempt_at__lte=now
    )


def on_institution_events(sender, events, **kwargs) -> list[WebhookDelivery]:
    """Receiver of `chanrong.demands.signals.institution_events`,
    `chanrong.policy.signals.institution_events` and
    `chanrong.supplychain.signals.institution_events` (in the sender's transaction,
    so a delivery exists exactly when the change does)."""
    return emit_many(events)


@rerunnable  # an attempt claims the delivery first and carries its Idempotency-Key
@task
def deliver_webhook(delivery_id: int) -> str | None:
    """One attempt of one delivery, in a worker (enqueued after the commit
    that created it, and again at each retry time)."""
    return attempt(delivery_id)
