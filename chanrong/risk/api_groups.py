"""Statistics by policy group over the API (mounted at /api/v1/stats):
GET /stats/groups — loans, amounts, balances, average rate, 接单率 and 获得率
split by group (services.groups); GET /stats/no-loan — the 无贷户 list,
paginated. Government sees its region subtree, a bank its own loans and its
authorised enterprises; others 404. Bad query fields are 422 by field.

(No `from __future__ import annotations`: django-ninja must see the real
parameter types of the paginated operations.)
"""

from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.errors import NotFound

from .services import groups

router = Router(tags=["stats 统计"])


class GroupQuery(Schema):
    group: str = Field("", max_length=40, description="政策群体代码；空为全部群体")
    region: str = Field("", max_length=12, description="行政区划代码（6 位）")
    start: str = Field(
        "", alias="from", max_length=20, description="区间开始日期，默认当年 1 月 1 日"
    )
    end: str = Field("", alias="to", max_length=20, description="区间结束日期，默认今天")
    as_of: str = Field("", max_length=20, description="余额与群体归属的统计日，默认区间结束日")


class GroupRowOut(Schema):
    key: str
    label: str
    definition: str
    loans: int = Field(description="区间内放款笔数")
    amount: Decimal = Field(description="区间内放款金额（元）")
    balance: Decimal = Field(description="统计日贷款余额（元）")
    balance_loans: int = Field(description="统计日有余额的贷款笔数")
    avg_rate: Decimal | None = Field(description="区间内放款的加权平均年利率（%）")
    demands: int | None
    dispatches: int | None
    claims: int | None
    financings: int | None
    claim_rate: float | None = Field(description="接单率 = 接单数 / 派单数")
    success_rate: float | None = Field(description="获得率 = 放款需求数 / 发布需求数")


class GroupSplitOut(Schema):
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    as_of: date
    region: str
    total: GroupRowOut
    rows: list[GroupRowOut]


class NoLoanQuery(Schema):
    as_of: str = Field("", max_length=20, description="统计日，默认今天")
    region: str = Field("", max_length=12, description="行政区划代码（6 位）")
    industry: str = Field("", max_length=8, description="行业门类或大类代码，如 C 或 C39")
    size: str = Field("", max_length=8, description="企业规模：large、medium、small、micro")
    group: str = Field("", max_length=40, description="另一企业群体，如 high_tech")


class NoLoanOut(Schema):
    id: int
    uscc: str
    name: str
    region_code: str = Field(alias="region_id")
    region_name: str = Field(alias="region.name")
    industry_code: str = Field(alias="industry_id")
    size: str


def _checked(request):
    user = actor(request)
    if not groups.may_view(user):
        raise NotFound(_("未找到"))
    return user


@router.get(
    "/groups",
    response=responses({200: GroupSplitOut}, 404, 422),
    summary="按政策群体拆分的融资统计",
    by_alias=True,
)
def group_split(request, q: Query[GroupQuery]):
    user = _checked(request)
    query = groups.clean_query(
        group=q.group, region=q.region, start=q.start, end=q.end, as_of=q.as_of
    )
    return groups.split(user, query).as_dict()


@router.get("/no-loan", response=responses({200: list[NoLoanOut]}, 404, 422), summary="无贷户名单")
@paginated
def no_loan(request, q: Query[NoLoanQuery]):
    user = _checked(request)
    query = groups.clean_no_loan(
        as_of=q.as_of, region=q.region, industry=q.industry, size=q.size, group=q.group
    )
    return groups.no_loan_enterprises(user, query)
