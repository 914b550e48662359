"""Indicators that compute themselves: the loan-book and registry sources
against hand-computed rows (including balances at a past year end), the
catalogue's definitions, summed and second-measure sources, the refusal to
add a 时点 figure over time, and computed against reported figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Region
from chanrong.insights import catalogue, services
from chanrong.insights.models import IndicatorDefinition
from chanrong.insights.sources import get_source, register_source, unregister_source
from chanrong.registry.models import (
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListType,
    ListVersion,
    Qualification,
    QualificationKind,
    VersionStatus,
)
from chanrong.risk import sources as risk
from chanrong.risk.models import LoanAccount, LoanEvent, LoanStatus, Repayment

D = Decimal
JIASHAN = "330421"
END_2022 = date(2022, 12, 31)
END_2023 = date(2023, 12, 31)


def _loan(world, enterprise, principal, disbursed, maturity, **kw) -> LoanAccount:
    kw.setdefault("institution", world.bank)
    return LoanAccount.objects.create(
        enterprise=enterprise,
        source="reported",
        principal=D(principal),
        outstanding=D(principal),
        disbursed_on=disbursed,
        maturity_on=maturity,
        **kw,
    )


def _repay(loan, on, principal):
    Repayment.objects.create(loan=loan, paid_on=on, principal=D(principal))
    LoanAccount.objects.filter(pk=loan.pk).update(
        repaid_principal=loan.repaid_principal + D(principal),
        outstanding=loan.outstanding - D(principal),
    )
    loan.refresh_from_db()


@pytest.fixture
def book(world):
    """ent (C34, small) and ent2 (C26, medium) in 嘉善, ent_js (C39) in 苏州."""
    world.ent.__class__.objects.filter(pk=world.ent.pk).update(size="small")
    world.ent.__class__.objects.filter(pk=world.ent2.pk).update(size="medium")
    # a: 2 years, 8,000,000, 3,000,000 repaid in 2023 -> 2022 end 8 M, 2023 end 5 M
    a = _loan(world, world.ent, 8_000_000, date(2022, 3, 1), date(2024, 3, 1), rate=D("4.00"))
    _repay(a, date(2023, 6, 30), 3_000_000)
    # b: 1 year exactly (not long-term), 4,000,000, renewed on 2023-05-10 -> on the
    # book at 2022 end only; the renewal (c) carries it on.
    b = _loan(
        world, world.ent, 4_000_000, date(2022, 5, 10), date(2023, 5, 10), rate=D("5.00"),
        status=LoanStatus.RENEWED, closed_on=date(2023, 5, 10),
    )  # fmt: skip
    c = _loan(
        world, world.ent, 4_000_000, date(2023, 5, 10), date(2024, 5, 10), rate=D("4.50"),
        renewed_from=b,
    )  # fmt: skip
    # d: ent2 (medium), 6,000,000, classed 次级 in 2023; written off in 2024
    d = _loan(
        world, world.ent2, 6_000_000, date(2022, 1, 5), date(2025, 1, 5), rate=D("6.00"),
        institution=world.bank2, status=LoanStatus.WRITTEN_OFF, closed_on=date(2024, 2, 1),
        classification="loss",
    )  # fmt: skip
    LoanEvent.objects.create(
        loan=d, kind="opened", on=date(2022, 1, 5), classification="normal", outstanding=d.principal
    )
    LoanEvent.objects.create(
        loan=d, kind="status", on=date(2023, 9, 1), classification="substandard",
        previous_classification="normal", outstanding=d.principal,
    )  # fmt: skip
    # e: outside 嘉善 (苏州), never counted for 嘉善
    _loan(world, world.ent_js, 9_000_000, date(2022, 1, 1), date(2026, 1, 1), rate=D("3.00"))
    return {"a": a, "b": b, "c": c, "d": d}


def test_loan_book_balances_at_past_year_ends(world, book):
    # 2022 end: a 8 M + b 4 M + d 6 M (all C)
    assert risk.manufacturing_balance(JIASHAN, None, END_2022) == D(18_000_000)
    # 2023 end: a 5 M + c 4 M + d 6 M; b left the book when renewed
    assert risk.manufacturing_balance(JIASHAN, None, END_2023) == D(15_000_000)
    # after d's write-off
    assert risk.manufacturing_balance(JIASHAN, None, date(2024, 2, 1)) == D(9_000_000)
    # long-term (over one year): a, d (b and c are exactly one year)
    assert risk.manufacturing_long_term(JIASHAN, None, END_2022) == D(14_000_000)
    # the province adds 苏州? no: 苏州 is Jiangsu; Zhejiang equals 嘉善 here
    assert risk.manufacturing_balance("33", None, END_2022) == D(18_000_000)
    assert risk.manufacturing_balance("", None, END_2022) == D(27_000_000)
    by_region = risk.manufacturing_balance_by_region("", None, END_2022)
    assert by_region[JIASHAN] == D(18_000_000) and sum(by_region.values()) == D(27_000_000)


def test_inclusive_sme_balance_and_rate(world, book):
    # ent is small; its 授信 at bank at 2022 end: a 8 M + b 4 M = 12 M > 10 M -> none
    assert risk.inclusive_balance(JIASHAN, None, END_2022) == D(0)
    # 2023 end: a 5 M? no — 授信 counts principal: a 8 M + c 4 M = 12 M -> none
    assert risk.inclusive_balance(JIASHAN, None, END_2023) == D(0)
    # after a's maturity-free settlement? drop a's principal below the limit:
    LoanAccount.objects.filter(pk=book["a"].pk).update(
        principal=D(5_000_000), repaid_principal=D(0), outstanding=D(5_000_000)
    )
    Repayment.objects.filter(loan=book["a"]).delete()
    # 2022 end: a 5 M + b 4 M = 9 M <= 10 M -> both count
    assert risk.inclusive_balance(JIASHAN, None, END_2022) == D(9_000_000)
    # rate of 2022 disbursements: a (at its date 授信 5 M) and b (5 + 4 = 9 M): weighted
    expected = (D(5_000_000) * D("4.00") + D(4_000_000) * D("5.00")) / D(9_000_000)
    assert risk.inclusive_rate(JIASHAN, date(2022, 1, 1), END_2022) == expected
    # ent2 is medium: its loan never counts; no 2021 loans: no rate
    assert risk.inclusive_rate(JIASHAN, date(2021, 1, 1), date(2021, 12, 31)) is None


def test_npl_ratio_uses_the_class_at_the_date(world, book):
    assert risk.npl_ratio(JIASHAN, None, END_2022) == D(0)
    # 2023 end: d (6 M) is 次级 of 15 M
    assert risk.npl_ratio(JIASHAN, None, END_2023) == D(6_000_000) / D(15_000_000) * 100


def test_green_credit_follows_the_green_list_in_force(world, book):
    green = EnterpriseList.objects.create(
        list_type=ListType.GREEN, name="绿色库", agency=world.gov_jiashan, region_id=JIASHAN
    )
    version = ListVersion.objects.create(list=green, number=1)
    ListEntry.objects.create(version=version, enterprise=world.ent, change=EntryChange.ADDED)
    ListVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.PUBLISHED, effective_from=date(2023, 1, 1)
    )
    assert risk.green_balance(JIASHAN, None, END_2022) == D(0)  # not yet in force
    assert risk.green_balance(JIASHAN, None, END_2023) == D(9_000_000)  # a 5 M + c 4 M


def test_high_tech_counts_verified_certificates_valid_at_the_date(world):
    from chanrong.insights.services.registry_sources import high_tech_count

    def cert(ent, start, until, status="verified"):
        Qualification.objects.create(
            enterprise=ent, kind=QualificationKind.HIGH_TECH, issuer="浙江省科技厅",
            valid_from=start, valid_until=until, status=status,
        )  # fmt: skip

    cert(world.ent, date(2020, 12, 1), date(2023, 11, 30))
    cert(world.ent, date(2022, 6, 1), date(2025, 5, 31))  # overlapping: counts once
    cert(world.ent2, date(2023, 12, 1), date(2026, 11, 30), status="declared")
    cert(world.ent_js, date(2021, 1, 1), None)
    assert high_tech_count(JIASHAN, None, END_2022) == 1
    assert high_tech_count(JIASHAN, None, date(2019, 12, 31)) == 0
    assert high_tech_count("", None, END_2022) == 2


def test_catalogue_definitions_and_sources(db):
    defs = {d.code: d for d in IndicatorDefinition.objects.all()}
    assert all(d.definition for d in defs.values())
    assert "时点" in defs["manufacturing-loans"].definition
    assert defs["direct-financing"].added_sources == [catalogue.SOURCE_IPO_PROCEEDS]
    assert defs["equity-funds"].second_source == catalogue.SOURCE_EQUITY_FUND_SIZE
    assert defs["npl-ratio"].source == catalogue.SOURCE_NPL_RATIO
    assert not defs["gdp"].source and "填报" in defs["gdp"].definition
    for e in [*catalogue.STANDARD, *catalogue.PLATFORM]:
        services.check_definition(
            kind=e.kind, unit=e.unit, source=e.source, added_sources=e.added_sources,
            second_source=e.second_source, second_kind=e.second_kind,
        )  # fmt: skip


@pytest.fixture
def fake_sources():
    """Stand-ins for the listing and funds apps' sources (another app's tables)."""
    keys = {
        "test.flow_a": (lambda p, s, e: D(300_000_000), "period", True),
        "test.flow_b": (lambda p, s, e: D(200_000_000), "period", True),
        "test.level": (lambda p, s, e: D(7), "stock", False),
        "test.size": (lambda p, s, e: D(150_000_000), "stock", True),
    }
    for key, (fn, kind, money) in keys.items():
        register_source(key, fn, kind=kind, money=money, replace=True)
    yield
    for key in keys:
        unregister_source(key)


def test_summed_and_second_measure_sources(world, fake_sources):
    admin = world.user("admin")
    jiashan = Region.objects.get(code=JIASHAN)
    direct = IndicatorDefinition.objects.get(code="direct-financing")
    services.set_sources(admin, direct, source="test.flow_a", added_sources=["test.flow_b"])
    value = services.indicator_value(direct, jiashan, date(2023, 1, 1), END_2023)
    assert value.computed and value.value == D(5)  # 3 + 2 亿元
    funds = IndicatorDefinition.objects.get(code="equity-funds")
    services.set_sources(admin, funds, source="test.level", second_source="test.size")
    value = services.indicator_value(funds, jiashan, date(2023, 1, 1), END_2023)
    assert value.value == D(7) and value.second == D("1.5")  # 支, 亿元


def test_a_stock_is_never_added_over_time(world, fake_sources):
    admin = world.user("admin")
    jiashan = Region.objects.get(code=JIASHAN)
    direct = IndicatorDefinition.objects.get(code="direct-financing")  # 时期
    with pytest.raises(ValidationFailed) as exc:
        services.set_sources(admin, direct, source="test.flow_a", added_sources=["test.level"])
    assert {e.field for e in exc.value.errors} == {"added_sources"}
    with pytest.raises(ValidationFailed) as exc:
        services.check_definition(kind="period", unit="亿元", source="test.size")
    assert exc.value.errors[0].field == "source"
    loans = IndicatorDefinition.objects.get(code="manufacturing-loans")  # 时点
    with pytest.raises(ValidationFailed) as exc:
        services.aggregate_over_time(loans, jiashan, date(2021, 1, 1), END_2023, how="sum")
    assert exc.value.errors[0].field == "aggregate"
    # the ordinary reading takes the level at the end
    assert services.aggregate_over_time(loans, jiashan, date(2021, 1, 1), END_2023).computed


def test_api_refuses_summing_a_stock_by_field(world):
    client = Client()
    client.force_login(world.user("gov_jiashan"))
    url = "/api/v1/indicators/manufacturing-loans/value"
    query = {"region": JIASHAN, "start": "2021-01-01", "end": "2023-12-31"}
    response = client.get(url, {**query, "aggregate": "sum"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "aggregate"
    response = client.get(url, query)
    assert response.status_code == 200 and response.json()["computed"]


def test_computed_compared_with_reported(world, book):
    gov = world.user("gov_jiashan")
    jiashan = Region.objects.get(code=JIASHAN)
    loans = IndicatorDefinition.objects.get(code="manufacturing-loans")
    with pytest.raises(ValidationFailed) as exc:
        services.record_comparison(gov, region=jiashan, definition=loans, year=2022, value="1")
    assert exc.value.errors[0].field == "source_body"
    services.record_comparison(
        gov, region=jiashan, definition=loans, year=2022, value="0.2",
        source_body="人民银行嘉善县支行", source_document="嘉善县金融运行简报2022年第12期",
        source_date=date(2023, 1, 20), note="人行口径含平台外全部贷款",
    )  # fmt: skip
    rows = {r.definition.code: r for r in services.comparisons(jiashan, 2022)}
    row = rows["manufacturing-loans"]
    assert row.computed == D("0.18") and row.computed_then == D("0.18")
    assert row.reported == D("0.2") and row.difference == D("-0.02")
    assert row.note == "人行口径含平台外全部贷款" and row.source_body == "人民银行嘉善县支行"
    # the table still shows the computed figure
    assert services.indicator_value(loans, jiashan, date(2022, 1, 1), END_2022).value == D("0.18")
    # a reported-only indicator is compared nowhere: report it directly instead
    gdp = IndicatorDefinition.objects.get(code="gdp")
    with pytest.raises(ValidationFailed) as exc:
        services.record_comparison(
            gov, region=jiashan, definition=gdp, year=2022, value="1", source_body="统计局"
        )
    assert exc.value.errors[0].field == "definition"
    assert get_source(catalogue.SOURCE_MANUFACTURING_LOANS) is not None


def test_county_table_agrees_with_one_region_at_a_time(world, book):
    from chanrong.insights.services.regional import county_table

    zhejiang = Region.objects.get(code="330000")
    jiashan = Region.objects.get(code=JIASHAN)
    definitions = list(
        IndicatorDefinition.objects.filter(code__in=["manufacturing-loans", "npl-ratio", "gdp"])
    )
    table = county_table(zhejiang, [2023], definitions)
    assert "320508" not in table  # 苏州 is not under 浙江
    for d in definitions:
        one = services.indicator_value(d, jiashan, date(2023, 1, 1), END_2023)
        assert table[JIASHAN][d.code][2023] == (one.value, one.second), d.code
    assert table[JIASHAN]["manufacturing-loans"][2023] == (D("0.15"), D("-16.67"))
