"""The shapes of the loan-book API (/api/v1/risk): what each operation takes
and returns. Class names start with `Risk` (OpenAPI component names must not
clash with other routers').

Money is in 元 as an exact decimal string ("1800000.00"); inputs accept a JSON
number or a numeric string with at most two decimals. Rates are percent per
year ("3.85"). Dates are YYYY-MM-DD.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from chanrong.core.apikit.schemas import Day, InputSchema, MoneyIn, Text, Yuan

from .models import (
    GREEN_RIGHT_CHOICES,
    Classification,
    Collateral,
    LoanEventKind,
    LoanOrigin,
    LoanStatus,
)

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


GreenRight = Literal[tuple(value for value, _label in GREEN_RIGHT_CHOICES)]  # type: ignore[valid-type]
GreenCategory = Annotated[
    str,
    Field(
        max_length=16,
        description="绿色产业指导目录（2019年版）类别编号，如 3.2.1；空为非绿色贷款",
    ),
]


class RiskPledgeIn(InputSchema):
    kind: GreenRight = Field(
        description="碳排放权 carbon_rights、用能权 energy_rights、排污权 pollutant_rights"
    )
    registration_no: Text(64, min_length=1, kind="code") = Field(
        description="质押登记编号（同一权益的编号不能同时质押给两笔存续贷款）"
    )
    authority: Text(100, min_length=1, kind="name") = Field(description="登记机构")
    value: MoneyIn | None = Field(None, description="评估价值（元）")
    registered_on: Day | None = None


class RiskPledgeOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    registration_no: str
    authority: str
    value: Yuan | None
    registered_on: date | None


class RiskGreenIn(InputSchema):
    green_category: GreenCategory = ""


class RiskLoanIn(InputSchema):
    uscc: USCC
    contract_no: Text(64, min_length=1, kind="code")
    principal: MoneyIn
    rate: RateIn | None = None
    collateral: Collateral | None = Field(None, description="担保方式：信用、保证、抵押、质押")
    green_category: GreenCategory | None = None
    pledges: list[RiskPledgeIn] = Field(default_factory=list, max_length=20)
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
    green_category: str = Field(description="绿色产业指导目录类别（空为非绿色贷款）")
    pledges: list[RiskPledgeOut] = Field(alias="green_pledges.all", description="绿色权益质押")
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
