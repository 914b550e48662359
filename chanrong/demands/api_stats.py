"""GET /stats/summary: the caller's financing statistics (one service: stats.demand_stats)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses

from . import stats

router = Router(tags=["统计"])


class StatRowOut(Schema):
    key: str
    label: str
    demands: int
    demand_amount: Decimal
    dispatches: int
    claims: int
    claimed_in_time: int
    financings: int
    financing_amount: Decimal
    claim_rate: float | None
    success_rate: float | None
    compliance: float | None
    median_claim_hours: float | None
    median_disburse_days: float | None


class SummaryOut(Schema):
    start: date
    end: date
    group_by: str
    total: StatRowOut
    rows: list[StatRowOut]


@router.get("/summary", response=responses({200: SummaryOut}, 422), summary="融资统计汇总")
def summary(request: HttpRequest, start: str = "", end: str = "", group_by: str = "region"):
    """Demands, claims and financings published in [start, end] (default: this
    year so far) that the caller can see, in total and per group (region,
    industry, size, institution, kind): 接单率, 获得率, median times to claim
    and to disbursement, and deadline compliance. Amounts in 元."""
    return stats.demand_stats(actor(request), start=start, end=end, group_by=group_by).as_dict()
