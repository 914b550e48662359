"""Registration: the parent's admin issues a one-time code for a region of
its subtree; the child's admin enters the parent's address and the code;
the child posts its identity and public key, signed with that key (proof of
possession); the parent checks the code, pins the child's key and answers
with its own identity and key, signed likewise; the child pins that.

The code is the shared secret of the handshake: it is single-use, expires,
is stored only as its SHA-256, and travels out of band (phone, letter). Use
https between deployments so that the keys cannot be swapped in transit.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from typing import Any

import requests
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.models import Region

from ..models import Peer, PeerRole, PeerState, RegistrationCode
from . import envelope, identity, safeurl
from .envelope import Refused

CODE_TTL = timedelta(days=3)
TIMEOUT = 10
REGISTER_PATH = "/api/v1/exchange/register"


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def may_manage(actor) -> bool:
    """Peers are the operator's business: the platform admin only."""
    from ..permissions import may_manage as allowed

    return allowed(actor)


def issue_code(actor, *, region_code: str, note: str = "") -> tuple[RegistrationCode, str]:
    """(row, the code in clear — shown once). The region must lie in this
    deployment's own subtree and below it."""
    if not may_manage(actor):
        raise NotAllowed()
    me = identity.ensure(actor=actor)
    prefix = identity.region_prefix(me)
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise ValidationFailed({"region_code": _("未知的行政区划代码")})
    if not region.code.startswith(prefix) or region.code == me.region_code:
        raise ValidationFailed({"region_code": _("下级平台的地区必须在本平台所辖地区之内")})
    code = "-".join(secrets.token_hex(3).upper() for _ in range(4))
    with transaction.atomic():
        row = RegistrationCode.objects.create(
            code_hash=_hash(code),
            region_code=region.code,
            note=note[:200],
            expires_at=timezone.now() + CODE_TTL,
            created_by=actor,
        )
        audit.record(
            "exchange.code_issued",
            actor=actor,
            obj=row,
            object_repr=region.name,
            changes={"region_code": region.code, "expires_at": row.expires_at.isoformat()},
        )
    return row, code


def _registration_document(me, code: str, nonce: str) -> dict[str, Any]:
    return {
        "format_version": envelope.FORMAT_VERSION,
        "code": code,
        "nonce": nonce,
        "deployment_id": str(me.deployment_id),
        "name": me.name,
        "region": me.region_code,
        "base_url": me.base_url,
        "public_key": me.public_key,
    }


def register_with_parent(actor, *, parent_url: str, code: str, session=None) -> Peer:
    """Child side of the handshake (one HTTP request); the parent is pinned."""
    if not may_manage(actor):
        raise NotAllowed()
    me = identity.ensure(actor=actor)
    if not me.region_code:
        raise ValidationFailed({"parent_url": _("全国平台没有上级平台")})
    parent_url = parent_url.strip().rstrip("/")
    if not parent_url.startswith(("http://", "https://")):
        raise ValidationFailed({"parent_url": _("请填写 http:// 或 https:// 开头的地址")})
    try:
        safeurl.check(parent_url)
    except safeurl.UnsafeURL as exc:
        raise ValidationFailed(
            {"parent_url": _("不能向该地址发送数据：%(reason)s") % {"reason": exc.reason}}
        ) from None
    nonce = secrets.token_hex(16)
    document = _registration_document(me, code.strip().upper(), nonce)
    body = envelope.canonical(document)
    signature = envelope.sign_bytes(body, identity.private_key(me))
    http = session or safeurl.session()
    try:
        response = http.post(
            parent_url + REGISTER_PATH,
            data=json.dumps({**document, "signature": signature}, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json"},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except safeurl.UnsafeURL as exc:  # the name changed its answer since the check
        raise ValidationFailed(
            {"parent_url": _("不能向该地址发送数据：%(reason)s") % {"reason": exc.reason}}
        ) from None
    except requests.RequestException as exc:
        raise ValidationFailed({"parent_url": _("无法连接上级平台：%s") % exc}) from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 201:
        message = answer.get("message") or f"HTTP {response.status_code}"
        raise ValidationFailed({"code": _("上级平台拒绝注册：%s") % message})
    parent = answer.get("parent") or {}
    signed = envelope.canonical({"nonce": nonce, "parent": parent})
    if not envelope.verify_bytes(
        signed, str(answer.get("signature", "")), str(parent.get("public_key", ""))
    ):
        raise ValidationFailed({"parent_url": _("上级平台的应答签名无效")})
    with transaction.atomic():
        try:
            peer = Peer.objects.create(
                role=PeerRole.PARENT,
                deployment_id=parent["deployment_id"],
                name=str(parent.get("name", ""))[:100],
                region_code=str(parent.get("region", "")),
                base_url=parent_url,
                public_key=parent["public_key"],
                registered_by=actor,
            )
        except IntegrityError:
            raise Conflict(_("已经注册过该上级平台")) from None
        audit.record(
            "exchange.parent_registered",
            actor=actor,
            obj=peer,
            changes={"base_url": parent_url, "key_id": envelope.key_id(peer.public_key)},
        )
    return peer


def accept_registration(body: bytes, *, remote_addr: str = "") -> dict[str, Any]:
    """Parent side: check the code and the proof of possession, pin the child,
    answer with this deployment's identity signed over the child's nonce.
    Raises Refused (logged by the caller)."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused("malformed", "not UTF-8 JSON") from None
    if not isinstance(document, dict):
        raise Refused("malformed", "the request must be a JSON object")
    signature = document.pop("signature", None)
    required = ("format_version", "code", "nonce", "deployment_id", "name", "region", "public_key")
    missing = [key for key in required if not document.get(key)]
    if missing:
        raise Refused("malformed", "missing: " + ", ".join(missing))
    if (
        not isinstance(document["format_version"], int)
        or document["format_version"] > envelope.FORMAT_VERSION
    ):
        raise Refused("unsupported_version", "format_version not supported", 422)
    if not signature:
        raise Refused("unsigned", "the request carries no signature", 401)
    envelope.public_from_text(str(document["public_key"]))
    if not envelope.verify_bytes(
        envelope.canonical(document), str(signature), str(document["public_key"])
    ):
        raise Refused("bad_signature", "not signed with the key it carries", 401)
    base_url = str(document.get("base_url") or "")[:200]
    if base_url:
        # This deployment will push list versions to that address: it must
        # be one it may send to (the check is repeated at every send).
        try:
            safeurl.check(base_url)
        except safeurl.UnsafeURL as exc:
            raise Refused("unsafe_url", f"base_url refused: {exc.reason}", 422) from None
    me = identity.ensure()
    now = timezone.now()
    with transaction.atomic():
        row = (
            RegistrationCode.objects.select_for_update()
            .filter(code_hash=_hash(str(document["code"])))
            .first()
        )
        if row is None or row.used_at is not None or row.expires_at < now:
            raise Refused("bad_code", "the registration code is unknown, used or expired", 403)
        region = str(document["region"])
        if not region.startswith(_prefix_of(row.region_code)):
            raise Refused(
                "region_out_of_scope",
                f"the code is for region {row.region_code}; {region} is outside it",
                403,
            )
        if Peer.objects.filter(
            deployment_id=document["deployment_id"], role=PeerRole.CHILD
        ).exists():
            raise Refused("already_registered", "this deployment is registered already", 409)
        try:
            peer = Peer.objects.create(
                role=PeerRole.CHILD,
                deployment_id=document["deployment_id"],
                name=str(document["name"])[:100],
                region_code=region,
                base_url=base_url,
                public_key=str(document["public_key"]),
                state=PeerState.ACTIVE,
            )
        except (ValueError, IntegrityError):
            raise Refused("malformed", "deployment_id must be a UUID") from None
        row.used_at, row.peer = now, peer
        row.save(update_fields=["used_at", "peer"])
        audit.record(
            "exchange.child_registered",
            obj=peer,
            ip=remote_addr or None,
            changes={"region_code": region, "key_id": envelope.key_id(peer.public_key)},
        )
    parent = {
        "deployment_id": str(me.deployment_id),
        "name": me.name,
        "region": me.region_code,
        "public_key": me.public_key,
        "format_version": envelope.FORMAT_VERSION,
    }
    answer_signature = envelope.sign_bytes(
        envelope.canonical({"nonce": document["nonce"], "parent": parent}), identity.private_key(me)
    )
    return {"parent": parent, "signature": answer_signature}


def _prefix_of(region_code: str) -> str:
    region = Region.objects.filter(code=region_code).first()
    return region.prefix if region else region_code


def set_state(actor, peer: Peer, state: str) -> Peer:
    if not may_manage(actor):
        raise NotAllowed()
    if state not in PeerState.values:
        raise ValidationFailed({"state": _("无效的状态")})
    with transaction.atomic():
        before = peer.state
        peer.state = state
        peer.save(update_fields=["state"])
        audit.record(
            "exchange.peer_state", actor=actor, obj=peer, changes={"state": [before, state]}
        )
    return peer


def region_allowed(peer: Peer, region_code: str) -> bool:
    """Whether a child may report for `region_code`: its own region's subtree."""
    return region_code.startswith(_prefix_of(peer.region_code)) if peer.region_code else False
