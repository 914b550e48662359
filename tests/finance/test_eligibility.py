"""The pure eligibility function: every failed condition named, unknown facts asked for."""

from datetime import date
from decimal import Decimal

from chanrong.finance.eligibility import (
    Area,
    DemandFacts,
    EnterpriseFacts,
    IndustryRef,
    ProductConditions,
    evaluate,
    wan,
)

WAN = Decimal(10000)
TODAY = date(2026, 6, 1)


def facts(**overrides) -> EnterpriseFacts:
    values = dict(
        region_code="330421",
        region_name="嘉善县",
        industry_code="C34",
        industry_name="通用设备制造业",
        size="small",
        revenue=Decimal(3500) * WAN,
        founded_on=date(2015, 3, 1),
        tax_grade="A",
        qualifications=frozenset({"high_tech"}),
        lists=frozenset({"white_list"}),
        blacklisted=False,
    )
    values.update(overrides)
    return EnterpriseFacts(**values)


def test_no_conditions_means_eligible():
    result = evaluate(ProductConditions("credit"), facts(), today=TODAY)
    assert result.eligible and result.status == "eligible" and result.messages == []


def test_tax_grade_message_names_required_and_current():
    result = evaluate(
        ProductConditions("tax", min_tax_grade="A"), facts(tax_grade="B"), today=TODAY
    )
    assert result.status == "ineligible"
    assert result.messages == ["需纳税信用等级 A 级，当前为 B 级"]


def test_tax_grade_order_puts_m_between_b_and_c():
    conditions = ProductConditions("tax", min_tax_grade="B")
    assert evaluate(conditions, facts(tax_grade="A"), today=TODAY).eligible
    assert not evaluate(conditions, facts(tax_grade="M"), today=TODAY).possible
    conditions = ProductConditions("tax", min_tax_grade="M")
    assert evaluate(conditions, facts(tax_grade="B"), today=TODAY).eligible
    assert not evaluate(conditions, facts(tax_grade="C"), today=TODAY).possible


def test_amount_ceiling_message():
    conditions = ProductConditions("credit", amount_min=10 * WAN, amount_max=500 * WAN)
    result = evaluate(conditions, facts(), DemandFacts(amount=800 * WAN), today=TODAY)
    assert result.messages == ["额度上限 500 万元，需求 800 万元"]
    result = evaluate(conditions, facts(), DemandFacts(amount=5 * WAN), today=TODAY)
    assert result.messages == ["额度下限 10 万元，需求 5 万元"]


def test_missing_fact_is_unknown_not_zero():
    conditions = ProductConditions("credit", min_revenue=Decimal(100) * WAN, min_tax_grade="B")
    result = evaluate(conditions, facts(revenue=None, tax_grade=None), today=TODAY)
    assert result.status == "unknown"
    assert result.possible and not result.eligible
    assert result.messages == ["需补充：纳税信用等级", "需补充：营业收入"]
    assert [f.condition for f in result.missing] == ["tax_grade", "revenue"]


def test_every_failed_condition_is_reported():
    conditions = ProductConditions(
        "tech",
        amount_max=100 * WAN,
        term_max=12,
        regions=(Area("320000", "32", "江苏省"),),
        industries_in=(IndustryRef("I", "信息传输、软件和信息技术服务业"),),
        sizes=("micro",),
        required_qualifications=("tech_sme",),
        required_lists=("red_list",),
        min_years=20,
        min_revenue=Decimal(5000) * WAN,
        rate_min=Decimal("4.5"),
        collateral_required=True,
        collateral_options=("ip",),
    )
    demand = DemandFacts(
        kind="equity",
        amount=200 * WAN,
        term_months=24,
        rate_max=Decimal("3.5"),
        collateral_offered=("real_estate",),
    )
    result = evaluate(conditions, facts(blacklisted=True), demand, today=TODAY)
    names = [f.condition for f in result.failed]
    assert names == [
        "regions",
        "industries_in",
        "sizes",
        "qualifications",
        "lists",
        "min_years",
        "min_revenue",
        "kind",
        "amount_max",
        "term_max",
        "rate",
        "collateral",
    ]
    messages = dict(zip(names, [f.message for f in result.failed], strict=True))
    assert messages["regions"] == "仅限江苏省的企业，企业所在地为嘉善县"
    assert messages["sizes"] == "仅限微型企业，当前为小型企业"
    assert messages["min_years"] == "需成立满 20 年，当前成立 11 年"
    assert messages["kind"] == "该产品不受理股权融资需求"
    assert messages["rate"] == "年利率最低 4.50%，可接受利率上限 3.50%"
    assert messages["collateral"] == "需提供抵质押物：知识产权"


def test_blacklist_and_industry_exclusion():
    conditions = ProductConditions(
        "credit", exclude_blacklisted=True, industries_out=(IndustryRef("C34", "通用设备制造业"),)
    )
    result = evaluate(conditions, facts(blacklisted=True), today=TODAY)
    assert result.messages == ["不支持以下行业：C34 通用设备制造业", "列入失信黑名单的企业不予受理"]
    result = evaluate(
        ProductConditions("credit", exclude_blacklisted=True), facts(blacklisted=None), today=TODAY
    )
    assert result.messages == ["需补充：是否列入失信黑名单"]


def test_region_prefix_covers_the_subtree():
    conditions = ProductConditions("credit", regions=(Area("330400", "3304", "嘉兴市"),))
    assert evaluate(conditions, facts(region_code="330421"), today=TODAY).eligible
    assert not evaluate(conditions, facts(region_code="330104"), today=TODAY).possible


def test_years_count_whole_years():
    conditions = ProductConditions("credit", min_years=3)
    assert evaluate(conditions, facts(founded_on=date(2023, 6, 1)), today=TODAY).eligible
    assert not evaluate(conditions, facts(founded_on=date(2023, 6, 2)), today=TODAY).possible


def test_demand_facts_not_stated_are_not_checked():
    conditions = ProductConditions("credit", amount_max=WAN, collateral_required=True)
    result = evaluate(conditions, facts(), DemandFacts(), today=TODAY)
    assert result.messages == ["需补充：可提供的抵质押物"]


def test_wan_formatting():
    assert wan(Decimal("8000000")) == "800 万元"
    assert wan(Decimal("12505000")) == "1,250.5 万元"


def test_verdicts_without_explanations_are_the_same():
    conditions = ProductConditions(
        "credit", amount_max=100 * WAN, min_tax_grade="A", sizes=("micro",), min_years=2
    )
    for enterprise in (facts(), facts(tax_grade=None), facts(size="micro")):
        for demand in (None, DemandFacts(amount=50 * WAN), DemandFacts(amount=500 * WAN)):
            full = evaluate(conditions, enterprise, demand, today=TODAY)
            quick = evaluate(conditions, enterprise, demand, today=TODAY, explain=False)
            assert (quick.status, [f.condition for f in quick.failed]) == (
                full.status,
                [f.condition for f in full.failed],
            )
