"""The loans programmes pay on.

A loan disbursed on the platform becomes a `Loan` with nothing retyped: the
demand's disbursement (amount, rate, term, date, bank, purpose, project) is
copied, and it counts as confirmed because the bank itself reported it. An
off-platform loan is entered by the enterprise and counts only once the
lending bank confirms it, on the platform or through the API.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.demands.models import Demand, DemandState
from chanrong.finance.models import FinancialInstitution

from .. import permissions as perms
from ..models import Loan, LoanSource


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _platform_contract_no(demand: Demand) -> str:
    """The platform's reference for a loan disbursed on it: disbursement date
    and borrower's USCC ("CR-20260211-91330421…"), "-2", "-3" … for a second
    one the same day at the same bank. Readable, and independent of database
    ids (the demo is the same world whatever the id sequences are)."""
    base = f"CR-{demand.disbursed_on:%Y%m%d}-{demand.enterprise.uscc}"
    taken = set(
        Loan.objects.filter(
            institution_id=demand.outcome_institution_id, contract_no__startswith=base
        ).values_list("contract_no", flat=True)
    )
    number, n = base, 2
    while number in taken:
        number, n = f"{base}-{n}", n + 1
    return number


def loan_from_demand(demand: Demand, actor=None) -> Loan:
    """The platform loan of a disbursed demand, created on first use."""
    if not perms.can_use_demand_loan(actor, demand):
        raise NotAllowed(_("只有借款企业、贷款机构或辖区政府可以使用该笔放款"))
    existing = Loan.objects.filter(demand=demand).first()
    if existing is not None:
        return existing
    if demand.state != DemandState.DISBURSED or not demand.disbursed_on:
        raise Conflict(_("该融资需求尚未放款"), code="not_disbursed")
    term = demand.disbursed_term_months or demand.term_months
    loan = Loan(
        enterprise_id=demand.enterprise_id,
        institution_id=demand.outcome_institution_id,
        source=LoanSource.PLATFORM,
        demand=demand,
        contract_no=_platform_contract_no(demand),
        principal=demand.disbursed_amount,
        rate=demand.disbursed_rate if demand.disbursed_rate is not None else Decimal(0),
        loan_date=demand.disbursed_on,
        maturity_date=add_months(demand.disbursed_on, max(term, 1)),
        kind=demand.kind,
        purpose=demand.purpose[:200],
        project_id=demand.project_id,
        confirmed_at=timezone.now(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            loan.save()
    except IntegrityError as exc:
        # Another request created it at the same moment — or, rarely, an
        # off-platform loan of the same bank already uses this contract number.
        raced = Loan.objects.filter(demand=demand).first()
        if raced is None:
            raise Conflict(
                _("该银行已登记合同编号 %(no)s 的贷款，请联系平台管理员")
                % {"no": loan.contract_no},
                code="duplicate_loan",
            ) from exc
        return raced
    return loan


def _decimal(data: dict, name: str, errors: list[FieldError], *, required=True, maximum=None):
    raw = data.get(name)
    if raw in (None, ""):
        if required:
            errors.append(FieldError(name, _("必填")))
        return None
    try:
        value = Decimal(str(raw).replace(",", "").strip())
    except InvalidOperation:
        errors.append(FieldError(name, _("应为数字")))
        return None
    if not value.is_finite() or value < 0:
        errors.append(FieldError(name, _("应为非负数")))
        return None
    if maximum is not None and value >= maximum:
        errors.append(FieldError(name, _("应小于 %(m)s") % {"m": maximum}))
        return None
    return value


def _date(data: dict, name: str, errors: list[FieldError]) -> date | None:
    raw = data.get(name)
    if isinstance(raw, date):
        return raw
    if raw in (None, ""):
        errors.append(FieldError(name, _("必填")))
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        errors.append(FieldError(name, _("日期格式应为 YYYY-MM-DD")))
        return None


def register_loan(actor, data: dict[str, Any]) -> Loan:
    """An off-platform loan, entered by the borrowing enterprise (or by the
    lending bank, in which case it is confirmed at once)."""
    scope = scope_of(actor)
    if scope.kind not in (ScopeKind.ENTERPRISE, ScopeKind.INSTITUTION):
        raise NotAllowed(_("只有借款企业或贷款银行可以登记贷款"))
    errors: list[FieldError] = []
    contract_no = str(data.get("contract_no") or "").strip()
    if not contract_no:
        errors.append(FieldError("contract_no", _("必填")))
    elif len(contract_no) > 64:
        errors.append(FieldError("contract_no", _("不超过 64 个字符")))
    principal = _decimal(data, "principal", errors)
    if principal is not None and principal == 0:
        errors.append(FieldError("principal", _("应大于 0")))
    rate = _decimal(data, "rate", errors, maximum=Decimal(100))
    loan_date = _date(data, "loan_date", errors)
    maturity = _date(data, "maturity_date", errors)
    if loan_date and maturity and maturity <= loan_date:
        errors.append(FieldError("maturity_date", _("到期日期应晚于放款日期")))
    if loan_date and loan_date > timezone.localdate():
        errors.append(FieldError("loan_date", _("放款日期不能晚于今天")))
    fee_rate = _decimal(data, "guarantee_fee_rate", errors, required=False, maximum=Decimal(100))
    guarantor = None
    if data.get("guarantor_id") not in (None, ""):
        guarantor = FinancialInstitution.objects.filter(pk=data.get("guarantor_id")).first()
        if guarantor is None:
            errors.append(FieldError("guarantor_id", _("担保机构不存在")))
    if scope.kind == ScopeKind.ENTERPRISE:
        enterprise_id = scope.enterprise_id
        institution = FinancialInstitution.objects.filter(
            pk=data.get("institution_id") or 0
        ).first()
        if institution is None:
            errors.append(FieldError("institution_id", _("请选择贷款机构")))
    else:
        institution = actor.institution
        enterprise_id = data.get("enterprise_id")
        from chanrong.registry.models import Enterprise

        if not enterprise_id or not Enterprise.objects.filter(pk=enterprise_id).exists():
            errors.append(FieldError("enterprise_id", _("请选择借款企业")))
    if errors:
        raise ValidationFailed(errors)
    if Loan.objects.filter(institution=institution, contract_no=contract_no).exists():
        raise Conflict(
            _("该银行的合同编号 %(no)s 已登记") % {"no": contract_no}, code="duplicate_loan"
        )
    loan = Loan(
        enterprise_id=enterprise_id,
        institution=institution,
        source=LoanSource.OFF_PLATFORM,
        contract_no=contract_no,
        principal=principal,
        rate=rate,
        loan_date=loan_date,
        maturity_date=maturity,
        kind=str(data.get("kind") or "debt"),
        purpose=str(data.get("purpose") or "")[:200],
        guarantor=guarantor,
        guarantee_fee_rate=fee_rate,
        created_by=actor,
    )
    if scope.kind == ScopeKind.INSTITUTION:
        loan.confirmed_at, loan.confirmed_by = timezone.now(), actor
    try:
        with transaction.atomic():
            loan.save()
            audit.record(
                "policy.loan.register", actor=actor, obj=loan, changes={"contract_no": contract_no}
            )
    except IntegrityError as exc:
        raise Conflict(
            _("该银行的合同编号 %(no)s 已登记") % {"no": contract_no}, code="duplicate_loan"
        ) from exc
    return loan


def confirm_loan(actor, loan: Loan) -> Loan:
    """The lending bank confirms an off-platform loan's facts."""
    if not perms.can_confirm_loan(actor, loan):
        raise NotAllowed(_("只有贷款银行可以确认贷款信息"))
    with transaction.atomic():
        locked = Loan.objects.select_for_update().get(pk=loan.pk)
        if locked.confirmed_at is None:
            locked.confirmed_at, locked.confirmed_by = timezone.now(), actor
            locked.save(update_fields=["confirmed_at", "confirmed_by"])
            audit.record(
                "policy.loan.confirm", actor=actor, obj=locked, changes={"confirmed": [False, True]}
            )
    return locked


def eligible_platform_loans(enterprise_id: int):
    """The enterprise's disbursed platform demands (each one a loan)."""
    return Demand.objects.filter(
        enterprise_id=enterprise_id, state=DemandState.DISBURSED, disbursed_on__isnull=False
    ).order_by("-disbursed_on")
