"""The shapes of the loan-book API (/api/v1/risk): what each operation takes
and returns. Class names start with `Risk` (OpenAPI component names must not
clash with other routers').

Money is in 元 as an exact decimal string ("1800000.00"); inputs accept a JSON
number or a numeric string with at most two decimals. Rates are percent per
year ("3.85"). Dates are YYYY-MM-DD.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema

from chanrong.core.apikit.schemas import Day, InputSchema, MoneyIn, Text, Yuan

from .models import Classification, Collateral, LoanEventKind, LoanOrigin, LoanStatus

RateIn = Annotated[
    Decimal,
    Field(
        ge=0, le=36, max_digits=9, decimal_places=6, allow_inf_nan=False, description="年利率（%）"
    ),
]
USCC = Annotated[
    str,
    Field(
        min_length=18,
        max_length=18,
        pattern=r"^[0-9A-Z]{18}$",
        description="借款企业统一社会信用代码",
    ),
]


class RiskLoanIn(InputSchema):
    uscc: USCC
    contract_no: Text(64, min_length=1, kind="code")
    principal: MoneyIn
    rate: RateIn | None = None
    collateral: Collateral | None = Field(None, description="担保方式：信用、保证、抵押、质押")
    disbursed_on: Day
    maturity_on: Day


class RiskLoanBulkIn(InputSchema):
    rows: list[RiskLoanIn] = Field(min_length=1, max_length=5000)


class RiskLoanBulkOut(Schema):
    created: int
    ids: list[int]


class RiskLoanOut(Schema):
    id: int
    reference: str
    enterprise_id: int
    enterprise_name: str = Field(alias="enterprise.name")
    enterprise_uscc: str = Field(alias="enterprise.uscc")
    institution_id: int
    institution_name: str = Field(alias="institution.name")
    source: LoanOrigin
    demand_id: int | None
    contract_no: str
    principal: Yuan
    rate: Decimal | None
    collateral: str = Field(description="担保方式（空为未报送）")
    disbursed_on: date
    maturity_on: date
    status: LoanStatus
    classification: Classification
    repaid_principal: Yuan
    outstanding: Yuan
    days_overdue: int
    overdue_amount: Yuan
    reported_on: date | None
    renewed_from_id: int | None
    closed_on: date | None


class RiskScheduleItemIn(InputSchema):
    due_on: Day
    principal_due: MoneyIn
    interest_due: MoneyIn = Decimal(0)


class RiskScheduleIn(InputSchema):
    items: list[RiskScheduleItemIn] = Field(min_length=1, max_length=600)


class RiskScheduleItemOut(Schema):
    due_on: date
    principal_due: Yuan
    interest_due: Yuan


class RiskRepaymentIn(InputSchema):
    paid_on: Day
    principal: MoneyIn = Decimal(0)
    interest: MoneyIn = Decimal(0)
    reference: str = Field(
        "", max_length=64, description="还款流水号：同一笔贷款的同一流水号只登记一次（重试不重复）"
    )


class RiskRepaymentOut(Schema):
    id: int
    paid_on: date
    principal: Yuan
    interest: Yuan
    reference: str


class RiskStatusIn(InputSchema):
    as_of: Day
    classification: Classification
    days_overdue: int = Field(0, ge=0, le=36500)
    overdue_amount: MoneyIn = Decimal(0)


class RiskEventOut(Schema):
    kind: LoanEventKind
    on: date
    classification: Classification
    previous_classification: str
    days_overdue: int
    outstanding: Yuan
    note: str
    created_at: datetime


class RiskRecallIn(InputSchema):
    on: Day
    reason: Text(500, min_length=1, kind="text")


class RiskRenewIn(InputSchema):
    contract_no: Text(64, min_length=1, kind="code")
    on: Day
    maturity_on: Day
    rate: RateIn | None = None


class RiskCollateralIn(InputSchema):
    collateral: Collateral


class RiskWriteOffIn(InputSchema):
    on: Day
    note: Text(500, min_length=1, kind="text")


class RiskLoanFilter(Schema):
    status: LoanStatus | None = None
    classification: Classification | None = None
    non_performing: bool | None = Field(None, description="只看不良（次级、可疑、损失）")
    uscc: USCC | None = None
    source: LoanOrigin | None = None
