"""碳效信贷: a product requiring a 碳效等级. The grade comes from the green
app through `finance.carbon` (finance never imports green); eligibility and
the matching engine agree: met, failed, or unknown (需补充) without a grade."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from chanrong.finance import carbon as finance_carbon
from chanrong.finance import eligibility as el
from chanrong.finance import services as finance_services
from chanrong.green.models import CarbonGrade
from chanrong.matching import engine
from chanrong.matching import features as F

TODAY = date(2026, 6, 1)


def test_condition_in_eligibility_and_engine_agree():
    products = [
        el.ProductConditions(product_kind="credit", max_carbon_grade=2),
        el.ProductConditions(product_kind="credit"),
    ]
    facts = [
        (el.EnterpriseFacts(region_code="330421", carbon_grade=g), None) for g in (1, 2, 3, None)
    ]
    table = F.ProductTable.from_conditions([1, 2], products)
    rows = F.FactTable.from_facts([1, 2, 3, 4], facts, today=TODAY)
    failed, unknown = engine.eligibility(table, rows)
    for r, (enterprise, _demand) in enumerate(facts):
        result = el.evaluate(products[0], enterprise, None, today=TODAY)
        assert bool(failed[r, 0] & F.FAIL["carbon_grade"]) == any(
            f.condition == "carbon_grade" for f in result.failed
        )
        assert bool(unknown[r, 0] & F.UNKNOWN["carbon_grade"]) == any(
            f.condition == "carbon_grade" for f in result.missing
        )
    assert list(failed[:, 0] != 0) == [False, False, True, False]
    assert list(unknown[:, 0] != 0) == [False, False, False, True]
    assert not failed[:, 1].any() and not unknown[:, 1].any()
    missing = el.evaluate(products[0], facts[3][0], None, today=TODAY).messages
    assert "需补充：碳效等级" in missing


@pytest.mark.django_db
def test_product_condition_reads_the_green_grade(world):
    CarbonGrade.objects.create(
        enterprise=world.ent, year=2024, grade=4, intensity="1.0", basis="province", division="C34"
    )
    CarbonGrade.objects.create(
        enterprise=world.ent, year=2025, grade=2, intensity="0.2", basis="province", division="C34"
    )
    assert finance_carbon.grades_for([world.ent.pk, world.ent2.pk]) == {
        world.ent.pk: 2,
        world.ent2.pk: None,
    }
    facts = finance_services.enterprise_facts(world.ent)
    assert facts.carbon_grade == 2
    strict = el.ProductConditions(product_kind="credit", max_carbon_grade=1)
    assert not el.evaluate(strict, facts, None, today=TODAY).eligible
    assert np.int8(2) == F.FactTable.from_facts([1], [(facts, None)], today=TODAY).carbon_grade[0]
