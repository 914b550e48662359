"""The shapes of the funds API (/api/v1/funds, /api/v1/stats/equity). Class
names start with `Fund` / `Equity` (OpenAPI component names must not clash).

Money is in 元 as an exact decimal string ("50000000.00"); inputs accept a
JSON number or a numeric string with at most two decimals. Dates YYYY-MM-DD.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema

from chanrong.core.apikit.schemas import (
    BodyId,
    Day,
    IndustryCode,
    InputSchema,
    MoneyIn,
    RegionCode,
    Text,
    Yuan,
)

from .models import FundKind, FundStage, FundStatus, InvestmentRound

USCC = Annotated[
    str,
    Field(min_length=18, max_length=18, pattern=r"^[0-9A-Z]{18}$", description="统一社会信用代码"),
]
ShareIn = Annotated[
    Decimal,
    Field(
        gt=0,
        le=100,
        max_digits=7,
        decimal_places=4,
        allow_inf_nan=False,
        description="持股比例（%）",
    ),
]


class FundIn(InputSchema):
    name: Text(100, min_length=1, kind="name")
    kind: FundKind
    target_size: MoneyIn
    paid_in_size: MoneyIn
    manager: BodyId = Field(description="基金管理人（金融机构编号，基金或证券类）")
    region: RegionCode
    focus_industries: list[IndustryCode] = Field(default_factory=list, max_length=50)
    focus_stages: list[FundStage] = Field(default_factory=list, max_length=4)
    ticket_min: MoneyIn | None = None
    ticket_max: MoneyIn | None = None
    inception_date: Day
    status: FundStatus | None = Field(None, description="raising 或 investing（默认）")


class FundOut(Schema):
    id: int
    name: str
    kind: str
    target_size: Yuan
    paid_in_size: Yuan
    manager_id: int
    manager_name: str = Field(alias="manager.name")
    region_code: str = Field(alias="region_id")
    focus_industries: list[str]
    focus_stages: list[str]
    ticket_min: Yuan | None
    ticket_max: Yuan | None
    inception_date: date
    closed_on: date | None
    status: str


class FundInvestmentIn(InputSchema):
    enterprise_uscc: USCC
    project: BodyId | None = Field(None, description="被投企业的重点项目编号（可选）")
    round: InvestmentRound
    amount: MoneyIn
    invested_on: Day
    share_pct: ShareIn | None = None


class FundInvestmentOut(Schema):
    id: int
    fund_id: int
    enterprise_id: int
    enterprise_name: str = Field(alias="enterprise.name")
    project_id: int | None
    round: str
    amount: Yuan
    invested_on: date
    share_pct: Decimal | None
    exited_on: date | None
    exit_amount: Yuan | None


class FundDemandMatchOut(Schema):
    demand_id: int
    enterprise_name: str
    amount: Yuan
    purpose: str
    score: float
    reasons: list[str]
    fit: list[str]


class EquityRowOut(Schema):
    key: str
    label: str
    count: int
    amount: Yuan


class EquityStatsOut(Schema):
    start: date
    end: date
    count: int
    amount: Yuan
    by_year: list[EquityRowOut]
    by_industry: list[EquityRowOut]
    by_round: list[EquityRowOut]
    by_fund_kind: list[EquityRowOut]


class EquityStatsQuery(Schema):
    start: Day | None = None
    end: Day | None = None
