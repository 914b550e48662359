"""应收账款融资 statistics: the breakdowns by chain, core enterprise and bank
equal the financing rows, the scope follows the viewer, the indicator
system's computed values equal the sums of the table, and the page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from chanrong.accounts.models import Role
from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Region
from chanrong.insights import catalogue
from chanrong.insights.models import IndicatorDefinition
from chanrong.insights.services import indicator_value
from chanrong.insights.sources import get_source
from chanrong.supplychain import services, sources
from chanrong.supplychain.models import Financing
from chanrong.supplychain.services import stats
from tests.conftest import JIASHAN, _enterprise, _user

from .conftest import TODAY, authorise, finance, receivable_data

pytestmark = pytest.mark.django_db

YEAR = (date(2026, 1, 1), date(2026, 12, 31))
SUZHOU = "320508"


@pytest.fixture
def figures(sc, world):
    """Three financings: two of ent (on the 新能源汽车 chain) at two banks,
    one of a 苏州 supplier on no chain; one of ent's is repaid."""
    chain = services.create_chain(
        world.user("gov_jiashan"), {"name": "新能源汽车", "lead": sc.core.pk}
    )
    services.add_member(
        world.user("gov_jiashan"),
        chain,
        {"enterprise": world.ent.pk, "role": "supplier", "tier": 1},
    )
    suzhou = _enterprise("苏州精密零件有限公司", SUZHOU, "C34", 31)
    world.users["suzhou_user"] = _user("suzhou_user", Role.ENTERPRISE_USER, enterprise=suzhou)
    authorise(world.ent, world.bank2)
    authorise(suzhou, world.bank)

    def confirmed_of(user: str, amount: str):
        receivable = services.register_receivable(
            sc.user(user), receivable_data(sc, amount=amount), today=TODAY
        )
        return services.confirm(sc.user("core_user"), receivable, today=TODAY)

    one = finance(sc, confirmed_of("ent_user", "1000000.00"), amount="800000.00")
    two = finance(sc, confirmed_of("ent_user", "500000.00"), user="bank2_staff", amount="400000.00")
    three = finance(sc, confirmed_of("suzhou_user", "2000000.00"), amount="1500000.00")
    services.repay(world.user("bank_staff"), one, today=TODAY)
    return {"chain": chain, "suzhou": suzhou, "financings": [one, two, three]}


def _rows(rows):
    return {r.key: (r.count, r.amount) for r in rows}


def test_breakdowns_equal_the_financing_rows(figures, world, sc):
    result = stats.summarise(world.user("admin"), *YEAR)
    amounts = list(Financing.objects.values_list("amount", flat=True))
    assert result.total.count == 3 == len(amounts)
    assert result.total.amount == sum(amounts) == Decimal("2700000.00")
    assert result.total.outstanding == Decimal("1900000.00")  # the repaid one is settled
    chain = figures["chain"]
    assert _rows(result.by_chain) == {
        f"chain:{chain.pk}": (2, Decimal("1200000.00")),
        "chain:none": (1, Decimal("1500000.00")),
    }
    assert _rows(result.by_bank) == {
        f"bank:{world.bank.pk}": (2, Decimal("2300000.00")),
        f"bank:{world.bank2.pk}": (1, Decimal("400000.00")),
    }
    assert _rows(result.by_core) == {f"uscc:{sc.core.uscc}": (3, Decimal("2700000.00"))}
    assert [m.label for m in result.months] == ["2026-06"]
    assert sum(m.amount for m in result.months) == result.total.amount
    # Outside the period: nothing.
    empty = stats.summarise(world.user("admin"), date(2025, 1, 1), date(2025, 12, 31))
    assert empty.total.count == 0 and empty.by_bank == [] and stats.month_chart(empty) is None


def test_scope_follows_the_viewer(figures, world):
    jiashan = stats.summarise(world.user("gov_jiashan"), *YEAR)
    assert (jiashan.total.count, jiashan.total.amount) == (2, Decimal("1200000.00"))
    assert "chain:none" not in _rows(jiashan.by_chain)
    zhejiang = stats.summarise(world.user("gov_zhejiang"), *YEAR)
    assert zhejiang.total.amount == Decimal("1200000.00")  # 苏州 is not in 浙江
    assert stats.summarise(world.user("gov_national"), *YEAR).total.count == 3
    assert not stats.can_view(world.user("ent_user"))
    assert not stats.can_view(world.user("bank_staff"))


def test_period_is_checked_by_field():
    with pytest.raises(ValidationFailed) as caught:
        stats.parse_period({"start": "2026-13-01"})
    assert {e.field for e in caught.value.errors} == {"start"}
    with pytest.raises(ValidationFailed) as caught:
        stats.parse_period({"start": "2026-06-02", "end": "2026-06-01"})
    assert {e.field for e in caught.value.errors} == {"start"}
    assert stats.parse_period({"start": "2026-01-01", "end": "2026-06-30"}) == (
        date(2026, 1, 1),
        date(2026, 6, 30),
    )


def test_sources_and_indicators_equal_the_sums_of_the_table(figures):
    rows = Financing.objects.filter(receivable__creditor__region__code__startswith=JIASHAN)
    amount = sum(rows.values_list("amount", flat=True))
    assert sources.financing_amount(JIASHAN, *YEAR) == amount == Decimal("1200000.00")
    assert sources.financing_count(JIASHAN, *YEAR) == rows.count() == 2
    assert sources.financing_amount("", None, date(2026, 12, 31)) == Decimal("2700000.00")
    assert sources.financing_count("3205", *YEAR) == 1
    assert sources.financing_amount(JIASHAN, date(2026, 7, 1), date(2026, 12, 31)) == 0

    region = Region.objects.get(code=JIASHAN)
    for code, value in {
        "receivable-financing-amount": amount / Decimal(100_000_000),
        "receivable-financing-count": Decimal(2),
    }.items():
        definition = IndicatorDefinition.objects.get(code=code)
        assert get_source(definition.source) is not None, code
        actual = indicator_value(definition, region, *YEAR)
        assert actual.computed, code
        assert actual.value == value, code


def test_catalogue_keeps_the_32_verbatim():
    assert len(catalogue.STANDARD) == 32
    codes = [e.code for e in catalogue.STANDARD]
    assert "receivable-financing-amount" not in codes
    assert catalogue.BY_CODE["receivable-financing-amount"].name == "应收账款融资额（亿元）"
    assert IndicatorDefinition.objects.count() == 32 + len(catalogue.PLATFORM)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_page_with_charts_scoped_and_bad_input_by_field(figures, world):
    gov = _client(world.user("gov_jiashan"))
    page = gov.get("/supplychain/stats/", {"start": "2026-01-01", "end": "2026-12-31"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "vendor/echarts/echarts.min.js" in html and 'data-chart="sc-month-chart"' in html
    assert "新能源汽车" in html and "苏州精密零件" not in html
    assert f'data-key="chain:{figures["chain"].pk}"' in html and 'data-key="chain:none"' not in html
    bad = gov.get("/supplychain/stats/", {"start": "2026-02-30"})
    assert bad.status_code == 200 and 'aria-invalid="true"' in bad.content.decode()
    for name in ("ent_user", "bank_staff"):
        assert _client(world.user(name)).get("/supplychain/stats/").status_code == 404
