"""Qualifications (资质): 专精特新, 小巨人, 高新技术企业, listings and the like.

An enterprise declares its own (marked 企业自报): it stays *declared* until
the agency of its region verifies it (services.provenance) and counts as
"需核验", never as held, in eligibility and matching. Government and platform
admins record verified ones, and an official import by government confirms
a declared certificate. An enterprise's edit of a verified qualification
makes it declared again. A renewal is a new row and a revocation ends the
validity, so the rows are the history; every change is audited and
announced with `enterprises_changed`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of

from .. import signals as registry_signals
from ..models import (
    Enterprise,
    FactSource,
    FactStatus,
    ListingBoard,
    Qualification,
    QualificationKind,
)
from .access import can_edit_enterprise
from .fields import _choice_field, _date_field, _present, _text
from .provenance import provenance_on_record

QUALIFICATION_FIELDS = (
    "kind",
    "board",
    "issuer",
    "certificate_no",
    "valid_from",
    "valid_until",
    "note",
)


def can_edit_qualifications(actor, enterprise: Enterprise) -> bool:
    """The enterprise declares its own (marked 企业自报); government in its
    subtree and platform admins record them too."""
    return can_edit_enterprise(actor, enterprise)


def clean_qualification_data(
    data: dict[str, Any], *, current: Qualification | None = None
) -> dict[str, Any]:
    """Model values for a new qualification, or (with `current`) the changed
    fields of an existing one, checked as a whole: board only for listings,
    validity period in order."""
    errors: list[FieldError] = []
    unknown = sorted(set(data) - set(QUALIFICATION_FIELDS))
    for key in unknown:
        errors.append(FieldError(key, _("不允许的字段")))
    creating = current is None
    values = _present(
        {
            "kind": _choice_field(data, "kind", QualificationKind, errors, required=creating),
            "board": _choice_field(data, "board", ListingBoard, errors),
            "issuer": _text(data, "issuer", errors, 100, required=creating),
            "certificate_no": _text(data, "certificate_no", errors, 100),
            "valid_from": _date_field(data, "valid_from", errors, required=creating),
            "valid_until": _date_field(data, "valid_until", errors),
            "note": _text(data, "note", errors, 200),
        }
    )
    if not creating and values.get("issuer", "-") == "":
        errors.append(FieldError("issuer", _("必填")))
    if not creating and "valid_from" in values and values["valid_from"] is None:
        errors.append(FieldError("valid_from", _("必填")))
    if errors:
        raise ValidationFailed(errors)
    merged = {
        "kind": current.kind if current else None,
        "board": current.board if current else "",
        "valid_from": current.valid_from if current else None,
        "valid_until": current.valid_until if current else None,
        **values,
    }
    if merged["kind"] == QualificationKind.LISTED and not merged["board"]:
        errors.append(FieldError("board", _("上市/挂牌须注明板块")))
    if merged["board"] and merged["kind"] not in (
        QualificationKind.LISTED,
        QualificationKind.LISTING_RESERVE,
    ):
        errors.append(FieldError("board", _("只有上市/挂牌或上市后备企业才填写板块")))
    if (
        merged["valid_from"]
        and merged["valid_until"]
        and merged["valid_until"] < merged["valid_from"]
    ):
        errors.append(FieldError("valid_until", _("有效期截止日不能早于生效日期")))
    if errors:
        raise ValidationFailed(errors)
    return values


def _qualification_snapshot(q: Qualification) -> dict[str, Any]:
    return {
        "kind": q.kind,
        "board": q.board or None,
        "issuer": q.issuer,
        "certificate_no": q.certificate_no or None,
        "valid_from": q.valid_from,
        "valid_until": q.valid_until,
        "note": q.note or None,
        "status": q.status,
        "source": q.source,
    }


def add_qualification(
    actor, enterprise: Enterprise, data: dict[str, Any], *, imported: bool = False
) -> Qualification:
    """Record a qualification. A renewal is a new row (the old one keeps its
    period, so the history shows both). Recording the same certificate again
    (same kind, board, start date and number: a re-import) changes nothing
    and returns the existing row — except that government recording (or
    importing, `imported`) a certificate the enterprise declared confirms it."""
    if not can_edit_qualifications(actor, enterprise):
        raise NotAllowed(_("无权为该企业登记资质"))
    values = clean_qualification_data(data)
    with transaction.atomic():
        Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        same = Qualification.objects.filter(
            enterprise=enterprise,
            kind=values["kind"],
            board=values.get("board", ""),
            valid_from=values["valid_from"],
            certificate_no=values.get("certificate_no", ""),
        ).first()
        if same is not None:
            changes = {k: v for k, v in values.items() if getattr(same, k) != v}
            confirms = same.status != FactStatus.VERIFIED and not _is_enterprise(actor)
            if not changes and not confirms:
                return same
            return _update_qualification(actor, same, changes, imported=imported)
        record = provenance_on_record(actor, imported=imported)
        qualification = Qualification.objects.create(
            enterprise=enterprise, recorded_by=actor, **record, **values
        )
        audit.record(
            "qualification.create",
            actor=actor,
            obj=qualification,
            changes=audit.diff({}, _qualification_snapshot(qualification)),
        )
        registry_signals.enterprises_changed.send_after_commit([enterprise.pk])
    return qualification


def update_qualification(
    actor, qualification: Qualification, data: dict[str, Any]
) -> Qualification:
    """Correct a qualification; the audit entry keeps the values before."""
    if not can_edit_qualifications(actor, qualification.enterprise):
        raise NotAllowed(_("无权修改该企业的资质"))
    values = clean_qualification_data(data, current=qualification)
    with transaction.atomic():
        return _update_qualification(actor, qualification, values)


def _is_enterprise(actor) -> bool:
    return scope_of(actor).kind == ScopeKind.ENTERPRISE


def _update_qualification(
    actor, qualification: Qualification, values: dict[str, Any], *, imported: bool = False
):
    """Apply `values`; an enterprise's change makes the row declared again,
    government's (or an official import's) makes it verified."""
    locked = Qualification.objects.select_for_update().get(pk=qualification.pk)
    before = _qualification_snapshot(locked)
    for key, value in values.items():
        setattr(locked, key, value)
    edited = bool(audit.diff(before, _qualification_snapshot(locked)))
    if edited or not _is_enterprise(actor):
        record = provenance_on_record(actor, imported=imported)
        if edited or record["status"] != locked.status:
            for key, value in record.items():
                setattr(locked, key, value)
            if record["status"] == FactStatus.VERIFIED:
                locked.review_note = ""
    changes = audit.diff(before, _qualification_snapshot(locked))
    if changes:
        locked.recorded_by = actor
        locked.save()
        audit.record("qualification.update", actor=actor, obj=locked, changes=changes)
        registry_signals.enterprises_changed.send_after_commit([locked.enterprise_id])
    return locked


def can_revoke_qualification(actor, qualification: Qualification) -> bool:
    """Who may end a qualification: whoever may edit the enterprise's
    qualifications, except that an enterprise may withdraw only what it
    declared itself — a certificate recorded by government or an official
    import is revoked by government (the enterprise may still propose a
    correction, which goes back to review)."""
    if not can_edit_qualifications(actor, qualification.enterprise):
        return False
    return not _is_enterprise(actor) or qualification.source == FactSource.ENTERPRISE


def revoke_qualification(
    actor, qualification: Qualification, *, effective: Any, reason: str
) -> Qualification:
    """Stop a qualification counting from `effective` on (撤销/摘牌): its
    validity ends the day before. The row stays, with the reason in the audit."""
    if not can_edit_qualifications(actor, qualification.enterprise):
        raise NotAllowed(_("无权修改该企业的资质"))
    if not can_revoke_qualification(actor, qualification):
        raise NotAllowed(_("该资质由政府认定，只能由认定部门撤销"))
    errors: list[FieldError] = []
    day = _date_field({"effective": effective}, "effective", errors, required=True)
    text = _text({"reason": reason}, "reason", errors, 200, required=True)
    if errors:
        raise ValidationFailed(errors)
    if day <= qualification.valid_from:
        raise ValidationFailed({"effective": _("撤销日期应晚于资质生效日期")})
    until = day - timedelta(days=1)
    if qualification.valid_until is not None and qualification.valid_until <= until:
        raise ValidationFailed({"effective": _("该资质在此之前已经到期")})
    with transaction.atomic():
        locked = Qualification.objects.select_for_update().get(pk=qualification.pk)
        before = locked.valid_until
        locked.valid_until = until
        locked.recorded_by = actor
        locked.save()
        audit.record(
            "qualification.revoke",
            actor=actor,
            obj=locked,
            changes={"valid_until": [before, until], "reason": text},
        )
        registry_signals.enterprises_changed.send_after_commit([locked.enterprise_id])
    return locked


def get_visible_qualification(actor, enterprise: Enterprise, pk: int) -> Qualification:
    found = Qualification.objects.visible_to(actor).filter(enterprise=enterprise, pk=pk).first()
    if found is None:
        raise NotFound(_("资质不存在"))
    return found
