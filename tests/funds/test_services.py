"""Funds and investments through the services: validation by field, the
paid-in ceiling, who keeps a fund and who sees an investment, the indicator
sources on hand-built rows, and the engine's ranking both ways."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.demands.models import Demand, DemandKind, DemandState
from chanrong.funds import sources
from chanrong.funds.models import Fund, FundInvestment
from chanrong.funds.services import funds as fund_service
from chanrong.funds.services import matching, stats
from chanrong.insights.sources import get_source
from tests.conftest import JIASHAN, _enterprise

from .conftest import TODAY, fund_data, invest

pytestmark = pytest.mark.django_db


def fields_of(exc: ValidationFailed) -> set[str]:
    return {e.field for e in exc.errors}


def test_fund_validation_names_every_bad_field(world, fund_co):
    bad = fund_data(
        fund_co,
        name="",
        kind="hedge",
        target_size="-1",
        paid_in_size="abc",
        region="999999",
        focus_industries=["Z99"],
        focus_stages=["teen"],
        ticket_min="9000000",
        ticket_max="1000000",
        inception_date="2027-01-01",
    )
    with pytest.raises(ValidationFailed) as caught:
        fund_service.create_fund(world.user("fund_staff"), bad, today=TODAY)
    assert fields_of(caught.value) == {
        "name",
        "kind",
        "target_size",
        "paid_in_size",
        "region",
        "focus_industries",
        "focus_stages",
        "ticket_max",
        "inception_date",
    }
    with pytest.raises(ValidationFailed) as caught:
        fund_service.create_fund(
            world.user("admin"), fund_data(world.bank, paid_in_size="2000000000"), today=TODAY
        )
    assert fields_of(caught.value) == {"manager", "paid_in_size"}
    assert not Fund.objects.exists()


def test_who_may_register_and_keep(world, fund_co, fund):
    # Another region's government and a bank cannot register a fund for 嘉善's manager.
    for name in ("gov_jiangsu", "bank_staff", "ent_user"):
        with pytest.raises(NotAllowed):
            fund_service.create_fund(
                world.user(name), fund_data(fund_co, name=f"基金{name}"), today=TODAY
            )
    assert set(Fund.objects.kept_by(world.user("gov_jiashan"))) == {fund}
    assert set(Fund.objects.kept_by(world.user("gov_zhejiang"))) == {fund}
    assert not Fund.objects.kept_by(world.user("gov_jiangsu")).exists()
    assert not Fund.objects.kept_by(world.user("bank_staff")).exists()
    # The directory is public to signed-in users.
    assert set(Fund.objects.visible_to(world.user("ent_user"))) == {fund}
    with pytest.raises(NotAllowed):
        invest(world.user("bank_staff"), fund, world.ent, "10000000")


def test_investment_validation_by_field(world, fund):
    actor = world.user("fund_staff")
    cases = [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"invested_on": "2026-06-02"}, "invested_on"),  # after TODAY
        ({"invested_on": "2020-02-29"}, "invested_on"),  # before inception
        ({"invested_on": "2025-13-01"}, "invested_on"),
        ({"round": "z"}, "round"),
        ({"share_pct": "120"}, "share_pct"),
        ({"enterprise_uscc": "91330421000000000X"}, "enterprise"),
    ]
    for overrides, field in cases:
        data = {
            "enterprise_uscc": world.ent.uscc,
            "round": "a",
            "amount": "10000000",
            "invested_on": "2025-05-01",
            **overrides,
        }
        from chanrong.funds.services.investments import record_investment

        with pytest.raises(ValidationFailed) as caught:
            record_investment(actor, fund, data, today=TODAY)
        assert fields_of(caught.value) == {field}, overrides
    assert not FundInvestment.objects.exists()


def test_overrun_of_paid_in_size_is_refused(world, fund):
    actor = world.user("gov_jiashan")
    invest(actor, fund, world.ent, "60000000")
    invest(actor, fund, world.ent2, "40000000")  # exactly the paid-in size
    with pytest.raises(ValidationFailed) as caught:
        invest(actor, fund, world.ent, "0.01")
    assert fields_of(caught.value) == {"amount"}
    assert FundInvestment.objects.count() == 2
    # Paid-in cannot be lowered below what is invested either.
    with pytest.raises(ValidationFailed) as caught:
        fund_service.update_fund(actor, fund, {"paid_in_size": "99999999.99"}, today=TODAY)
    assert fields_of(caught.value) == {"paid_in_size"}


def test_investments_are_scoped(world, fund):
    inside = invest(world.user("fund_staff"), fund, world.ent, "10000000")
    outside = invest(world.user("fund_staff"), fund, world.ent_js, "10000000")  # 苏州
    seen = {name: set(FundInvestment.objects.visible_to(world.user(name))) for name in world.users}
    assert seen["fund_staff"] == seen["gov_jiashan"] == seen["admin"] == {inside, outside}
    assert seen["ent_user"] == {inside}
    assert seen["ent2_user"] == set()
    assert seen["bank_staff"] == set()
    # 江苏 sees the investment in its enterprise, not the rest of the fund's.
    assert seen["gov_jiangsu"] == {outside}
    by_user = stats.summarise(world.user("gov_jiangsu"), date(2025, 1, 1), TODAY)
    assert (by_user.count, by_user.amount) == (1, Decimal("10000000.00"))


def test_sources_on_hand_built_rows(world, fund_co, fund):
    actor = world.user("admin")
    Fund.objects.create(
        name="浙江省产业投资基金",
        kind="government",
        target_size=Decimal("5e9"),
        paid_in_size=Decimal("2e9"),
        manager=fund_co,
        region_id="330000",
        inception_date=date(2024, 1, 1),
    )
    Fund.objects.create(
        name="嘉善创投基金",
        kind="venture",
        target_size=Decimal("3e8"),
        paid_in_size=Decimal("1e8"),
        manager=fund_co,
        region_id=JIASHAN,
        inception_date=date(2018, 1, 1),
        closed_on=date(2023, 6, 30),
        status="closed",
    )
    invest(actor, fund, world.ent, "10000000", on="2024-03-01")
    invest(actor, fund, world.ent2, "20000000", on="2025-03-01")
    invest(actor, fund, world.ent_js, "30000000", on="2025-04-01")  # not in 嘉善
    keys = (
        "funds.equity_fund_count",
        "funds.equity_fund_size",
        "funds.government_fund_count",
        "funds.government_fund_size",
        "funds.equity_investment_amount",
    )
    assert all(get_source(k) is not None for k in keys)
    assert get_source("funds.equity_fund_size").money
    end = date(2025, 12, 31)
    assert sources.equity_fund_count(JIASHAN, None, end) == 1  # the venture fund was wound up
    assert sources.equity_fund_count(JIASHAN, None, date(2022, 12, 31)) == 2
    assert sources.equity_fund_count("33", None, end) == 2
    assert sources.equity_fund_size("33", None, end) == Decimal("2100000000.00")
    assert sources.government_fund_count("33", None, end) == 2
    assert sources.government_fund_size(JIASHAN, None, end) == Decimal("100000000.00")
    assert sources.equity_fund_count(JIASHAN, None, date(2019, 12, 31)) == 1
    amount = sources.equity_investment_amount
    assert amount(JIASHAN, date(2025, 1, 1), end) == Decimal("20000000.00")
    assert amount(JIASHAN, None, end) == Decimal("30000000.00")
    assert amount("", date(2025, 1, 1), end) == Decimal("50000000.00")


def _equity_demand(enterprise, amount, state=DemandState.PUBLISHED):
    return Demand.objects.create(
        enterprise=enterprise,
        kind=DemandKind.EQUITY,
        amount=Decimal(amount),
        term_months=60,
        purpose="A 轮股权融资",
        state=state,
    )


def test_matching_ranks_equity_demands_with_explanations(world, fund):
    from chanrong.registry.models import Enterprise

    Enterprise.objects.filter(pk=world.ent.pk).update(founded_on=date(2021, 1, 1))  # 成长期
    Enterprise.objects.filter(pk=world.ent2.pk).update(founded_on=date(2010, 1, 1))  # 成熟期
    small = _enterprise("嘉善智能装备有限公司", JIASHAN, "C34", 21)
    Enterprise.objects.filter(pk=small.pk).update(founded_on=date(2024, 6, 1))
    other = _enterprise("嘉善纺织有限公司", JIASHAN, "C17", 22)  # not a focus industry
    best = _equity_demand(world.ent, "40000000")
    second = _equity_demand(small, "8000000")
    _equity_demand(world.ent2, "20000000")  # mature and C26: out
    _equity_demand(other, "20000000")  # C17: out
    _equity_demand(world.ent_js, "20000000")  # 苏州: outside the fund's region
    _equity_demand(small, "1000000")  # below the ticket
    Demand.objects.create(
        enterprise=small,
        kind=DemandKind.DEBT,
        amount=Decimal("8000000"),
        term_months=12,
        purpose="流动资金",
        state=DemandState.PUBLISHED,
    )
    rows = matching.demands_for_fund(world.user("gov_jiashan"), fund, today=TODAY)
    assert [r.demand for r in rows] == [best, second]
    assert rows[0].score >= rows[1].score
    assert any("行业" in line for line in rows[0].fit)
    assert any("成长期" in line for line in rows[0].fit)
    assert any("初创期" in line for line in rows[1].fit)
    assert rows[0].reasons  # the engine's own reasons
    # Only for those who keep the fund.
    assert matching.demands_for_fund(world.user("bank_staff"), fund, today=TODAY) == []
    # The other direction: the demand's page lists the fund.
    fits = matching.funds_for_demand(best, today=TODAY)
    assert [f.fund for f in fits] == [fund]
    assert matching.funds_for_demand(Demand.objects.get(kind=DemandKind.DEBT), today=TODAY) == []


def test_matching_reads_no_facts_of_demands_outside_the_funds_region(world, fund, monkeypatch):
    """The fund's region is one of its conditions: demands from elsewhere are
    not read at all (issue 20), and the list is the one ranking them too gave."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from chanrong.matching import adapter

    best = _equity_demand(world.ent, "40000000")
    _equity_demand(world.ent_js, "20000000")  # 苏州: outside the fund's region
    user = world.user("admin")
    before = adapter.demand_table
    asked: list[int] = []

    def spy(demands, **kwargs):
        asked.extend(demands)
        return before(demands, **kwargs)

    monkeypatch.setattr(adapter, "demand_table", spy)
    with CaptureQueriesContext(connection) as few:
        rows = matching.demands_for_fund(user, fund, today=TODAY)
    for serial in range(30, 45):
        _equity_demand(_enterprise(f"苏州企业{serial}", "320508", "C34", serial), "9000000")
    with CaptureQueriesContext(connection) as many:
        again = matching.demands_for_fund(user, fund, today=TODAY)
    assert [r.demand for r in rows] == [r.demand for r in again] == [best]
    assert set(asked) == {best.pk}
    assert len(many) == len(few)
