"""Provenance of the facts banks and eligibility rely on (issue 15).

A fact an enterprise states about itself — a qualification, its headcount,
revenue and assets — is *declared* until the government agency of its
region verifies it (or an official import by government confirms it).
Eligibility and matching count only verified facts as passed; a declared
one reads "需核验" (see finance.eligibility). This module holds:

- who may verify (government whose subtree holds the enterprise, platform
  admins) and who may move an enterprise to another region (the same
  government, judged by the OLD region; never the enterprise itself);
- the verify / reject transitions (declared in registry.workflows, audited);
- the plausibility rules for declared figures (pure: `figure_flags`), which
  store the figures but flag them 待复核 and keep the size where it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import apply_transition

from .. import signals as registry_signals
from ..models import Enterprise, FactSource, FactStatus, Qualification
from ..workflows import FIGURES_REVIEW, QUALIFICATION_REVIEW, can_verify_facts
from .fields import _text
from .sizing import compute_size

#: Plausibility bounds for declared figures (万元, people). Beyond any
#: enterprise a county platform registers; the largest Chinese groups report
#: a few 10^7 万元 and are not registered by a county.
MAX_PLAUSIBLE_REVENUE_WAN = Decimal(10_000_000)  # 1,000 亿元
MAX_PLAUSIBLE_ASSETS_WAN = Decimal(10_000_000)
MAX_PLAUSIBLE_EMPLOYEES = 100_000
#: Revenue per employee (万元 a year). Manufacturing runs at 50–300 万元 per
#: head, trading firms at a few thousand; 5,000 万元 per head is a typo or a
#: shell.
MAX_REVENUE_PER_EMPLOYEE_WAN = Decimal(5_000)
#: A figure more than this many times its previous value on record.
MAX_JUMP = Decimal(20)

FIGURE_LABELS = {
    "employees": gettext_lazy("从业人员"),
    "revenue": gettext_lazy("营业收入"),
    "assets": gettext_lazy("资产总额"),
}


def fact_source_of(actor) -> str:
    """Who records a fact: the enterprise itself, government, or a platform admin."""
    kind = scope_of(actor).kind
    if kind == ScopeKind.ENTERPRISE:
        return FactSource.ENTERPRISE
    if kind == ScopeKind.GOVERNMENT:
        return FactSource.GOVERNMENT
    return FactSource.PLATFORM


def verifier_agency_id(actor) -> int | None:
    return scope_of(actor).agency_id


def can_move_enterprise(actor, enterprise: Enterprise) -> bool:
    """Only government whose subtree holds the enterprise's CURRENT (old)
    region, or a platform admin, changes its region: the enterprise cannot
    move itself out of its government's sight."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return scope.kind == ScopeKind.GOVERNMENT and str(enterprise.region_id).startswith(
        scope.region_prefix
    )


# --- plausibility of declared figures ------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Headcount and amounts in 元 (None = not stated)."""

    employees: int | None
    revenue: Decimal | None
    assets: Decimal | None

    @classmethod
    def of(cls, enterprise: Enterprise) -> Figures:
        return cls(enterprise.employees, enterprise.revenue, enterprise.assets)


def _wan_text(amount: Decimal) -> str:
    value = (Decimal(amount) / Decimal(10000)).quantize(Decimal("0.01"))
    return f"{value:,}"


def figure_flags(new: Figures, previous: Figures | None = None) -> list[str]:
    """Why `new` looks implausible (each a Chinese sentence naming the
    figures), or []. Pure: the caller decides what a flag does."""
    flags: list[str] = []
    wan = Decimal(10000)
    if new.revenue is not None and new.revenue > MAX_PLAUSIBLE_REVENUE_WAN * wan:
        flags.append(
            _("营业收入 %(v)s 万元超过 1,000 亿元，超出合理范围") % {"v": _wan_text(new.revenue)}
        )
    if new.assets is not None and new.assets > MAX_PLAUSIBLE_ASSETS_WAN * wan:
        flags.append(
            _("资产总额 %(v)s 万元超过 1,000 亿元，超出合理范围") % {"v": _wan_text(new.assets)}
        )
    if new.employees is not None and new.employees > MAX_PLAUSIBLE_EMPLOYEES:
        flags.append(_("从业人员 %(v)s 人超过 10 万人，超出合理范围") % {"v": new.employees})
    if new.revenue is not None and new.employees:
        per_head = new.revenue / wan / new.employees
        if per_head > MAX_REVENUE_PER_EMPLOYEE_WAN:
            flags.append(
                _("人均营业收入 %(v)s 万元，超过 %(bound)s 万元的合理范围")
                % {"v": f"{per_head.quantize(Decimal('0.01')):,}", "bound": "5,000"}
            )
    if previous is not None:
        for field in ("employees", "revenue", "assets"):
            old, now = getattr(previous, field), getattr(new, field)
            if old and now is not None and Decimal(now) > Decimal(old) * MAX_JUMP:
                shown = (
                    (str(old), str(now))
                    if field == "employees"
                    else (_wan_text(old) + " 万元", _wan_text(now) + " 万元")
                )
                flags.append(
                    _("%(label)s由 %(old)s 变为 %(new)s，超过原值的 20 倍")
                    % {"label": FIGURE_LABELS[field], "old": shown[0], "new": shown[1]}
                )
    return flags


# --- qualifications: verify / reject ------------------------------------------------------


def verify_qualification(actor, qualification: Qualification, *, note: str = "") -> Qualification:
    """The agency of the enterprise's region confirms a declared (or a
    previously rejected) qualification. Audited (qualification.verify)."""
    errors: list[FieldError] = []
    text = _text({"note": note}, "note", errors, 200)
    if errors:
        raise ValidationFailed(errors)
    if not can_verify_facts(actor, qualification):
        raise NotAllowed(_("只有企业所在地政府部门可以核验资质"))
    locked = apply_transition(
        QUALIFICATION_REVIEW,
        qualification,
        "verify",
        actor,
        changes={
            "verified_by_id": verifier_agency_id(actor),
            "verified_at": timezone.now(),
            "review_note": text or "",
        },
    )
    registry_signals.enterprises_changed.send_after_commit([locked.enterprise_id])
    return locked


def reject_qualification(actor, qualification: Qualification, *, reason: str) -> Qualification:
    """The agency finds a declared qualification unsupported (no such
    certificate, another holder …): it stops counting, the reason is kept."""
    errors: list[FieldError] = []
    text = _text({"reason": reason}, "reason", errors, 200, required=True)
    if errors:
        raise ValidationFailed(errors)
    if not can_verify_facts(actor, qualification):
        raise NotAllowed(_("只有企业所在地政府部门可以核验资质"))
    locked = apply_transition(
        QUALIFICATION_REVIEW,
        qualification,
        "reject",
        actor,
        changes={
            "verified_by_id": verifier_agency_id(actor),
            "verified_at": timezone.now(),
            "review_note": text,
        },
    )
    registry_signals.enterprises_changed.send_after_commit([locked.enterprise_id])
    return locked


def provenance_on_record(actor, *, imported: bool = False) -> dict[str, Any]:
    """The provenance fields of a fact recorded now by `actor`: an
    enterprise's own is declared; government's, a platform admin's and an
    official import's are verified by the recording agency."""
    source = fact_source_of(actor)
    if source == FactSource.ENTERPRISE:
        return {
            "status": FactStatus.DECLARED,
            "source": source,
            "verified_by_id": None,
            "verified_at": None,
        }
    return {
        "status": FactStatus.VERIFIED,
        "source": FactSource.IMPORT if imported else source,
        "verified_by_id": verifier_agency_id(actor),
        "verified_at": timezone.now(),
    }


def imported_figures(actor) -> dict[str, Any]:
    """Column values for figures arriving in an official import by `actor`
    (government or a platform admin): verified, source 官方导入."""
    record = provenance_on_record(actor, imported=True)
    return {
        "figures_status": record["status"],
        "figures_source": record["source"],
        "figures_verified_by_id": record["verified_by_id"],
        "figures_verified_at": record["verified_at"],
        "figures_flags": "",
        "figures_flagged": False,
    }


# --- figures: verify ------------------------------------------------------------------------


def verify_figures(actor, enterprise: Enterprise, *, note: str = "") -> Enterprise:
    """The agency confirms the enterprise's declared headcount, revenue and
    assets (flags included: it has looked at them). The size, held back
    while implausible figures waited, is computed from them now."""
    errors: list[FieldError] = []
    text = _text({"note": note}, "note", errors, 200)
    if errors:
        raise ValidationFailed(errors)
    if not can_verify_facts(actor, enterprise):
        raise NotAllowed(_("只有企业所在地政府部门可以核验规模数据"))
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        if locked.figures_status != FactStatus.DECLARED:
            raise Conflict(_("规模数据已核验"), code="invalid_transition")
        size = compute_size(locked)
        locked = apply_transition(
            FIGURES_REVIEW,
            locked,
            "verify",
            actor,
            changes={
                "figures_verified_by_id": verifier_agency_id(actor),
                "figures_verified_at": timezone.now(),
                "figures_flagged": False,
                "figures_flags": "",  # kept in this entry's audit (flags)
                "size": size,
            },
            audit_extra={"note": text or "", "flags": locked.figure_flag_list},
        )
        registry_signals.enterprises_changed.send_after_commit([locked.pk])
    return locked


def refuse_self_move(actor, enterprise: Enterprise, region) -> None:
    """Raise NotAllowed (403) when `actor` changes the region without the right."""
    if region is None or region.pk == enterprise.region_id:
        return
    if not can_move_enterprise(actor, enterprise):
        raise NotAllowed(
            _("企业所在地区只能由原所在地政府部门变更（迁出、迁入请联系原所在地主管部门）")
        )


def figures_message(enterprise: Enterprise) -> str | None:
    """A line for pages: why the figures are not (yet) relied upon."""
    if enterprise.figures_status == FactStatus.DECLARED:
        if enterprise.figures_flagged:
            return _("规模数据为企业自报，且有待复核事项")
        return _("规模数据为企业自报，待核验")
    return None
