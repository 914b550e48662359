"""Schedules and repayments by file (还款计划导入, 还款记录导入): a bank
imports the repayment schedules and the repayments of its own loans through
the import framework, like its loans and status reports (see `imports`).

Every row goes through the loan book's own checks — `check_instalment` and,
for a loan's rows together, `set_schedule` (which runs `check_schedule`);
`check_repayment` and, under the loan's lock, `apply_repayment` — so a file,
the API and the loan page refuse the same things. Another bank's loan is not
one of the importing bank's loans: a row error, never a 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import FieldError, ServiceError
from chanrong.core.importing.cells import Amount, Date, Text
from chanrong.core.importing.spec import Column, RowsRejected, WriteResult, register

from .imports_common import LOAN_REF, _BankSpec, _write_rowwise, _yuan, own_active_loans
from .models import LoanAccount
from .services import repayments

SCHEDULE_COLUMNS: tuple[Column, ...] = (
    LOAN_REF,
    Column(
        "due_on",
        "应还日期",
        Date(),
        required=True,
        aliases=("还款日期", "计划还款日", "到期日"),
        example="2026-07-15",
    ),
    Column(
        "principal_due",
        "应还本金（元）",
        Amount(unit="元"),
        required=True,
        aliases=("应还本金", "计划还本金额", "本金"),
        help=_("各期应还本金合计应等于贷款金额"),
        example="500000",
    ),
    Column(
        "interest_due",
        "应还利息（元）",
        Amount(unit="元"),
        aliases=("应还利息", "计划还息金额", "利息"),
        example="9625",
    ),
)


@dataclass
class _ScheduleImport:
    actor: Any
    # Loans some of whose rows were refused before writing: their schedule is
    # not replaced by the remaining rows ("valid rows only" mode).
    spoiled: set[str] = field(default_factory=set)


class ScheduleSpec(_BankSpec):
    kind = "risk_schedule"
    label = _("还款计划")
    columns = SCHEDULE_COLUMNS
    key_columns = ("contract_no", "due_on")
    notes = (
        _("每期一行，只能导入本机构的存续贷款；同一笔贷款的各行一起替换该笔贷款原有的还款计划。"),
        _("应还日期须在放款日期之后、到期日期之前（含到期日），同一天只能有一期。"),
    )

    def prepare(self, actor, params: dict[str, Any]) -> _ScheduleImport:
        return _ScheduleImport(super().prepare(actor, params))

    def clean(self, context: _ScheduleImport, rows: Sequence[dict[str, Any]]) -> list[Any]:
        loans = own_active_loans(context.actor, rows)
        results: list[Any] = []
        for row in rows:
            number = row.get("contract_no") or ""
            loan = loans.get(number)
            if not isinstance(loan, LoanAccount):
                results.append(loan)
                continue
            values = {
                "contract_no": number,
                "due_on": row.get("due_on"),
                "principal_due": _yuan(row.get("principal_due")),
                "interest_due": _yuan(row.get("interest_due")),
            }
            _facts, errors = repayments.check_instalment(loan, values)
            if errors:
                context.spoiled.add(number)
            results.append(errors or {**values, "loan": loan})
        return results

    def write(self, context: _ScheduleImport, _actor, rows, *, valid_only: bool, source):
        by_loan: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        for number, values in rows:
            by_loan.setdefault(values["loan"].pk, []).append((number, values))
        result = WriteResult()
        refused: list[tuple[int, FieldError]] = []
        for entries in by_loan.values():
            first = entries[0][1]
            if first["contract_no"] in context.spoiled:
                message = _("该笔贷款的其他行有误，还款计划未替换")
                refused.extend((n, FieldError("contract_no", message)) for n, _v in entries)
                continue
            items = [
                {k: v[k] for k in ("due_on", "principal_due", "interest_due")} for _n, v in entries
            ]
            try:
                with transaction.atomic():
                    repayments.set_schedule(context.actor, first["loan"], items)
            except ServiceError as exc:
                refused.extend(_schedule_errors(exc, entries))
                continue
            result.created += len(entries)
        if refused and not valid_only:
            raise RowsRejected(refused)
        result.rejected = refused
        return result


def _schedule_errors(
    exc: ServiceError, entries: list[tuple[int, dict[str, Any]]]
) -> list[tuple[int, FieldError]]:
    """set_schedule's errors (`items.3.due_on`, `items`) as rows and columns:
    an instalment's error on its row, the total's on the loan's last row."""
    found: list[tuple[int, FieldError]] = []
    for error in exc.errors or [FieldError("contract_no", exc.message)]:
        parts = error.field.split(".")
        if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit():
            found.append((entries[int(parts[1])][0], FieldError(parts[2], error.message)))
        elif error.field == "items":
            found.append((entries[-1][0], FieldError("principal_due", error.message)))
        else:
            found.append((entries[0][0], FieldError("contract_no", error.message)))
    return found


REPAYMENT_COLUMNS: tuple[Column, ...] = (
    LOAN_REF,
    Column(
        "paid_on",
        "还款日期",
        Date(),
        required=True,
        aliases=("实际还款日期", "实还日期", "交易日期"),
        example="2026-06-20",
    ),
    Column(
        "principal",
        "归还本金（元）",
        Amount(unit="元"),
        aliases=("归还本金", "实还本金", "还本金额"),
        help=_("不能超过贷款余额；本金和利息不能都为 0"),
        example="200000",
    ),
    Column(
        "interest",
        "归还利息（元）",
        Amount(unit="元"),
        aliases=("归还利息", "实还利息", "还息金额"),
        example="3850",
    ),
    Column(
        "reference",
        "还款流水号",
        Text(max_length=64),
        aliases=("流水号", "交易流水号", "凭证号"),
        help=_("可留空；已登记的流水号再次导入时不重复登记"),
        example="HK202606200001",
        width=20,
    ),
)


class RepaymentSpec(_BankSpec):
    kind = "risk_repayments"
    label = _("还款记录")
    columns = REPAYMENT_COLUMNS
    key_columns = ("contract_no", "reference")
    notes = (
        _("每笔还款一行，只能导入本机构的存续贷款；按文件中的顺序登记，还清本金的贷款自动结清。"),
        _("填写流水号的还款再次导入时不会重复登记；未填流水号的行每次导入都会登记一笔还款。"),
    )

    def clean(self, actor, rows: Sequence[dict[str, Any]]) -> list[Any]:
        loans = own_active_loans(actor, rows)
        results: list[Any] = []
        for row in rows:
            loan = loans.get(row.get("contract_no") or "")
            if not isinstance(loan, LoanAccount):
                results.append(loan)
                continue
            values = {
                **row,
                "principal": _yuan(row.get("principal")),
                "interest": _yuan(row.get("interest")),
            }
            facts, errors = repayments.check_repayment(loan, values)
            results.append(errors or {**values, "loan": loan, "facts": facts})
        return results

    def write(self, actor, _actor, rows, *, valid_only: bool, source: dict[str, Any]):
        # The balance each row may repay depends on the rows before it: checked
        # by apply_repayment under the loan's lock, row by row.
        return _write_rowwise(
            rows,
            valid_only,
            lambda values: repayments.apply_repayment(actor, values["loan"], values["facts"]),
        )


register(ScheduleSpec())
register(RepaymentSpec())
