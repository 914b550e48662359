"""This deployment's identity and signing key: created once, on first use
(or by `chanrong exchange init`), kept in the one Identity row."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Region

from ..models import Identity
from . import envelope


def current() -> Identity | None:
    return Identity.objects.order_by("pk").first()


def ensure(*, name: str = "", region_code: str = "", base_url: str = "", actor=None) -> Identity:
    """The identity, created with a fresh key pair when there is none yet
    (the name and region given, else the platform's name, nationwide)."""
    found = current()
    if found is not None:
        return found
    if region_code and not Region.objects.filter(code=region_code).exists():
        raise ValidationFailed({"region_code": _("未知的行政区划代码")})
    with transaction.atomic():
        key = envelope.new_private_key()
        identity = Identity.objects.create(
            name=name or getattr(settings, "CHANRONG_SITE_NAME", "") or "产融合作平台",
            region_code=region_code,
            base_url=base_url,
            private_key=envelope.private_to_text(key),
            public_key=envelope.public_text(key),
        )
        audit.record(
            "exchange.identity_created",
            actor=actor,
            obj=identity,
            changes={"region_code": region_code, "key_id": envelope.key_id(identity.public_key)},
        )
    return identity


def update(identity: Identity, *, name: str, region_code: str, base_url: str, actor) -> Identity:
    """Name, region and address may change while no peer is registered; the
    region is what a parent checked, so it is fixed afterwards."""
    from ..models import Peer

    errors = {}
    if not name.strip():
        errors["name"] = _("请填写平台名称")
    if region_code and not Region.objects.filter(code=region_code).exists():
        errors["region_code"] = _("未知的行政区划代码")
    if region_code != identity.region_code and Peer.objects.exists():
        errors["region_code"] = _("已与其他平台互联，所辖地区不能再修改")
    if errors:
        raise ValidationFailed(errors)
    before = {
        "name": identity.name,
        "region_code": identity.region_code,
        "base_url": identity.base_url,
    }
    identity.name, identity.region_code, identity.base_url = name.strip(), region_code, base_url
    with transaction.atomic():
        identity.save(update_fields=["name", "region_code", "base_url"])
        after = {"name": identity.name, "region_code": region_code, "base_url": base_url}
        audit.record(
            "exchange.identity_updated",
            actor=actor,
            obj=identity,
            changes=audit.diff(before, after),
        )
    return identity


def save(*, name: str, region_code: str, base_url: str, actor) -> Identity:
    """This deployment's identity as given: created (with its key pair) when
    there is none yet, else updated under `update`'s rule. The one entry for
    the identity page and `chanrong exchange init`."""
    found = current()
    if found is None:
        return ensure(name=name, region_code=region_code, base_url=base_url, actor=actor)
    return update(found, name=name, region_code=region_code, base_url=base_url, actor=actor)


def private_key(identity: Identity):
    return envelope.private_from_text(identity.private_key)


def region_prefix(identity: Identity) -> str:
    """The subtree this deployment answers for ("" = the whole country)."""
    if not identity.region_code:
        return ""
    region = Region.objects.filter(code=identity.region_code).first()
    return region.prefix if region else identity.region_code
