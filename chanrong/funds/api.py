"""产业基金 over the API: /api/v1/funds (the directory; funds kept by the
caller are registered here), /funds/{id}, /funds/{id}/investments,
/funds/{id}/matches (equity demands ranked by the matching engine, for who
keeps the fund) and /api/v1/stats/equity.

A fund is visible to every signed-in user (a directory); keeping it is its
manager's and its region's government's: anyone else gets a 403 on writes
and on its matches. Investments follow `FundInvestment.visible_to`. Bad
input is 422 by field; an investment beyond the paid-in size is 422 on
`amount` and nothing is written.

(No `from __future__ import annotations`: django-ninja must see the real
parameter types of the paginated operations.)
"""

from typing import Any

from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import ObjectId
from chanrong.core.errors import NotAllowed, NotFound

from . import permissions as perms
from .api_schemas import (
    EquityStatsOut,
    EquityStatsQuery,
    FundDemandMatchOut,
    FundIn,
    FundInvestmentIn,
    FundInvestmentOut,
    FundOut,
)
from .models import Fund, FundInvestment
from .services import funds as fund_service
from .services import investments as investment_service
from .services import matching, stats

router = Router(tags=["funds 产业基金"])
stats_router = Router(tags=["funds 产业基金"])


def _fund(request, fund_id: int) -> Fund:
    fund = (
        Fund.objects.visible_to(actor(request))
        .select_related("manager", "region")
        .filter(pk=fund_id)
        .first()
    )
    if fund is None:
        raise NotFound(_("未找到该基金"))
    return fund


@router.get("", response=responses({200: list[FundOut]}, 422), summary="基金名录")
@paginated
def list_funds(request):
    return Fund.objects.visible_to(actor(request)).select_related("manager").order_by("pk")


@router.post("", response=responses({201: FundOut}, 403, 422), summary="登记基金")
def create_fund(request, payload: FundIn):
    data: dict[str, Any] = payload.model_dump(exclude_none=True)
    fund = fund_service.create_fund(actor(request), data)
    return Status(201, _fund(request, fund.pk))


@router.get("/{id}", response=responses({200: FundOut}, 404, 422), summary="基金详情")
def get_fund(request, id: ObjectId):
    return _fund(request, id)


@router.get(
    "/{id}/investments",
    response=responses({200: list[FundInvestmentOut]}, 404, 422),
    summary="基金的投资记录（可查看的部分）",
)
@paginated
def list_investments(request, id: ObjectId):
    fund = _fund(request, id)
    return FundInvestment.objects.visible_to(actor(request)).filter(fund=fund).order_by("pk")


@router.post(
    "/{id}/investments",
    response=responses({201: FundInvestmentOut}, 403, 404, 409, 422),
    summary="登记一笔投资（投资总额不超过实缴规模）",
)
def create_investment(request, id: ObjectId, payload: FundInvestmentIn):
    fund = _fund(request, id)
    investment = investment_service.record_investment(
        actor(request), fund, payload.model_dump(exclude_none=True)
    )
    return Status(201, investment)


@router.get(
    "/{id}/matches",
    response=responses({200: list[FundDemandMatchOut]}, 403, 404, 422),
    summary="与基金投资方向匹配的股权融资需求（匹配引擎排序，附说明）",
)
def fund_matches(request, id: ObjectId, limit: int = 20):
    fund = _fund(request, id)
    if not perms.can_see_matches(actor(request), fund):
        raise NotAllowed(_("只有基金管理人或基金注册地政府可以查看匹配结果"))
    return [
        {
            "demand_id": row.demand.pk,
            "enterprise_name": row.demand.enterprise.name,
            "amount": row.demand.amount,
            "purpose": row.demand.purpose,
            "score": row.score,
            "reasons": row.reasons,
            "fit": row.fit,
        }
        for row in matching.demands_for_fund(actor(request), fund, limit=min(max(limit, 1), 100))
    ]


@stats_router.get("", response=responses({200: EquityStatsOut}, 403, 422), summary="股权融资统计")
def equity_stats(request, query: Query[EquityStatsQuery]):
    user = actor(request)
    if not perms.can_view_stats(user):
        raise NotAllowed(_("无权查看股权融资统计"))
    params = {k: v.isoformat() for k, v in query.model_dump(exclude_none=True).items()}
    start, end = stats.parse_period(params)
    return stats.summarise(user, start, end).as_dict()
