"""What the loan-book imports share (`imports`, `imports_repayments`): the
bank-only spec, 元 amounts, row-by-row writing and the lookup of the
importing bank's own loans by contract number or LB-id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import FieldError, NotAllowed, ServiceError
from chanrong.core.importing.cells import Text
from chanrong.core.importing.spec import Column, ImportSpec, RowsRejected, WriteResult
from chanrong.core.money import WAN
from chanrong.core.scope import scope_of

from . import permissions as perms
from .models import LoanAccount, LoanStatus


def _zh(label) -> str:
    """Templates and files speak Chinese whatever the user's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(label)


def _yuan(value):
    """The framework's amounts are in 万元; the loan book's in 元."""
    return None if value is None else value * WAN


def _write_rowwise(rows, valid_only: bool, write_row) -> WriteResult:
    """Each row in a savepoint, so "valid rows only" can skip a row the loan
    book refuses while writing; otherwise the refusals roll everything back."""
    result = WriteResult()
    refused: list[tuple[int, FieldError]] = []
    for number, values in rows:
        try:
            with transaction.atomic():
                write_row(values)
        except ServiceError as exc:
            errors = exc.errors or [FieldError("contract_no", exc.message)]
            refused.extend((number, error) for error in errors)
            continue
        result.created += 1
    if refused and not valid_only:
        raise RowsRejected(refused)
    result.rejected = refused
    return result


class _BankSpec(ImportSpec):
    def can_import(self, actor) -> bool:
        return perms.can_report_loans(actor)

    def prepare(self, actor, params: dict[str, Any]):
        if not self.can_import(actor):
            raise NotAllowed(_("只有金融机构可以导入贷款台账"))
        return actor


#: The loan-reference column of the reports on existing loans (status,
#: schedule, repayments).
LOAN_REF = Column(
    "contract_no",
    "借款合同编号",
    Text(max_length=64),
    required=True,
    aliases=("合同编号", "借据号", "贷款编号", "贷款台账编号"),
    help=_("本机构报送的合同编号；平台撮合、尚无合同编号的贷款填台账编号（如 LB-123）"),
    example="JSNS-2026-0001",
    width=20,
)


def own_active_loans(actor, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Each reference of `rows` (a contract number, or LB-<id> for a platform
    loan without one) → the actor's institution's loan, or the row's errors:
    another bank's loan is not one of its loans (a row error, never a 500),
    a closed loan takes no more reports."""
    own = LoanAccount.objects.filter(institution_id=scope_of(actor).institution_id)
    numbers = {row["contract_no"] for row in rows if row.get("contract_no")}
    ids = {int(n[3:]) for n in numbers if n.upper().startswith("LB-") and n[3:].isdigit()}
    found: dict[str, LoanAccount] = {}
    for loan in own.filter(contract_no__in=numbers):
        found[loan.contract_no] = loan
    for loan in own.filter(pk__in=ids, contract_no=""):
        found[f"LB-{loan.pk}"] = loan
    result: dict[str, Any] = {}
    for number in numbers:
        loan = found.get(number) or found.get(number.upper())
        if loan is None:
            result[number] = [FieldError("contract_no", _("贷款不存在或不属于本机构"))]
        elif loan.status != LoanStatus.ACTIVE:
            message = _("该笔贷款为「%(s)s」，不能再报送") % {"s": loan.get_status_display()}
            result[number] = [FieldError("contract_no", message)]
        else:
            result[number] = loan
    return result
