"""Tax credit grades (纳税信用等级): one row per evaluation year.

Grades come from the tax authority, so government (in the enterprise's
subtree) and platform admins record them, never the enterprise. The years
are the history; the enterprise's latest grade follows the newest year.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed
from chanrong.core.money import to_halfwidth
from chanrong.core.scope import ScopeKind, scope_of

from .. import signals as registry_signals
from ..models import Enterprise, TaxCreditGrade, TaxGrade
from .fields import _integer_field

FIRST_TAX_GRADE_YEAR = 2014  # 纳税信用管理办法（试行）took effect for 2014
FIRST_M_GRADE_YEAR = 2018  # M 级 (新设立企业) added for the 2018 evaluation


def can_record_tax_grade(actor, enterprise: Enterprise) -> bool:
    """Grades come from the tax authority: government in the enterprise's
    subtree or platform admins record them, never the enterprise itself."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return scope.kind == ScopeKind.GOVERNMENT and enterprise.region_id.startswith(
        scope.region_prefix
    )


def clean_tax_grade(year: Any, grade: Any) -> tuple[int, str]:
    errors: list[FieldError] = []
    this_year = timezone.localdate().year
    number = _integer_field(
        {"year": year},
        "year",
        errors,
        low=FIRST_TAX_GRADE_YEAR,
        high=this_year,
        message=_("评价年度应为 %(low)s 至 %(high)s 年之间的年份")
        % {"low": FIRST_TAX_GRADE_YEAR, "high": this_year},
    )
    if number is None and not errors:
        errors.append(FieldError("year", _("必填")))
    code = " ".join(to_halfwidth(str(grade or "")).split()).upper().removesuffix("级").strip()
    if code not in TaxGrade.values:
        errors.append(FieldError("grade", _("纳税信用等级应为 A、B、M、C 或 D")))
    elif code == TaxGrade.M and isinstance(number, int) and number < FIRST_M_GRADE_YEAR:
        errors.append(FieldError("grade", _("M 级自 2018 年度评价起适用")))
    if errors:
        raise ValidationFailed(errors)
    return int(number), code  # type: ignore[arg-type]


def set_tax_grade(actor, enterprise: Enterprise, year: Any, grade: Any) -> TaxCreditGrade:
    """Record (or correct) the grade of one evaluation year. Each year is its
    own row, so the years are the history; a correction is audited with the
    grade before and after. The enterprise's latest grade follows."""
    if not can_record_tax_grade(actor, enterprise):
        raise NotAllowed(_("纳税信用等级由政府部门或平台录入"))
    year, grade = clean_tax_grade(year, grade)
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        row = TaxCreditGrade.objects.filter(enterprise=locked, year=year).first()
        if row is not None and row.grade == grade:
            return row
        before = row.grade if row else None
        if row is None:
            row = TaxCreditGrade.objects.create(
                enterprise=locked, year=year, grade=grade, recorded_by=actor
            )
        else:
            row.grade = grade
            row.recorded_by = actor
            row.save(update_fields=["grade", "recorded_by", "updated_at"])
        latest = TaxCreditGrade.objects.filter(enterprise=locked).order_by("-year").first()
        locked.tax_grade, locked.tax_grade_year = latest.grade, latest.year
        locked.save(update_fields=["tax_grade", "tax_grade_year", "updated_at"])
        audit.record(
            "enterprise.tax_grade",
            actor=actor,
            obj=locked,
            changes={f"tax_grade_{year}": [before, grade]},
        )
        registry_signals.enterprises_changed.send_after_commit([locked.pk])
    enterprise.tax_grade, enterprise.tax_grade_year = locked.tax_grade, locked.tax_grade_year
    return row
