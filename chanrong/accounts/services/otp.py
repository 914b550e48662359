"""The second factor: TOTP (django-otp) with single-use recovery codes.

Mandatory for the roles in CHANRONG_OTP_REQUIRED_ROLES (platform, security
and audit administrators, government admins, institution managers by
default), optional for everyone else; once a user has a confirmed device, every
sign-in needs it. The session is "verified" in django-otp's sense
(`request.user.is_verified()`), which `/admin/` and the account policy
middleware require.
"""

from __future__ import annotations

from dataclasses import dataclass

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from chanrong.core import audit
from chanrong.core.errors import NotAllowed, ValidationFailed

from ..models import User

RECOVERY_CODES = 10
TOTP_NAME = "totp"
RECOVERY_NAME = "recovery"
#: Devices enrolled with a printed secret by the demo; `chanrong otp code`
#: prints codes for these only.
DEMO_DEVICE_NAME = "demo"


def required_roles() -> set[str]:
    return set(getattr(settings, "CHANRONG_OTP_REQUIRED_ROLES", ()))


def otp_required(user: User) -> bool:
    """Must this user sign in with a second factor (by role)?"""
    return bool(getattr(user, "role", "")) and user.role in required_roles()


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user: User) -> bool:
    return django_otp.user_has_device(user, confirmed=True)


def needs_verification(user: User) -> bool:
    """Required by role, or chosen by the user (a confirmed device exists)."""
    return otp_required(user) or has_second_factor(user)


def pending_enrolment(user: User) -> TOTPDevice:
    """The user's unconfirmed TOTP device (a fresh secret the first time);
    shown as a QR code until a code from it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG, drawn on the server (no CDN, no
    third party sees the secret)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    return image.to_string(encoding="unicode")


def secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed in."""
    from base64 import b32encode

    return b32encode(device.bin_key).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class Enrolled:
    device: TOTPDevice
    recovery_codes: list[str]  # shown once


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=c) for c in codes)
    return codes


def confirm_enrolment(user: User, device: TOTPDevice, token: str) -> Enrolled:
    """Confirm the pending device with a code from the app; replaces any
    earlier device and issues fresh recovery codes."""
    if device.user_id != user.pk or device.confirmed:
        raise NotAllowed()
    with transaction.atomic():
        if not device.verify_token((token or "").strip()):
            raise ValidationFailed({"token": _("动态口令不正确，请核对手机时间后重试")})
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        audit.record("auth.otp_enrol", actor=user, obj=user)
    return Enrolled(device, codes)


def enrol_with_secret(user: User, hex_key: str, name: str = TOTP_NAME) -> TOTPDevice:
    """A confirmed device with a known secret, for demo accounts only (the demo
    prints the secret so that a visitor can add it to an authenticator app)."""
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name=name, key=hex_key, confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """The code the device shows now (for `chanrong otp code`, demo only)."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def verify(user: User, token: str):
    """The device that accepts `token` (a 6-digit TOTP code, or one recovery
    code, used up), or None. Failures are audited; django-otp's throttling
    slows repeated guesses per device."""
    token = (token or "").strip().replace(" ", "")
    if not token:
        return None
    devices = (
        TOTPDevice.objects.filter(user=user, confirmed=True)
        if token.isdigit()
        else StaticDevice.objects.filter(user=user, confirmed=True)
    )
    for device in devices:
        matched = django_otp.verify_token(user, device.persistent_id, token)
        if matched is not None:
            if isinstance(matched, StaticDevice):
                audit.record(
                    "auth.otp_recovery_code_used",
                    actor=user,
                    obj=user,
                    changes={"left": matched.token_set.count()},
                )
            return matched
    audit.record("auth.otp_failed", actor=user, obj=user)
    return None


def reset(actor: User, user: User) -> int:
    """Remove every second-factor device of `user` (a lost phone): the
    security administrator's job. A role that requires OTP enrols again at
    the next sign-in. Returns how many devices were removed."""
    if not actor.is_security_admin:
        raise NotAllowed(_("只有安全管理员可以重置动态口令"))
    with transaction.atomic():
        removed = 0
        for model in (TOTPDevice, StaticDevice):
            removed += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
        audit.record("auth.otp_reset", actor=actor, obj=user, changes={"devices": removed})
    return removed
