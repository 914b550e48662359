"""The LPR history over the API (/lpr): public reference data every caller may
read; platform admins add or correct a month. Reads and writes go through
`chanrong.finance.lpr`."""

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import BeforeValidator

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import InputSchema, Text

from . import lpr
from .models import LprRate, LprTenor

router = Router(tags=["lpr 贷款市场报价利率"])

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_only(value: Any) -> Any:
    """pydantic reads a number, or "0", as seconds since 1970; a date here is
    written YYYY-MM-DD and nothing else."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise ValueError(_("日期格式应为 YYYY-MM-DD，如 2024-10-21"))
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


class LprOut(Schema):
    tenor: LprTenor = Field(description="1y：1 年期；5y：5 年期以上")
    published_on: date = Field(description="公布日期（自该日起适用）")
    rate: float = Field(description="年利率，百分比，如 3.45")
    source: str
    note: str = ""
    updated_at: datetime | None = Field(None, description="最近修改时间（仅列表）")
    stale_days: int | None = Field(None, description="仅带 on 查询时：on 距公布日期的天数")
    stale: bool | None = Field(
        None,
        description=f"仅带 on 查询时：超过 {lpr.STALE_AFTER_DAYS} 天为 true，表示可能缺少此后的报价",
    )

    @staticmethod
    def resolve_rate(obj) -> float:
        # A row from the list, or a quote (dict) from `on`.
        return float(obj["rate"] if isinstance(obj, dict) else obj.rate)


class LprFilter(Schema):
    tenor: LprTenor | None = Field(None, description="品种；不填为两个品种")
    on: IsoDate | None = Field(
        None,
        description="只返回该日适用的报价（该日及之前最近一次公布），每个品种一条；"
        "2019-08-20 之前为空",
    )


def _quote_out(quote: lpr.LprQuote) -> dict:
    return {
        "tenor": quote.tenor,
        "published_on": quote.published_on,
        "rate": quote.rate,
        "source": quote.source,
        "stale_days": quote.stale_days,
        "stale": quote.stale,
    }


@router.get(
    "",
    response=responses({200: list[LprOut]}, 422),
    summary="LPR 历史（最新在前），或某日适用的 LPR",
)
@paginated
def list_lpr(request, filters: Query[LprFilter]):
    tenors = [filters.tenor] if filters.tenor else list(LprTenor.values)
    if filters.on is not None:
        quotes = (lpr.lpr_on(filters.on, tenor) for tenor in tenors)
        return [_quote_out(q) for q in quotes if q is not None]
    return LprRate.objects.filter(tenor__in=tenors).order_by("-published_on", "tenor")


Percent = Annotated[Decimal, Field(allow_inf_nan=False, description="年利率，百分比，如 3.45")]


class LprIn(InputSchema):
    tenor: LprTenor
    published_on: IsoDate = Field(description="公布日期，不早于 2019-08-20，不晚于今天")
    rate: Percent
    source: Text(100) = Field(lpr.DEFAULT_SOURCE)  # type: ignore[valid-type]
    note: Text(500) = ""  # type: ignore[valid-type]


@router.post(
    "",
    response=responses({200: LprOut, 201: LprOut}, 422),
    summary="录入或更正一期 LPR（平台管理员）",
    description="同一品种同一月份已有报价时为更正（200），否则为新增（201）。",
)
def save_lpr(request, payload: LprIn):
    row, created = lpr.save_lpr(actor(request), **payload.model_dump())
    return Status(201 if created else 200, row)
