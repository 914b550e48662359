"""The demo's yearly appropriations cover what the year's approvals need.

`chanrong demo --scale 10` stopped in the policy step: a year's approvals
(1,021,958.94 元) overran its 1,000,000 budget, because the rounding up to
the next million used the integer idiom `-(-x // m)`, which for Decimal
(`//` truncates toward zero) rounds down.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from chanrong.demo.builders.policy.history import appropriation


@pytest.mark.parametrize(
    ("need", "standard", "expected"),
    [
        (Decimal(0), 800_000, Decimal(800_000)),  # the standard sum when nothing is needed
        (Decimal("260869.56"), 800_000, Decimal(800_000)),  # 799,999.99: the standard covers it
        (Decimal("434782.60"), 800_000, Decimal(1_000_000)),  # 999,999.99 up to a million
        (Decimal("1021958.94"), 800_000, Decimal(2_000_000)),  # the overrun at scale 10
        (Decimal("869565.22"), 800_000, Decimal(2_000_000)),  # just over 1,500,000
        (Decimal("5000000"), 6_000_000, Decimal(7_000_000)),  # 6,250,000 up
    ],
)
def test_the_appropriation_is_rounded_up_and_covers_the_need(need, standard, expected):
    got = appropriation(need, standard)
    assert got == expected
    assert got >= need * Decimal("1.15") + 500_000 or got == standard
    assert got % 1_000_000 == 0 or got == standard
