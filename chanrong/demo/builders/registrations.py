"""Self-registration in the demo: a few applications waiting for review, so
that `gov_jiashan` finds 嘉善 enterprises in its 注册审核 queue and `admin`
an institution in its own.

Three enterprises apply in 嘉善: two not yet in the 名录库 (approval puts them
on record, 企业自报) and one already there under a slightly different name
(the page says so); one 村镇银行 applies for an institution-manager account.
Each application's password is the demo password (its hash), so an approved
applicant signs in like every demo account; the status-link tokens are
random and known to nobody (the demo applicants follow up by signing in).
Written with bulk_create (no per-row audit), like the other builders.
"""

from __future__ import annotations

import hashlib

from chanrong.accounts.registration_models import (
    Registration,
    RegistrationKind,
    RegistrationStatus,
)
from chanrong.accounts.services.registration import PRIVACY_VERSION
from chanrong.registry.models import Enterprise

from .base import DemoContext

NAME = "registrations"
MODELS = ("accounts.registration",)

JIASHAN = "330421"
#: (name, industry, contact, mobile, username) of the enterprises not yet on record.
NEW_ENTERPRISES = (
    ("嘉善云帆智能装备有限公司", "C34", "王晓明", "13857301001", "yunfan"),
    ("嘉善禾丰农业科技有限公司", "A01", "李春燕", "13857301002", "hefeng"),
)


def build(ctx: DemoContext) -> None:
    rng = ctx.rng("registrations")
    when = ctx.history_end

    def registration(**values) -> Registration:
        token = hashlib.sha256(rng.randbytes(32)).hexdigest()
        return Registration(
            status=RegistrationStatus.SUBMITTED,
            token_hash=token,
            password=ctx.password_hash,
            consent_at=when,
            privacy_version=PRIVACY_VERSION,
            **values,
        )

    rows = [
        registration(
            kind=RegistrationKind.ENTERPRISE,
            uscc=ctx.new_uscc(rng, JIASHAN),
            name=name,
            region_id=JIASHAN,
            industry_id=industry,
            contact_name=contact,
            contact_phone=mobile,
            contact_email=f"{username}@example.com",
            username=f"reg_{username}",
        )
        for name, industry, contact, mobile, username in NEW_ENTERPRISES
    ]
    # An enterprise already in the registry, with no account yet, applying
    # under its short name: linked by USCC, the name difference flagged.
    on_record = (
        Enterprise.objects.filter(region_id=JIASHAN, users__isnull=True).order_by("pk").first()
    )
    if on_record is not None:
        short = on_record.name
        for suffix in ("股份有限公司", "有限责任公司", "有限公司"):
            short = short.removesuffix(suffix)
        rows.append(
            registration(
                kind=RegistrationKind.ENTERPRISE,
                uscc=on_record.uscc,
                name=short if short != on_record.name else on_record.name + "（分）",
                registry_name=on_record.name,
                region_id=on_record.region_id,
                industry_id=on_record.industry_id,
                enterprise_id=on_record.pk,
                contact_name="陈建国",
                contact_phone="13857301003",
                contact_email="chen@example.com",
                username="reg_chen",
            )
        )
    rows.append(
        registration(
            kind=RegistrationKind.INSTITUTION,
            uscc="B1234H233040001",
            name="浙江嘉善富民村镇银行股份有限公司",
            institution_kind="bank",
            branch_name="魏塘支行",
            region_id=JIASHAN,
            contact_name="赵敏",
            contact_phone="13857301004",
            contact_email="zhao@example.com",
            username="reg_fumin",
        )
    )
    Registration.objects.bulk_create(rows)
    ctx.counts["registrations"] = len(rows)


def digest_rows():
    yield (
        "registrations",
        Registration.objects.order_by("kind", "uscc").values_list(
            "kind", "uscc", "name", "region_id", "username", "status", "registry_name"
        ),
    )
