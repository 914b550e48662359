"""The loan book by file (贷款台账导入): a bank imports its off-platform loans,
or its periodic status reports (逾期天数, 五级分类), as .xlsx or .csv through
the platform's import framework (template, preview of errors by row and
column, all or nothing in one transaction, background job for large files,
and the /api/v1/imports upload).

Each row goes through the loan book's own checks (`loanbook.check_loan`,
`loanbook.check_status`), so a file, the bulk API and the loan page refuse
the same things. A bank imports only its own loans: a contract number of
another bank's loan is simply not one of its loans (a row error, never a
500). Found with autodiscover_modules("imports"); the schedule and
repayment kinds are in `imports_repayments`, registered from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import FieldError
from chanrong.core.exporting import Export, register_export
from chanrong.core.importing.cells import Amount, Choice, Date, Integer, Number, Text, Uscc
from chanrong.core.importing.spec import Column, register
from chanrong.core.scope import scope_of

from .imports_common import LOAN_REF, _BankSpec, _write_rowwise, _yuan, _zh, own_active_loans
from .models import GREEN_RIGHT_CHOICES, Classification, Collateral, LoanAccount
from .services import loanbook, warnings
from .views_groups import export_no_loan

LOAN_COLUMNS: tuple[Column, ...] = (
    Column(
        "uscc",
        "借款企业统一社会信用代码",
        Uscc(),
        required=True,
        aliases=("统一社会信用代码", "信用代码", "社会信用代码", "借款人统一社会信用代码", "USCC"),
        example="91330421MA2D00001A",
        width=24,
    ),
    Column(
        "name",
        "借款企业名称",
        Text(max_length=100),
        aliases=("企业名称", "借款人名称", "借款人"),
        help=_("用于核对：与信用代码对应的企业名称不符时报错"),
        example="嘉善示例电子有限公司",
        width=28,
    ),
    Column(
        "contract_no",
        "借款合同编号",
        Text(max_length=64),
        required=True,
        aliases=("合同编号", "借据号", "借据编号", "贷款合同号"),
        example="JSNS-2026-0001",
        width=20,
    ),
    Column(
        "principal",
        "贷款金额（元）",
        Amount(unit="元"),
        required=True,
        aliases=("贷款金额", "放款金额", "借款金额", "合同金额"),
        example="1000000",
    ),
    Column(
        "rate",
        "执行年利率（%）",
        Number(unit="%"),
        aliases=("年利率", "执行利率", "利率"),
        example="3.85",
    ),
    Column(
        "collateral",
        "担保方式",
        Choice(
            choices=tuple((value, _zh(label)) for value, label in Collateral.choices),
            aliases={
                "信用贷款": "credit",
                "担保": "guarantee",
                "保证贷款": "guarantee",
                "抵押贷款": "mortgage",
                "质押贷款": "pledge",
            },
        ),  # fmt: skip
        aliases=("担保类型", "贷款方式", "担保方式（信用/保证/抵押/质押）"),
        help=_("信用、保证、抵押或质押；留空为未报送"),
        example="信用",
    ),
    Column(
        "disbursed_on",
        "放款日期",
        Date(),
        required=True,
        aliases=("发放日期", "起息日", "借款日期"),
        example="2026-01-15",
    ),
    Column(
        "maturity_on",
        "到期日期",
        Date(),
        required=True,
        aliases=("到期日", "借款到期日"),
        example="2027-01-14",
    ),
    Column(
        "green_category",
        "绿色产业指导目录类别",
        Text(max_length=16),
        aliases=("绿色贷款类别", "绿色产业类别", "绿色产业指导目录"),
        help=_("绿色贷款填类别编号（如 3.2.1）；非绿色贷款留空"),
        example="",
    ),
    Column(
        "pledge_kind",
        "绿色权益质押类型",
        Choice(
            choices=tuple((value, _zh(label)) for value, label in GREEN_RIGHT_CHOICES),
            aliases={
                "碳排放权质押": "carbon_rights",
                "用能权质押": "energy_rights",
                "排污权质押": "pollutant_rights",
            },
        ),  # fmt: skip
        aliases=("质押权益", "环境权益类型"),
        help=_("碳排放权、用能权或排污权；无绿色权益质押留空（每行一项）"),
        example="",
    ),
    Column(
        "pledge_registration_no",
        "质押登记编号",
        Text(max_length=64),
        aliases=("权益质押登记编号", "登记编号"),
        example="",
        width=20,
    ),
    Column(
        "pledge_authority",
        "质押登记机构",
        Text(max_length=100),
        aliases=("登记机构",),
        example="",
        width=20,
    ),
    Column(
        "pledge_value",
        "质押权益评估价值（元）",
        Amount(unit="元"),
        aliases=("评估价值",),
        example="",
    ),
)


class LoanSpec(_BankSpec):
    kind = "risk_loans"
    label = _("贷款台账（平台外贷款）")
    columns = LOAN_COLUMNS
    key_columns = ("contract_no",)
    notes = (
        _("每笔贷款一行，只能导入本机构发放的贷款；借款企业须已在平台登记。"),
        _(
            "本机构已报送过的合同编号会被拒绝（不会重复登记）；逾期和五级分类请用“贷款状态报送”导入。"
        ),
    )

    def clean(self, actor, rows: Sequence[dict[str, Any]]) -> list[Any]:
        institution_id = scope_of(actor).institution_id
        numbers = {row["contract_no"] for row in rows if row.get("contract_no")}
        taken = set(
            LoanAccount.objects.filter(
                institution_id=institution_id, contract_no__in=numbers
            ).values_list("contract_no", flat=True)
        )
        results: list[Any] = []
        pledged: set = set()
        for row in rows:
            data = {**row, "principal": _yuan(row.get("principal"))}
            if row.get("pledge_value") not in (None, ""):
                data["pledge_value"] = _yuan(row.get("pledge_value"))
            facts, errors = loanbook.check_loan(data)
            key = (row.get("pledge_kind"), row.get("pledge_registration_no"))
            if all(key) and key in pledged:
                errors.append(
                    FieldError(
                        "pledge_registration_no",
                        _("与本文件另一行的质押登记编号重复"),
                    )
                )
            pledged.add(key)
            if row.get("contract_no") in taken:
                errors.append(
                    FieldError(
                        "contract_no",
                        _("本机构已报送合同编号为 %(no)s 的贷款") % {"no": row["contract_no"]},
                    )
                )
            name = row.get("name")
            if facts is not None and name and " ".join(name.split()) != facts.enterprise.name:
                errors.append(
                    FieldError(
                        "name",
                        _("名称与统一社会信用代码不符：该代码登记的企业是“%(name)s”")
                        % {"name": facts.enterprise.name},
                    )
                )
            results.append(errors or {"facts": facts})
        return results

    def write(self, actor, _actor, rows, *, valid_only: bool, source: dict[str, Any]):
        return _write_rowwise(
            rows, valid_only, lambda values: loanbook.create_reported_loan(actor, values["facts"])
        )


STATUS_COLUMNS: tuple[Column, ...] = (
    LOAN_REF,
    Column(
        "as_of",
        "报送日期",
        Date(),
        required=True,
        aliases=("数据日期", "截至日期", "统计日期"),
        example="2026-06-30",
    ),
    Column(
        "classification",
        "五级分类",
        Choice(
            choices=tuple((value, _zh(label)) for value, label in Classification.choices),
            aliases={
                "正常类": "normal",
                "关注类": "special_mention",
                "次级类": "substandard",
                "可疑类": "doubtful",
                "损失类": "loss",
            },
        ),  # fmt: skip
        required=True,
        aliases=("贷款分类", "风险分类"),
        example="正常",
    ),
    Column(
        "days_overdue",
        "逾期天数",
        Integer(minimum=0, maximum=36500, suffixes=("天",)),
        aliases=("逾期天数（天）",),
        help=_("未逾期填 0 或留空"),
        example="0",
    ),
    Column(
        "overdue_amount",
        "逾期金额（元）",
        Amount(unit="元"),
        aliases=("逾期金额", "逾期本金"),
        help=_("逾期天数大于 0 时必填"),
        example="",
    ),
    Column(
        "outstanding",
        "贷款余额（元）",
        Amount(unit="元"),
        aliases=("贷款余额", "余额"),
        help=_("可留空；填写时须与台账余额一致（余额随还款变化，请先报送还款）"),
        example="1000000",
    ),
)


class LoanStatusSpec(_BankSpec):
    kind = "risk_loan_status"
    label = _("贷款状态报送（逾期与五级分类）")
    columns = STATUS_COLUMNS
    key_columns = ("contract_no", "as_of")
    notes = (
        _(
            "每笔贷款每个报送日期一行，只能报送本机构的存续贷款；报送日期不能早于该笔贷款上次报送的日期。"
        ),
        _("导入完成后对相关企业评估风险预警规则。"),
    )

    def clean(self, actor, rows: Sequence[dict[str, Any]]) -> list[Any]:
        loans = own_active_loans(actor, rows)
        results: list[Any] = []
        for row in rows:
            loan = loans.get(row.get("contract_no") or "")
            if not isinstance(loan, LoanAccount):
                results.append(loan)
                continue
            data = {**row, "overdue_amount": _yuan(row.get("overdue_amount"))}
            facts, errors = loanbook.check_status(loan, data)
            outstanding = _yuan(row.get("outstanding"))
            if outstanding is not None and outstanding != loan.outstanding:
                errors.append(
                    FieldError(
                        "outstanding",
                        _("与台账余额 %(o)s 元不符；余额随还款变化，请先报送还款")
                        % {"o": f"{loan.outstanding:,.2f}"},
                    )
                )
            results.append(errors or {"loan": loan, "facts": facts})
        return results

    def write(self, actor, _actor, rows, *, valid_only: bool, source: dict[str, Any]):
        enterprises: set[int] = set()

        def write_row(values):
            loanbook.apply_status(actor, values["loan"], values["facts"], evaluate=False)
            enterprises.add(values["loan"].enterprise_id)

        result = _write_rowwise(rows, valid_only, write_row)
        # The rules look at every enterprise concerned once, after the commit.
        transaction.on_commit(lambda: warnings.evaluate(enterprise_ids=enterprises))
        return result


register(LoanSpec())
register(LoanStatusSpec())

# The 无贷户 list's download (/exports/risk_no_loan/), audited by core.export_policy.
register_export(Export("risk_no_loan", _("无贷户名单"), export_no_loan))

# Schedules and repayments, after loans and status reports in the list of kinds.
from . import imports_repayments  # noqa: E402, F401
