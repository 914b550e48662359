"""Self-registration: submit, approve, reject, withdraw (see registration_models.py
for why no account exists before approval, and registration_workflow.py for
the transition table and the reviewers).

Every input error is reported by field and all at once; duplicates (the same
code pending, the username taken or reserved) are refused by field too, and
the partial unique constraints hold the same rule under concurrent requests.
Approval runs in one transaction under the registration's row lock: the
organisation is linked or created through the app that owns it
(`accounts.directory`), the account is created with the password the
applicant chose, the transition is audited and the people concerned notified.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit, notify
from chanrong.core.codes import CodeError, validate_uscc
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.models import Industry, IndustryLevel, Region, RegionLevel
from chanrong.core.sms import MOBILE
from chanrong.core.text import name_problem
from chanrong.core.workflow import apply_transition

from ..directory import directory_for
from ..models import Role, User
from ..registration_models import Registration, RegistrationKind, RegistrationStatus
from ..registration_workflow import REGISTRATION, Applicant, reviewing_agency_ids

#: The version of the privacy notice (templates/accounts/registration/privacy.html)
#: an applicant consents to; stored with the consent.
PRIVACY_VERSION = "2026-1"
#: 金融许可证 机构编码: a letter, 4 digits, a letter, 9 digits (e.g. B0014H233040001).
LICENCE = re.compile(r"^[A-Z]\d{4}[A-Z]\d{9}$")
ENTERPRISE_FIELDS = (
    "uscc",
    "name",
    "region_code",
    "industry_code",
    "contact_name",
    "contact_phone",
    "contact_email",
    "username",
    "password",
    "password2",
    "consent",
)
INSTITUTION_FIELDS = (
    "name",
    "institution_kind",
    "uscc",
    "branch_name",
    "region_code",
    "contact_name",
    "contact_phone",
    "contact_email",
    "username",
    "password",
    "password2",
    "consent",
)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _text(data: dict[str, Any], key: str) -> str:
    return " ".join(str(data.get(key) or "").split())


# --- validation ---------------------------------------------------------------------------


def _clean_name(value: str, field: str, low: int, high: int, errors: list[FieldError]) -> str:
    if problem := name_problem(value):
        errors.append(FieldError(field, problem))
    elif not low <= len(value) <= high:
        errors.append(
            FieldError(field, _("应为 %(low)d–%(high)d 个字符") % {"low": low, "high": high})
        )
    return value


def _clean_region(code: str, errors: list[FieldError], *, county: bool) -> Region | None:
    region = Region.objects.filter(pk=code).first()
    if region is None:
        errors.append(FieldError("region_code", _("请选择所在地区")))
    elif county and region.level != RegionLevel.COUNTY:
        errors.append(FieldError("region_code", _("请选择到区县一级")))
    else:
        return region
    return None


def _clean_contact_and_account(data: dict[str, Any], out: dict, errors: list[FieldError]) -> None:
    out["contact_name"] = _clean_name(_text(data, "contact_name"), "contact_name", 2, 50, errors)
    phone = _text(data, "contact_phone").replace(" ", "").replace("-", "")
    if not MOBILE.match(phone):
        errors.append(FieldError("contact_phone", _("请填写 11 位手机号码")))
    out["contact_phone"] = phone
    email = _text(data, "contact_email")
    try:
        validate_email(email)
    except ValidationError:
        errors.append(FieldError("contact_email", _("请填写有效的电子邮箱")))
    out["contact_email"] = email
    username = str(data.get("username") or "").strip()
    try:
        UnicodeUsernameValidator()(username)
        if not 3 <= len(username) <= 150:
            raise ValidationError("length")
    except ValidationError:
        errors.append(
            FieldError("username", _("用户名应为 3–150 个字符，只含字母、数字和 @/./+/-/_"))
        )
    else:
        if username_taken(username):
            errors.append(FieldError("username", _("该用户名已被使用，请换一个")))
    out["username"] = username
    password = str(data.get("password") or "")
    if password != str(data.get("password2") or ""):
        errors.append(FieldError("password2", _("两次输入的密码不一致")))
    probe = User(username=username, email=email, display_name=out["contact_name"])
    try:
        validate_password(password, user=probe)
    except ValidationError as exc:
        errors.extend(FieldError("password", message) for message in exc.messages)
    out["password"] = password
    if data.get("consent") not in (True, "on", "1", "true", 1):
        errors.append(FieldError("consent", _("须阅读并同意隐私政策才能注册")))


def username_taken(username: str) -> bool:
    """Taken by an account, or reserved by a pending application."""
    return (
        User.objects.filter(username__iexact=username).exists()
        or Registration.objects.pending().filter(username__iexact=username).exists()
    )


def clean_enterprise(data: dict[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    for key in ENTERPRISE_FIELDS:
        if key != "consent" and not str(data.get(key) or "").strip():
            errors.append(FieldError(key, _("必填")))
    missing = {e.field for e in errors}
    if "uscc" not in missing:
        try:
            out["uscc"] = validate_uscc(str(data["uscc"]))
        except CodeError as exc:
            errors.append(FieldError("uscc", str(exc)))
        else:
            pending = Registration.objects.pending().filter(
                kind=RegistrationKind.ENTERPRISE, uscc=out["uscc"]
            )
            if pending.exists():
                errors.append(FieldError("uscc", _("该统一社会信用代码已有待审核的注册申请")))
    if "name" not in missing:
        out["name"] = _clean_name(_text(data, "name"), "name", 2, 100, errors)
    if "region_code" not in missing:
        out["region"] = _clean_region(_text(data, "region_code"), errors, county=True)
    if "industry_code" not in missing:
        industry = Industry.objects.filter(pk=_text(data, "industry_code").upper()).first()
        if industry is None or industry.level == IndustryLevel.SECTION:
            errors.append(FieldError("industry_code", _("请选择行业大类")))
        out["industry"] = industry
    _clean_contact_and_account(data, out, errors)
    _drop_repeated_required(errors)
    if errors:
        raise ValidationFailed(errors)
    return out


def clean_institution(data: dict[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    for key in INSTITUTION_FIELDS:
        if key not in ("consent", "branch_name") and not str(data.get(key) or "").strip():
            errors.append(FieldError(key, _("必填")))
    missing = {e.field for e in errors}
    if "name" not in missing:
        out["name"] = _clean_name(_text(data, "name"), "name", 2, 100, errors)
    kinds = dict(directory_for(RegistrationKind.INSTITUTION).kinds())
    if "institution_kind" not in missing:
        out["institution_kind"] = _text(data, "institution_kind")
        if out["institution_kind"] not in kinds:
            errors.append(FieldError("institution_kind", _("请选择机构类型")))
    if "uscc" not in missing:
        code = _text(data, "uscc").upper().replace(" ", "")
        if len(code) == 18:
            try:
                code = validate_uscc(code)
            except CodeError as exc:
                errors.append(FieldError("uscc", str(exc)))
        elif not LICENCE.match(code):
            errors.append(
                FieldError(
                    "uscc",
                    _(
                        "请填写 18 位统一社会信用代码，或 15 位金融许可证机构编码（如 B0014H233040001）"
                    ),
                )
            )
        out["uscc"] = code
        pending = Registration.objects.pending().filter(
            kind=RegistrationKind.INSTITUTION, uscc=code
        )
        if pending.exists():
            errors.append(FieldError("uscc", _("该机构代码已有待审核的注册申请")))
    branch = _text(data, "branch_name")
    out["branch_name"] = _clean_name(branch, "branch_name", 2, 100, errors) if branch else ""
    if "region_code" not in missing:
        out["region"] = _clean_region(_text(data, "region_code"), errors, county=False)
    _clean_contact_and_account(data, out, errors)
    _drop_repeated_required(errors)
    if errors:
        raise ValidationFailed(errors)
    return out


def _drop_repeated_required(errors: list[FieldError]) -> None:
    """A field reported empty needs no second message about its format."""
    empty = {e.field for e in errors if e.message == _("必填")}
    errors[:] = [e for e in errors if e.field not in empty or e.message == _("必填")]


# --- submitting ---------------------------------------------------------------------------


def _reviewers(registration: Registration) -> list[User]:
    if registration.kind == RegistrationKind.INSTITUTION:
        return list(User.objects.filter(role=Role.PLATFORM_ADMIN, is_active=True))
    agencies = reviewing_agency_ids(registration.region_id)
    return list(User.objects.filter(agency_id__in=agencies, is_active=True))


def _create(kind: str, values: dict[str, Any]) -> tuple[Registration, str]:
    raw = secrets.token_urlsafe(32)
    directory = directory_for(kind)
    match = directory.lookup(values["uscc"], values["name"])
    registration = Registration(
        kind=kind,
        token_hash=hash_token(raw),
        uscc=values["uscc"],
        name=values["name"],
        region=values["region"],
        industry=values.get("industry"),
        institution_kind=values.get("institution_kind", ""),
        branch_name=values.get("branch_name", ""),
        registry_name=match.name if match else "",
        contact_name=values["contact_name"],
        contact_phone=values["contact_phone"],
        contact_email=values["contact_email"],
        username=values["username"],
        consent_at=timezone.now(),
        privacy_version=PRIVACY_VERSION,
    )
    if kind == RegistrationKind.ENTERPRISE and match is not None:
        registration.enterprise_id = match.pk
        # The enterprise on record decides whose queue the application is in.
        registration.region_id = match.region_code
    elif match is not None:
        registration.institution_id = match.pk
    registration.password = make_password(values["password"])
    try:
        with transaction.atomic():
            registration.save()
            audit.record(
                "accounts.registration.submit",
                obj=registration,
                changes={
                    "kind": kind,
                    "uscc": registration.uscc,
                    "name": registration.name,
                    "region": registration.region_id,
                    "username": registration.username,
                    "linked": match.pk if match else None,
                },
            )
            notify.send(
                _reviewers(registration),
                "registration_submitted",
                _("新的%(kind)s注册申请待审核：%(name)s")
                % {"kind": registration.get_kind_display(), "name": registration.name},
                reverse("accounts:registration_review", args=[registration.pk]),
            )
    except IntegrityError:
        # Two identical applications at the same moment: the constraint kept one.
        raise ValidationFailed({"uscc": _("该代码或用户名已有待审核的注册申请")}) from None
    return registration, raw


def submit_enterprise(data: dict[str, Any]) -> tuple[Registration, str]:
    """Returns the application and the raw token of its status link (shown once)."""
    return _create(RegistrationKind.ENTERPRISE, clean_enterprise(data))


def submit_institution(data: dict[str, Any]) -> tuple[Registration, str]:
    return _create(RegistrationKind.INSTITUTION, clean_institution(data))


def by_token(raw: str) -> Registration | None:
    if not raw or len(raw) > 100:
        return None
    return Registration.objects.filter(token_hash=hash_token(raw)).first()


# --- reviewing ----------------------------------------------------------------------------


def _check(registration: Registration, name: str, actor) -> None:
    transition = REGISTRATION.transitions[name]
    if registration.status not in transition.source:
        raise Conflict(
            _("当前状态为「%(state)s」，不能执行「%(action)s」")
            % {"state": registration.get_status_display(), "action": transition.label},
            code="invalid_transition",
        )
    if not transition.allowed(actor, registration):
        raise NotAllowed(_("无权执行「%(action)s」") % {"action": transition.label})


def _notify_applicant(registration: Registration, transition, actor) -> None:
    if registration.user_id:
        notify.send(
            [registration.user],
            "registration_approved",
            _("您的注册申请已通过，欢迎使用产融通。"),
            reverse("home"),
        )


def _create_account(registration: Registration, org_id: int, branch_id: int | None) -> User:
    if User.objects.filter(username__iexact=registration.username).exists():
        raise Conflict(
            _("用户名 %(name)s 已被占用，请驳回并请申请人重新注册")
            % {"name": registration.username}
        )
    user = User(
        username=registration.username,
        display_name=registration.contact_name,
        email=registration.contact_email,
        phone=registration.contact_phone,
        password=registration.password,
    )
    if registration.kind == RegistrationKind.ENTERPRISE:
        user.role = Role.ENTERPRISE_USER
        user.enterprise_id = org_id
    else:
        user.role = Role.INSTITUTION_MANAGER
        user.institution_id = org_id
        user.branch_id = branch_id
    user.save()
    # The applicant chose this password; stamp it as a real password change.
    from .passwords import password_was_set

    password_was_set(user, created=True)
    return user


def _forget_password(registration: Registration) -> None:
    """The hash is needed only until the account exists or never will; cleared
    in the transition's transaction (outside its audited changes: a hash has no
    place in the audit log)."""
    Registration.objects.filter(pk=registration.pk).update(password="")


def approve(actor, registration: Registration) -> Registration:
    """Link or create the organisation, create the account with the role, audit, notify."""
    with transaction.atomic():
        locked = Registration.objects.select_for_update().get(pk=registration.pk)
        _check(locked, "approve", actor)
        org_id, branch_id = directory_for(locked.kind).provide(actor, locked)
        user = _create_account(locked, org_id, branch_id)
        _forget_password(locked)
        changes: dict[str, Any] = {
            "user_id": user.pk,
            "reviewed_by_id": actor.pk,
            "reviewed_at": timezone.now(),
        }
        changes[
            "enterprise_id" if locked.kind == RegistrationKind.ENTERPRISE else "institution_id"
        ] = org_id
        audit.record(
            "accounts.user.create",
            actor=actor,
            obj=user,
            changes={
                "role": user.role,
                "organisation": user.organisation_label(),
                "via": "registration",
            },
        )
        return apply_transition(
            REGISTRATION,
            locked,
            "approve",
            actor,
            changes=changes,
            notify=_notify_applicant,
        )


def reject(actor, registration: Registration, reason: str) -> Registration:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed({"reason": _("请填写驳回理由，申请人会看到它")})
    if len(reason) > 500:
        raise ValidationFailed({"reason": _("驳回理由不超过 500 字")})
    with transaction.atomic():
        _forget_password(registration)
        return apply_transition(
            REGISTRATION,
            registration,
            "reject",
            actor,
            changes={"reason": reason, "reviewed_by_id": actor.pk, "reviewed_at": timezone.now()},
        )


def withdraw(raw_token: str, registration: Registration) -> Registration:
    """The applicant withdraws, proving it by the status link's token."""
    if hash_token(raw_token) != registration.token_hash:
        raise NotAllowed()
    with transaction.atomic():
        _forget_password(registration)
        return apply_transition(
            REGISTRATION,
            registration,
            "withdraw",
            Applicant(registration.pk),
            audit_extra={"by": "applicant"},
        )


def available(actor, registration: Registration) -> list[str]:
    return [t.name for t in REGISTRATION.available(registration, actor)]


def institution_kind_label(registration: Registration) -> str:
    if not registration.institution_kind:
        return ""
    kinds = dict(directory_for(RegistrationKind.INSTITUTION).kinds())
    return str(kinds.get(registration.institution_kind, registration.institution_kind))


def pending_count(actor) -> int:
    return Registration.objects.visible_to(actor).pending().count()


def status_message(registration: Registration) -> str:
    if registration.status == RegistrationStatus.SUBMITTED:
        return _("申请已提交，等待审核。审核通过后即可用注册的用户名和密码登录。")
    if registration.status == RegistrationStatus.APPROVED:
        return _("申请已通过，请用注册的用户名和密码登录。")
    if registration.status == RegistrationStatus.REJECTED:
        return _("申请未通过。")
    return _("申请已撤回。")
