"""The live preview of an application: what `apply` would compute and why
it would refuse, without writing anything.

The enterprise fills in the period (or the award item) and the interest or
fee it paid; the form posts here on every change and the page shows the
calculator's lines, the conditions the enterprise or the loan miss, and an
application already on the same loan and period. It runs the same checks in
the same order as `applications.apply` (claim, conditions, overlap, amount)
and reads only: no application, loan, audit entry or notification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.finance import eligibility as el

from .. import calculator as calc
from ..models import Application, Loan, Programme, ProgrammeKind
from .applications import _applicant, _parse_claim, _refuse_duplicates, compute, evaluate
from .programmes import check


@dataclass
class Preview:
    result: calc.Result | None = None
    eligibility: el.EligibilityResult | None = None
    errors: list[FieldError] = field(default_factory=list)
    #: An application already on this loan for an overlapping period (apply answers 409).
    duplicate: str = ""

    @property
    def can_submit(self) -> bool:
        return (
            not self.errors
            and not self.duplicate
            and (self.eligibility is None or self.eligibility.eligible)
            and self.result is not None
            and (not self.result.blocked or self.result.estimate)
        )


def needs_loan(programme: Programme, award_item: str = "") -> bool:
    """Interest and fee subsidies always pay on a loan; an award only when
    its item is a share of a loan's principal (首贷奖励)."""
    if programme.kind != ProgrammeKind.AWARD:
        return True
    item = check(programme).params.item(award_item) if award_item else None
    return item is not None and item.rate is not None


def preview(actor, programme: Programme, data: dict[str, Any], *, loan: Loan | None) -> Preview:
    if programme.kind not in (
        ProgrammeKind.INTEREST,
        ProgrammeKind.GUARANTEE_FEE,
        ProgrammeKind.AWARD,
    ):
        raise NotAllowed(_("该政策不通过申请拨付"))
    enterprise, institution_id = _applicant(actor, programme, data)
    out = Preview()
    try:
        claim = _parse_claim(programme, data)
    except ValidationFailed as exc:
        out.errors.extend(exc.errors)
        claim = None
    with_loan = needs_loan(programme, claim.award_item if claim else "")
    if with_loan and loan is None:
        out.errors.append(FieldError("loan", _("请选择贷款")))
    if loan is not None:
        owner_ok = (enterprise is not None and loan.enterprise_id == enterprise.pk) or (
            institution_id is not None and loan.institution_id == institution_id
        )
        if not owner_ok:
            raise NotAllowed(_("只能就本企业的贷款申请"))
    if enterprise is not None:
        out.eligibility = evaluate(programme, enterprise, loan if with_loan else None)
    if claim is None or (with_loan and loan is None):
        return out
    candidate = Application(
        programme=programme,
        enterprise=enterprise,
        institution_id=institution_id,
        loan=loan if with_loan else None,
        period_start=claim.period_start,
        period_end=claim.period_end,
        award_item=claim.award_item,
    )
    try:
        _refuse_duplicates(programme, candidate)  # reads only; never saved
    except Conflict as exc:
        out.duplicate = exc.message
    out.result = compute(
        programme,
        claim,
        loan=loan if with_loan else None,
        enterprise_id=enterprise.pk if enterprise else None,
    )
    return out
