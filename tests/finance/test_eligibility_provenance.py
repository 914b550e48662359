"""Eligibility and provenance (issue 15, finding 2): a qualification or a
revenue the enterprise only declared is "需核验" — neither passed nor failed,
and never counted as eligible for a hard requirement."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chanrong.finance import services as finance
from chanrong.finance.eligibility import EnterpriseFacts, ProductConditions, evaluate
from chanrong.finance.models import Product
from chanrong.registry import services as registry
from tests.demands.conftest import publish

HIGH_TECH = ProductConditions("credit", required_qualifications=("high_tech",))
REVENUE = ProductConditions("credit", min_revenue=Decimal(10_000_000))  # 1,000 万元


def facts(**overrides) -> EnterpriseFacts:
    return EnterpriseFacts(**{"region_code": "330421", "qualifications": frozenset(), **overrides})


def test_a_declared_qualification_needs_verification_and_is_not_eligible():
    result = evaluate(HIGH_TECH, facts(declared_qualifications=frozenset({"high_tech"})))
    assert result.failed == ()
    assert result.messages == ["需核验：高新技术企业（企业自报，待核验）"]
    assert (result.status, result.eligible, result.possible) == ("unknown", False, True)
    verified = evaluate(HIGH_TECH, facts(qualifications=frozenset({"high_tech"})))
    assert verified.eligible
    absent = evaluate(HIGH_TECH, facts())
    assert absent.messages == ["需具备资质：高新技术企业"] and not absent.possible


def test_lacking_one_and_declaring_another_reports_both():
    both = ProductConditions("credit", required_qualifications=("high_tech", "specialised_sme"))
    result = evaluate(both, facts(declared_qualifications=frozenset({"specialised_sme"})))
    assert result.messages == [
        "需具备资质：高新技术企业",
        "需核验：专精特新中小企业（企业自报，待核验）",
    ]


def test_a_declared_revenue_needs_verification_unless_it_fails_anyway():
    above = evaluate(REVENUE, facts(revenue=Decimal(35_000_000), revenue_verified=False))
    assert above.messages == ["需核验：营业收入（企业自报，待核验）"] and not above.eligible
    below = evaluate(REVENUE, facts(revenue=Decimal(5_000_000), revenue_verified=False))
    assert below.messages == ["需年营业收入不低于 1,000 万元，当前为 500 万元"]
    assert evaluate(REVENUE, facts(revenue=Decimal(35_000_000))).eligible


@pytest.mark.django_db
def test_the_issue_scenario_a_self_added_high_tech_does_not_make_the_product_eligible(world):
    """The issue: an enterprise added {"kind": "high_tech", "issuer": "我自己"}
    and products requiring 高新技术企业 flipped to eligible."""
    product = publish(
        world.user("bank_staff"), name="科创贷", required_qualifications=["high_tech"]
    )
    before = finance.evaluate_products(Product.objects.filter(pk=product.pk), world.ent)
    assert before[product.pk].messages == ["需具备资质：高新技术企业"]
    q = registry.add_qualification(
        world.user("ent_user"),
        world.ent,
        {"kind": "high_tech", "issuer": "我自己", "valid_from": "2025-01-01"},
    )
    declared = finance.evaluate_products(Product.objects.filter(pk=product.pk), world.ent)
    assert declared[product.pk].messages == ["需核验：高新技术企业（企业自报，待核验）"]
    assert not declared[product.pk].eligible
    registry.verify_qualification(world.user("gov_jiashan_staff"), q)
    verified = finance.evaluate_products(Product.objects.filter(pk=product.pk), world.ent)
    assert verified[product.pk].eligible


@pytest.mark.django_db
def test_a_self_declared_revenue_reads_needs_verification_until_the_agency_verifies(world):
    product = publish(world.user("bank_staff"), name="成长贷", min_revenue_wan=1000)
    registry.update_enterprise(world.user("ent_user"), world.ent, {"revenue_wan": "4200"})
    world.ent.refresh_from_db()
    result = finance.evaluate_products(Product.objects.filter(pk=product.pk), world.ent)
    assert result[product.pk].messages == ["需核验：营业收入（企业自报，待核验）"]
    registry.verify_figures(world.user("gov_jiashan"), world.ent)
    world.ent.refresh_from_db()
    result = finance.evaluate_products(Product.objects.filter(pk=product.pk), world.ent)
    assert result[product.pk].eligible
