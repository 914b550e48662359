"""The enterprise profile (企业档案) and the enterprise's data authorisations.

Profile fields (founding date, registered capital, contacts, products,
R&D expense, 规上, 战略性新兴产业, 三类企业) are cleaned here for every writer:
the profile form and API, the core create/update (which clean core and
profile fields in one pass), and the bulk import. An enterprise lets an
institution see its profile by a DataAuthorisation, granted and revoked only
by the enterprise itself, each audited.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed
from chanrong.core.money import to_halfwidth
from chanrong.core.scope import scope_of

from .. import signals as registry_signals
from ..models import ChongqingClass, DataAuthorisation, Enterprise, StrategicEmergingCategory
from .access import can_edit_enterprise
from .fields import _amount_field, _bool_field, _choice_field, _date_field, _present, _text
from .personal import audit_snapshot, clean_id_number


def authorise_institution(actor, enterprise: Enterprise, institution) -> DataAuthorisation:
    """The enterprise lets `institution` see its profile."""
    if scope_of(actor).enterprise_id != enterprise.pk:
        raise NotAllowed(_("只有企业本身可以授权"))
    with transaction.atomic():
        existing = DataAuthorisation.objects.filter(
            enterprise=enterprise, institution=institution, revoked_at__isnull=True
        ).first()
        if existing:
            return existing
        grant = DataAuthorisation.objects.create(enterprise=enterprise, institution=institution)
        audit.record(
            "enterprise.authorise",
            actor=actor,
            obj=enterprise,
            changes={"institution": [None, institution.pk]},
        )
    return grant


def authorise_institutions(actor, enterprise: Enterprise, institutions) -> list[DataAuthorisation]:
    """`authorise_institution` for several institutions at once (one query
    for the existing grants, one INSERT, one audit write)."""
    if scope_of(actor).enterprise_id != enterprise.pk:
        raise NotAllowed(_("只有企业本身可以授权"))
    wanted = list({institution.pk: institution for institution in institutions}.values())
    if not wanted:
        return []
    with transaction.atomic():
        existing = {
            grant.institution_id: grant
            for grant in DataAuthorisation.objects.filter(
                enterprise=enterprise,
                institution_id__in=[institution.pk for institution in wanted],
                revoked_at__isnull=True,
            )
        }
        fresh = [institution for institution in wanted if institution.pk not in existing]
        created = DataAuthorisation.objects.bulk_create(
            [DataAuthorisation(enterprise=enterprise, institution=inst) for inst in fresh]
        )
        who = audit.describe_actor(actor)
        audit.record_many(
            audit.entry(
                "enterprise.authorise",
                actor_info=who,
                obj=enterprise,
                changes={"institution": [None, institution.pk]},
            )
            for institution in fresh
        )
    grants = {grant.institution_id: grant for grant in created} | existing
    return [grants[institution.pk] for institution in wanted]


def revoke_authorisation(actor, grant: DataAuthorisation) -> None:
    if scope_of(actor).enterprise_id != grant.enterprise_id:
        raise NotAllowed(_("只有企业本身可以撤销授权"))
    if grant.revoked_at is not None:
        return
    with transaction.atomic():
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
        audit.record(
            "enterprise.revoke_authorisation",
            actor=actor,
            obj=grant.enterprise,
            changes={"institution": [grant.institution_id, None]},
        )


PROFILE_FIELDS = (
    "founded_on",
    "registered_capital_wan",
    "legal_representative",
    "legal_rep_id_number",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "main_products",
    "rd_expense_wan",
    "is_above_scale",
    "strategic_emerging_category",
    "chongqing_class",
)
_PHONE = re.compile(r"^[0-9+()\- ]{5,30}$")


def clean_profile_data(data: dict[str, Any]) -> dict[str, Any]:
    """The profile fields present in `data` as model values (absent keys are
    left out: every profile update is partial). Amounts are 万元 numbers or
    text with a unit; dates and yes/no as people write them."""
    errors: list[FieldError] = []
    out = {
        "founded_on": _date_field(data, "founded_on", errors),
        "registered_capital": _amount_field(data, "registered_capital_wan", errors),
        "legal_representative": _text(data, "legal_representative", errors, 50),
        "legal_rep_id_number": _text(data, "legal_rep_id_number", errors, 18),
        "contact_name": _text(data, "contact_name", errors, 50),
        "contact_phone": _text(data, "contact_phone", errors, 30),
        "contact_email": _text(data, "contact_email", errors, 254),
        "address": _text(data, "address", errors, 200),
        "main_products": _text(data, "main_products", errors, 500),
        "rd_expense": _amount_field(data, "rd_expense_wan", errors),
        "is_above_scale": _bool_field(data, "is_above_scale", errors),
        "strategic_emerging_category": _choice_field(
            data, "strategic_emerging_category", StrategicEmergingCategory, errors
        ),
        "chongqing_class": _choice_field(data, "chongqing_class", ChongqingClass, errors),
    }
    out = _present(out)
    founded = out.get("founded_on")
    if founded and founded > timezone.localdate():
        errors.append(FieldError("founded_on", _("成立日期不能晚于今天")))
    if out.get("legal_rep_id_number"):
        out["legal_rep_id_number"] = clean_id_number(out["legal_rep_id_number"], errors)
    phone = out.get("contact_phone")
    if phone and not _PHONE.match(to_halfwidth(phone)):
        errors.append(FieldError("contact_phone", _("电话号码只能包含数字、空格、+、- 和括号")))
    elif phone:
        out["contact_phone"] = to_halfwidth(phone)
    email = out.get("contact_email")
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            errors.append(FieldError("contact_email", _("电子邮箱格式不正确")))
    if errors:
        raise ValidationFailed(errors)
    return out


def _profile_snapshot(enterprise: Enterprise) -> dict[str, Any]:
    return {
        "founded_on": enterprise.founded_on,
        "registered_capital": enterprise.registered_capital,
        # Personal values go into audit diffs masked and fingerprinted, never
        # in full (audit rows outlive a person's anonymisation).
        **audit_snapshot(enterprise),
        "address": enterprise.address or None,
        "main_products": enterprise.main_products or None,
        "rd_expense": enterprise.rd_expense,
        "is_above_scale": enterprise.is_above_scale,
        "strategic_emerging_category": enterprise.strategic_emerging_category or None,
        "chongqing_class": enterprise.chongqing_class or None,
    }


def update_enterprise_profile(actor, enterprise: Enterprise, data: dict[str, Any]) -> Enterprise:
    """Change the profile fields present in `data` (never the USCC or the
    other core fields: those go through update_enterprise). The enterprise
    itself, government in its subtree and platform admins may."""
    if not can_edit_enterprise(actor, enterprise):
        raise NotAllowed(_("无权修改该企业的档案"))
    errors = [
        FieldError(key, _("不是企业档案的字段")) for key in sorted(set(data) - set(PROFILE_FIELDS))
    ]
    try:
        values = clean_profile_data(data)
    except ValidationFailed as exc:
        errors = exc.errors + errors
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        before = _profile_snapshot(locked)
        for key, value in values.items():
            setattr(locked, key, value)
        changes = audit.diff(before, _profile_snapshot(locked))
        if changes:
            locked.save()
            audit.record("enterprise.profile", actor=actor, obj=locked, changes=changes)
            registry_signals.enterprises_changed.send_after_commit([locked.pk])
    return locked


#: The name the import helper and the brief use.
upsert_enterprise_profile = update_enterprise_profile
