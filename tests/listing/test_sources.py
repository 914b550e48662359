"""The indicator system's 上市 figures on hand-built rows: 时点 counts as of
end by listed_on, by board family and region; 时期 proceeds by listed_on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chanrong.insights.sources import get_source
from chanrong.listing.models import Pipeline, Stage
from tests.conftest import JIASHAN, _enterprise

pytestmark = pytest.mark.django_db


def row(world, enterprise, board, stage, listed_on=None, proceeds=None):
    return Pipeline.objects.create(
        enterprise=enterprise,
        board=board,
        stage=stage,
        agency=world.gov_jiashan,
        listed_on=listed_on,
        proceeds=proceeds,
        stock_code="600001" if listed_on else "",
    )


def figure(key: str, prefix: str, start, end) -> Decimal:
    return get_source(key).fn(prefix, start, end)


def test_sources_count_and_sum_by_board_region_and_date(world):
    e3 = _enterprise("嘉善三号股份有限公司", JIASHAN, "C34", 21)
    e4 = _enterprise("嘉善四号股份有限公司", JIASHAN, "C34", 22)
    row(world, world.ent, "star", Stage.LISTED, date(2024, 3, 1), Decimal("800000000.00"))
    row(world, world.ent, "neeq", Stage.QUOTED, date(2022, 5, 1), Decimal("20000000.00"))
    row(world, world.ent2, "bse", Stage.LISTED, date(2025, 7, 1), Decimal("300000000.00"))
    row(world, e3, "regional_sme", Stage.QUOTED, date(2023, 1, 9))
    row(world, e4, "regional", Stage.QUOTED, date(2025, 2, 1))
    row(world, world.ent_js, "main", Stage.LISTED, date(2024, 6, 1), Decimal("1000000000.00"))
    row(world, e3, "chinext", Stage.REVIEW)  # not listed
    row(world, e4, "main", Stage.WITHDRAWN)

    end = date(2024, 12, 31)
    assert figure("listing.exchange_listed", "", None, end) == 2  # ent (STAR), 苏州 (main)
    assert figure("listing.exchange_listed", JIASHAN, None, end) == 1
    assert figure("listing.exchange_listed", JIASHAN, None, date(2025, 12, 31)) == 2
    assert figure("listing.exchange_listed", "32", None, end) == 1
    assert figure("listing.neeq_listed", JIASHAN, None, end) == 1
    assert figure("listing.neeq_listed", JIASHAN, None, date(2022, 4, 30)) == 0
    assert figure("listing.regional_equity_listed", JIASHAN, None, end) == 1
    assert figure("listing.regional_equity_listed", JIASHAN, None, date(2025, 2, 1)) == 2
    # Proceeds of exchange listings in the period (挂牌 not included).
    assert figure("listing.ipo_proceeds", JIASHAN, date(2024, 1, 1), end) == Decimal("800000000.00")
    assert figure("listing.ipo_proceeds", "33", date(2025, 1, 1), date(2025, 12, 31)) == Decimal(
        "300000000.00"
    )
    assert figure("listing.ipo_proceeds", "", None, end) == Decimal("1800000000.00")
    assert get_source("listing.ipo_proceeds").money is True
    assert get_source("listing.exchange_listed").money is False
