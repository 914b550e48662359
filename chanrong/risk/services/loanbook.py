"""The loan book: what lending banks report about their loans.

Every write locks the loan row, validates the whole report before writing
anything, updates the running totals, keeps a `LoanEvent` and an audit entry,
all in one transaction. A bank reports only on its own loans: another bank's
loan is not visible to it (404), a loan it can see but did not make (a
government official's view, say) is not its to report (403).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.scope import scope_of
from chanrong.core.workflow import apply_transition
from chanrong.registry.models import Enterprise

from .. import permissions as perms
from ..models import (
    CLASS_RANK,
    Classification,
    LoanAccount,
    LoanEvent,
    LoanEventKind,
    LoanOrigin,
    LoanStatus,
)
from ..workflows import LOAN
from . import warnings
from .collateral import collateral_of_demand, parse_collateral
from .fields import add_months, parse_date, parse_money, parse_rate, text
from .pledges import (
    PledgeFacts,
    parse_green_category,
    parse_pledges,
    pledged_to_live_loans,
    taken_error,
    write_pledges,
)

#: Loans longer than this are not working-capital or project loans a
#: county platform sees; a longer term is a typing error.
MAX_TERM_YEARS = 30


def _actor(actor):
    return actor if getattr(actor, "pk", None) else None


def _event(loan: LoanAccount, kind: str, on: date, actor, *, previous: str = "", note: str = ""):
    return LoanEvent.objects.create(
        loan=loan,
        kind=kind,
        on=on,
        classification=loan.classification,
        previous_classification=previous,
        days_overdue=loan.days_overdue,
        outstanding=loan.outstanding,
        note=note[:500],
        actor=_actor(actor),
    )


# --- opening loans ------------------------------------------------------------------------------


def on_financing_disbursed(sender, signal=None, *, demand=None, actor=None, **facts) -> Any:
    """Receiver of `chanrong.demands.signals.financing_disbursed`: a loan
    disbursed on the platform opens its loan-book record in the same
    transaction. Other disbursements (no demand) are not loans of this book."""
    if demand is None:
        return None
    return open_platform_loan(demand, actor)


def open_platform_loan(demand, actor=None) -> LoanAccount:
    """The loan-book record of a disbursed demand; idempotent."""
    existing = LoanAccount.objects.filter(demand=demand).first()
    if existing is not None:
        return existing
    term = demand.disbursed_term_months or demand.term_months or 12
    loan = LoanAccount.objects.create(
        enterprise_id=demand.enterprise_id,
        institution_id=demand.outcome_institution_id,
        source=LoanOrigin.PLATFORM,
        demand=demand,
        principal=demand.disbursed_amount,
        rate=demand.disbursed_rate,
        collateral=collateral_of_demand(demand),
        disbursed_on=demand.disbursed_on,
        maturity_on=add_months(demand.disbursed_on, max(int(term), 1)),
        outstanding=demand.disbursed_amount,
        created_by=_actor(actor),
    )
    _event(loan, LoanEventKind.OPENED, loan.disbursed_on, actor)
    audit.record("risk.loan.open", actor=actor, obj=loan, changes={"source": [None, loan.source]})
    return loan


@dataclass(frozen=True)
class LoanFacts:
    enterprise: Enterprise
    contract_no: str
    principal: Decimal
    rate: Decimal | None
    disbursed_on: date
    maturity_on: date
    collateral: str = ""
    #: 绿色产业指导目录 item the loan finances (blank: not green), and its
    #: green-rights pledges (services.pledges).
    green_category: str = ""
    pledges: tuple[PledgeFacts, ...] = ()


def _pledge_field(data: dict[str, Any], prefix: str, index: int) -> str:
    if data.get("pledges"):
        return f"{prefix}pledges.{index}.registration_no"
    return f"{prefix}pledge_registration_no"


def _loan_facts(
    data: dict[str, Any], prefix: str = ""
) -> tuple[LoanFacts | None, list[FieldError]]:
    errors: list[FieldError] = []
    uscc = text(data, "uscc", errors, prefix, required=True, max_length=18).upper()
    enterprise = None
    if uscc:
        enterprise = Enterprise.objects.filter(uscc=uscc).first()
        if enterprise is None:
            errors.append(FieldError(f"{prefix}uscc", _("平台上没有该统一社会信用代码的企业")))
    contract_no = text(data, "contract_no", errors, prefix, required=True, max_length=64)
    principal = parse_money(data, "principal", errors, prefix, required=True, positive=True)
    rate = parse_rate(data, "rate", errors, prefix)
    collateral = parse_collateral(data, errors, prefix)
    green_category = parse_green_category(data, errors, prefix)
    pledges = parse_pledges(data, errors, prefix)
    taken = pledged_to_live_loans((p.kind, p.registration_no) for p in pledges)
    for index, pledge in enumerate(pledges):
        if (pledge.kind, pledge.registration_no) in taken:
            errors.append(taken_error(pledge, _pledge_field(data, prefix, index)))
    disbursed_on = parse_date(data, "disbursed_on", errors, prefix, required=True)
    maturity_on = parse_date(data, "maturity_on", errors, prefix, required=True)
    if disbursed_on and disbursed_on > timezone.localdate():
        errors.append(FieldError(f"{prefix}disbursed_on", _("放款日期不能晚于今天")))
    if disbursed_on and maturity_on:
        if maturity_on <= disbursed_on:
            errors.append(FieldError(f"{prefix}maturity_on", _("到期日期应晚于放款日期")))
        elif maturity_on > add_months(disbursed_on, 12 * MAX_TERM_YEARS):
            errors.append(
                FieldError(
                    f"{prefix}maturity_on",
                    _("贷款期限超过 %(n)s 年，请核对到期日期") % {"n": MAX_TERM_YEARS},
                )
            )
    if errors:
        return None, errors
    facts = LoanFacts(
        enterprise,
        contract_no,
        principal,
        rate,
        disbursed_on,
        maturity_on,
        collateral,
        green_category,
        pledges,
    )
    return facts, []


def report_loan(actor, data: dict[str, Any]) -> LoanAccount:
    """An off-platform loan of an enterprise, reported by the lending bank."""
    if not perms.can_report_loans(actor):
        raise NotAllowed(_("只有金融机构可以报送贷款"))
    facts, errors = _loan_facts(data)
    if errors:
        raise ValidationFailed(errors)
    return _create_reported(actor, facts)


def _create_reported(actor, facts: LoanFacts) -> LoanAccount:
    institution_id = scope_of(actor).institution_id
    try:
        with transaction.atomic():
            loan = LoanAccount.objects.create(
                enterprise=facts.enterprise,
                institution_id=institution_id,
                source=LoanOrigin.REPORTED,
                contract_no=facts.contract_no,
                principal=facts.principal,
                rate=facts.rate,
                collateral=facts.collateral,
                green_category=facts.green_category,
                disbursed_on=facts.disbursed_on,
                maturity_on=facts.maturity_on,
                outstanding=facts.principal,
                created_by=_actor(actor),
            )
            if facts.pledges:
                write_pledges(actor, loan, facts.pledges)
    except IntegrityError as exc:
        raise Conflict(
            _("本机构已报送合同编号为 %(no)s 的贷款") % {"no": facts.contract_no},
            code="duplicate_loan",
        ) from exc
    _event(loan, LoanEventKind.OPENED, loan.disbursed_on, actor)
    audit.record(
        "risk.loan.report",
        actor=actor,
        obj=loan,
        changes={"principal": [None, loan.principal], "contract_no": [None, loan.contract_no]},
    )
    return loan


def check_loan(data: dict[str, Any]) -> tuple[LoanFacts | None, list[FieldError]]:
    """The checks of one reported loan (the form, the bulk API and the import
    share them): the borrower is on the platform, amounts and dates possible."""
    return _loan_facts(data)


def create_reported_loan(actor, facts: LoanFacts) -> LoanAccount:
    """Write one checked loan of the actor's institution (Conflict when it has
    already reported that contract number)."""
    if not perms.can_report_loans(actor):
        raise NotAllowed(_("只有金融机构可以报送贷款"))
    return _create_reported(actor, facts)


def report_loans(actor, rows: Iterable[dict[str, Any]]) -> list[LoanAccount]:
    """Many off-platform loans at once (API bulk, import): every row is checked
    first and errors name the row (`rows.3.principal`); nothing is written
    unless every row is valid."""
    if not perms.can_report_loans(actor):
        raise NotAllowed(_("只有金融机构可以报送贷款"))
    checked: list[LoanFacts] = []
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    pledged: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
        facts, row_errors = _loan_facts(row, prefix=f"rows.{index}.")
        errors.extend(row_errors)
        if facts is None:
            continue
        if facts.contract_no in seen:
            errors.append(
                FieldError(
                    f"rows.{index}.contract_no",
                    _("与第 %(n)s 行的合同编号重复") % {"n": seen[facts.contract_no] + 1},
                )
            )
        seen[facts.contract_no] = index
        for number, pledge in enumerate(facts.pledges):
            key = (pledge.kind, pledge.registration_no)
            if key in pledged and pledged[key] != index:
                errors.append(
                    FieldError(
                        _pledge_field(row, f"rows.{index}.", number),
                        _("与第 %(n)s 行的质押登记编号重复") % {"n": pledged[key] + 1},
                    )
                )
            pledged.setdefault(key, index)
        checked.append(facts)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        return [_create_reported(actor, facts) for facts in checked]


# --- reports on a loan --------------------------------------------------------------------------


def loan_for_report(actor, pk: int) -> LoanAccount:
    """The loan `pk` if `actor` may report on it: 404 when it is not visible to
    the actor (another bank's loan), 403 when visible but not the actor's."""
    loan = LoanAccount.objects.visible_to(actor).filter(pk=pk).first()
    if loan is None:
        raise NotFound(_("未找到该笔贷款"))
    if not perms.is_lender(actor, loan):
        raise NotAllowed(_("只有贷款机构可以报送该笔贷款的情况"))
    return loan


def _locked(actor, loan: LoanAccount) -> LoanAccount:
    if not perms.is_lender(actor, loan):
        raise NotAllowed(_("只有贷款机构可以报送该笔贷款的情况"))
    locked = LoanAccount.objects.select_for_update().get(pk=loan.pk)
    if locked.status != LoanStatus.ACTIVE:
        raise Conflict(
            _("该笔贷款为「%(s)s」，不能再报送") % {"s": locked.get_status_display()},
            code="loan_closed",
        )
    return locked


@dataclass(frozen=True)
class StatusFacts:
    as_of: date
    classification: str
    days_overdue: int
    overdue_amount: Decimal


def check_status(
    loan: LoanAccount, data: dict[str, Any], prefix: str = ""
) -> tuple[StatusFacts | None, list[FieldError]]:
    """The checks of a status report that need no lock (the page, the API and
    the import share them); what depends on the latest report is checked
    again under the lock by `apply_status`."""
    errors: list[FieldError] = []
    as_of = parse_date(data, "as_of", errors, prefix, required=True)
    classification = str(data.get("classification") or "").strip()
    if classification not in CLASS_RANK:
        errors.append(
            FieldError(f"{prefix}classification", _("应为正常、关注、次级、可疑、损失之一"))
        )
    days = data.get("days_overdue", 0)
    if days in (None, ""):
        days = 0
    try:
        days = int(days)
        if days < 0 or days > 36500:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(FieldError(f"{prefix}days_overdue", _("应为 0 到 36500 之间的整数")))
        days = 0
    overdue = parse_money(data, "overdue_amount", errors, prefix) or Decimal(0)
    if as_of and as_of > timezone.localdate():
        errors.append(FieldError(f"{prefix}as_of", _("报送日期不能晚于今天")))
    if as_of and as_of < loan.disbursed_on:
        errors.append(FieldError(f"{prefix}as_of", _("报送日期不能早于放款日期")))
    if days > 0 and overdue == 0 and not errors:
        errors.append(FieldError(f"{prefix}overdue_amount", _("逾期天数大于 0 时应填写逾期金额")))
    if errors:
        return None, errors
    assert as_of is not None
    return StatusFacts(as_of, classification, days, overdue), []


def report_status(actor, loan: LoanAccount, data: dict[str, Any]) -> LoanEvent:
    """The bank's periodic report: as-of date, days overdue, overdue amount and
    the five-category classification. A report older than the last one is
    refused, so the history only moves forward."""
    facts, errors = check_status(loan, data)
    if errors:
        raise ValidationFailed(errors)
    assert facts is not None
    return apply_status(actor, loan, facts)


def apply_status(
    actor, loan: LoanAccount, facts: StatusFacts, *, evaluate: bool = True
) -> LoanEvent:
    """Write a checked status report under the loan's lock. `evaluate=False`
    leaves the early-warning rules to the caller (an import evaluates once
    for all its loans' enterprises, not once per row)."""
    as_of, classification = facts.as_of, facts.classification
    days, overdue = facts.days_overdue, facts.overdue_amount
    with transaction.atomic():
        locked = _locked(actor, loan)
        if locked.reported_on and as_of < locked.reported_on:
            raise ValidationFailed(
                {"as_of": _("已有 %(d)s 的报送，不能报送更早的日期") % {"d": locked.reported_on}}
            )
        if overdue > locked.outstanding:
            raise ValidationFailed(
                {
                    "overdue_amount": _("逾期金额不能超过贷款余额 %(o)s 元")
                    % {"o": locked.outstanding}
                }
            )
        previous = locked.classification
        before = {
            "classification": previous,
            "days_overdue": locked.days_overdue,
            "overdue_amount": locked.overdue_amount,
        }
        locked.classification = classification
        locked.days_overdue = days
        locked.overdue_amount = overdue
        locked.reported_on = as_of
        locked.save(
            update_fields=[
                "classification",
                "days_overdue",
                "overdue_amount",
                "reported_on",
                "updated_at",
            ]
        )
        event = _event(locked, LoanEventKind.STATUS, as_of, actor, previous=previous)
        if evaluate:
            # The early-warning rules look at the enterprise once this has committed.
            enterprise_id = locked.enterprise_id
            transaction.on_commit(lambda: warnings.evaluate(enterprise_ids=[enterprise_id]))
        audit.record(
            "risk.loan.status",
            actor=actor,
            obj=locked,
            changes=audit.diff(
                before,
                {"classification": classification, "days_overdue": days, "overdue_amount": overdue},
            ),
        )
    loan.refresh_from_db()
    return event


def recall(actor, loan: LoanAccount, data: dict[str, Any]) -> LoanAccount:
    """提前收回 (抽贷): the bank calls the loan in before maturity, with a reason."""
    errors: list[FieldError] = []
    on = parse_date(data, "on", errors, required=True)
    reason = text(data, "reason", errors, required=True, max_length=500)
    if on and (on < loan.disbursed_on or on > timezone.localdate()):
        errors.append(FieldError("on", _("收回日期应在放款日期与今天之间")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = _locked(actor, loan)
        locked = apply_transition(
            LOAN, locked, "recall", actor, changes={"closed_on": on}, audit_extra={"reason": reason}
        )
        _event(locked, LoanEventKind.RECALLED, on, actor, note=reason)
    loan.refresh_from_db()
    return loan


def renew(actor, loan: LoanAccount, data: dict[str, Any]) -> LoanAccount:
    """无还本续贷: the outstanding balance continues as a new loan without the
    enterprise repaying first; the old loan closes as "renewed" and the new
    one records where it came from (a warning rule and the scorecard see it)."""
    errors: list[FieldError] = []
    contract_no = text(data, "contract_no", errors, required=True, max_length=64)
    on = parse_date(data, "on", errors, required=True)
    maturity_on = parse_date(data, "maturity_on", errors, required=True)
    rate = parse_rate(data, "rate", errors)
    if on and maturity_on and maturity_on <= on:
        errors.append(FieldError("maturity_on", _("到期日期应晚于续贷日期")))
    if on and (on < loan.disbursed_on or on > timezone.localdate()):
        errors.append(FieldError("on", _("续贷日期应在原放款日期与今天之间")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = _locked(actor, loan)
        apply_transition(LOAN, locked, "renew", actor, changes={"closed_on": on})
        _event(locked, LoanEventKind.RENEWED, on, actor, note=contract_no)
        try:
            with transaction.atomic():
                new = LoanAccount.objects.create(
                    enterprise_id=locked.enterprise_id,
                    institution_id=locked.institution_id,
                    source=locked.source,
                    contract_no=contract_no,
                    principal=locked.outstanding,
                    rate=rate if rate is not None else locked.rate,
                    collateral=locked.collateral,
                    green_category=locked.green_category,
                    disbursed_on=on,
                    maturity_on=maturity_on,
                    outstanding=locked.outstanding,
                    classification=locked.classification,
                    renewed_from=locked,
                    created_by=_actor(actor),
                )
        except IntegrityError as exc:
            raise Conflict(
                _("本机构已报送合同编号为 %(no)s 的贷款") % {"no": contract_no},
                code="duplicate_loan",
            ) from exc
        _event(new, LoanEventKind.OPENED, on, actor, note=locked.reference)
        # The pledges secure the balance, which continues as the new loan.
        pledges = [
            PledgeFacts(p.kind, p.registration_no, p.authority, p.value, p.registered_on)
            for p in locked.green_pledges.all()
        ]
        if pledges:
            write_pledges(actor, new, pledges)
        audit.record(
            "risk.loan.open", actor=actor, obj=new, changes={"renewed_from": [None, locked.pk]}
        )
    loan.refresh_from_db()
    return new


def write_off(actor, loan: LoanAccount, data: dict[str, Any]) -> LoanAccount:
    """核销: a manager of the lending bank writes off a loss."""
    errors: list[FieldError] = []
    on = parse_date(data, "on", errors, required=True)
    note = text(data, "note", errors, required=True, max_length=500)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if not perms.is_lender(actor, loan):
            raise NotAllowed(_("只有贷款机构可以核销"))
        locked = apply_transition(
            LOAN, loan, "write_off", actor,
            changes={"closed_on": on, "classification": Classification.LOSS},
            audit_extra={"note": note},
        )  # fmt: skip
        _event(locked, LoanEventKind.WRITTEN_OFF, on, actor, note=note)
    loan.refresh_from_db()
    return loan
