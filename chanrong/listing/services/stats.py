"""Counts of the listing pipelines: by stage now (the funnel), by stage and
year reached (a stage counts in the year of its record's date), and the
figures the indicator system reads (sources.py).

Dates decide: a listing counts as listed from its `listed_on`; proceeds
count in the period that holds `listed_on`. An enterprise listed on two
boards (新三板 then 北交所) counts once per board family.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext as _

from ..models import (
    EXCHANGE_BOARDS,
    PATH,
    REGIONAL_BOARDS,
    Board,
    Pipeline,
    Stage,
    StageRecord,
)

#: The funnel's steps: the path, then 上市/挂牌 together.
FUNNEL = (*PATH, Stage.LISTED, Stage.QUOTED)
FEN = Decimal("0.01")


def _fen(total: Decimal | None) -> Decimal:
    """A sum of amounts in 元 (exact: each is stored to the fen), shown to the fen."""
    return (total or Decimal(0)).quantize(FEN)


@dataclass
class Summary:
    current: list[tuple[str, str, int]]  # (stage, label, pipelines now at it)
    years: list[int]
    by_year: list[tuple[str, str, list[int]]]  # (stage, label, count per year)
    withdrawn: int
    proceeds: Decimal
    listed: int


def summarise(actor) -> Summary:
    pipelines = Pipeline.objects.visible_to(actor)
    now = dict(pipelines.values_list("stage").annotate(n=Count("pk")).values_list("stage", "n"))
    records = (
        StageRecord.objects.visible_to(actor)
        .annotate(year=ExtractYear("reached_on"))
        .values_list("stage", "year")
        .annotate(n=Count("pk"))
    )
    table: dict[tuple[str, int], int] = {(s, y): n for s, y, n in records}
    years = sorted({y for _s, y in table})
    done = pipelines.filter(stage__in=(Stage.LISTED, Stage.QUOTED))
    return Summary(
        current=[(s, Stage(s).label, now.get(s, 0)) for s in FUNNEL],
        years=years,
        by_year=[(s, Stage(s).label, [table.get((s, y), 0) for y in years]) for s in FUNNEL],
        withdrawn=now.get(Stage.WITHDRAWN, 0),
        proceeds=_fen(done.aggregate(total=Sum("proceeds"))["total"]),
        listed=done.count(),
    )


def funnel_chart(summary: Summary) -> dict[str, Any] | None:
    if not any(n for _s, _l, n in summary.current):
        return None
    return {
        "tooltip": {"trigger": "item"},
        "series": [
            {
                "name": _("当前阶段"),
                "type": "funnel",
                "sort": "none",
                "left": "10%",
                "width": "80%",
                "label": {"formatter": "{b}：{c}"},
                "data": [{"name": str(label), "value": n} for _s, label, n in summary.current],
            }
        ],
    }


def year_chart(summary: Summary) -> dict[str, Any] | None:
    if not summary.years:
        return None
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 50, "right": 20, "top": 50, "bottom": 30},
        "xAxis": {"type": "category", "data": [str(y) for y in summary.years]},
        "yAxis": {"type": "value", "name": _("家数")},
        "series": [
            {"name": str(label), "type": "bar", "data": counts}
            for _s, label, counts in summary.by_year
        ],
    }


# --- the indicator system's figures ----------------------------------------------------


def listed_count(prefix: str, end: date, boards, stage: str) -> int:
    return (
        Pipeline.objects.in_region(prefix)
        .filter(stage=stage, board__in=boards, listed_on__lte=end)
        .values("enterprise_id")
        .distinct()
        .count()
    )


def exchange_listed(prefix: str, start: date | None, end: date) -> Decimal:
    return Decimal(listed_count(prefix, end, EXCHANGE_BOARDS, Stage.LISTED))


def neeq_listed(prefix: str, start: date | None, end: date) -> Decimal:
    return Decimal(listed_count(prefix, end, {Board.NEEQ}, Stage.QUOTED))


def regional_equity_listed(prefix: str, start: date | None, end: date) -> Decimal:
    return Decimal(listed_count(prefix, end, REGIONAL_BOARDS, Stage.QUOTED))


def ipo_proceeds(prefix: str, start: date | None, end: date) -> Decimal:
    """募集资金 of exchange listings (上市, not 挂牌) whose day is in the period."""
    rows = Pipeline.objects.in_region(prefix).filter(stage=Stage.LISTED, listed_on__lte=end)
    if start is not None:
        rows = rows.filter(listed_on__gte=start)
    return _fen(rows.aggregate(total=Sum("proceeds"))["total"])
