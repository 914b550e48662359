"""The demo accounts (stable names, see DESIGN.md), one per role to try.

All share the password from settings.CHANRONG_DEMO_PASSWORD; it is hashed
once per build (Argon2 is slow on purpose) and the hash reused.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings

from chanrong.accounts.models import Role, User
from chanrong.accounts.services import otp

from .base import DemoContext

NAME = "accounts"
# What this builder writes; a rebuild empties these and whatever references them.
MODELS = ("accounts.user",)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    display_name: str
    # Where the organisation comes from: ("agency", key), ("institution", key),
    # ("enterprise", index into the demo enterprises) or ("platform", "").
    organisation: tuple[str, str | int]


ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", Role.PLATFORM_ADMIN, "平台管理员", ("platform", "")),
    DemoAccount("gov_national", Role.GOV_ADMIN, "工信部管理员", ("agency", "miit")),
    DemoAccount("gov_zhejiang", Role.GOV_ADMIN, "浙江省经信厅管理员", ("agency", "zj_industry")),
    DemoAccount("gov_jiashan", Role.GOV_ADMIN, "嘉善县经信局管理员", ("agency", "js_industry")),
    DemoAccount(
        "bank_manager", Role.INSTITUTION_MANAGER, "嘉善农商行客户经理主管", ("institution", "jsrcb")
    ),
    DemoAccount(
        "bank_staff", Role.INSTITUTION_STAFF, "嘉善农商行客户经理", ("institution", "jsrcb")
    ),
    DemoAccount(
        "bank2_staff", Role.INSTITUTION_STAFF, "工商银行嘉善支行客户经理", ("institution", "icbc")
    ),
    DemoAccount("ent_user", Role.ENTERPRISE_USER, "嘉善精工机械财务负责人", ("enterprise", 0)),
    DemoAccount("ent2_user", Role.ENTERPRISE_USER, "嘉善新材料科技财务负责人", ("enterprise", 1)),
    # 嘉善县财政局 (issue 13, policy): appended so every earlier account keeps its row.
    DemoAccount(
        "gov_jiashan_finance", Role.GOV_ADMIN, "嘉善县财政局管理员", ("agency", "js_finance")
    ),
    DemoAccount(
        "gov_jiashan_finance_staff",
        Role.GOV_STAFF,
        "嘉善县财政局经办人员",
        ("agency", "js_finance"),
    ),
    # 三权分立 (issue 15): the security and audit administrators beside `admin`
    # (the system administrator); appended so every earlier account keeps its row.
    DemoAccount("secadmin", Role.SECURITY_ADMIN, "安全管理员", ("platform", "")),
    DemoAccount("auditor", Role.AUDIT_ADMIN, "审计管理员", ("platform", "")),
)


def demo_otp_key(username: str) -> str:
    """The TOTP secret (hex) of a demo account: derived from the deployment's
    SECRET_KEY, so every build of one deployment prints the same secret and
    two deployments do not share one."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"chanrong-demo-otp:{username}".encode(), hashlib.sha256
    )
    return digest.hexdigest()[:40]


def build(ctx: DemoContext) -> None:
    users = [_user(ctx, account) for account in ACCOUNTS]
    User.objects.bulk_create(users)
    ctx.counts["users"] = len(users)
    # Accounts whose role must sign in with a second factor are enrolled with
    # a known secret, printed with the password, so a visitor can add it to an
    # authenticator app (or run `chanrong otp code USERNAME`).
    for user in User.objects.filter(username__in=[a.username for a in ACCOUNTS]):
        if otp.otp_required(user):
            otp.enrol_with_secret(user, demo_otp_key(user.username), name=otp.DEMO_DEVICE_NAME)


def _user(ctx: DemoContext, account: DemoAccount) -> User:
    kind, key = account.organisation
    user = User(
        username=account.username,
        role=account.role,
        display_name=account.display_name,
        password=ctx.password_hash,
        is_active=True,
    )
    if kind == "platform":
        # 三权分立: only the system administrator is superuser; the security
        # administrator reaches /admin/ for locks and OTP resets.
        user.is_staff = account.role in (Role.PLATFORM_ADMIN, Role.SECURITY_ADMIN)
        user.is_superuser = account.role == Role.PLATFORM_ADMIN
    elif kind == "agency":
        user.agency = ctx.refs["agencies"][key]
    elif kind == "institution":
        user.institution = ctx.refs["institutions"][key]
        # Staff of a bank work at its 嘉善 office (the county's first branch).
        user.branch = ctx.refs["county_branches"][key][0]
    elif kind == "enterprise":
        user.enterprise = ctx.refs["demo_enterprises"][int(key)]
    return user
