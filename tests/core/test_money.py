from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chanrong.core.money import AmountError, format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("350万元", Decimal("3500000.00")),
        ("350万", Decimal("3500000.00")),
        ("1.2亿元", Decimal("120000000.00")),
        ("1.2亿", Decimal("120000000.00")),
        ("３５０ 万元", Decimal("3500000.00")),
        ("１．５亿", Decimal("150000000.00")),
        ("1,200,000", Decimal("1200000.00")),
        ("1,200,000元", Decimal("1200000.00")),
        (" 88.5 ", Decimal("88.50")),
        ("-3万", Decimal("-30000.00")),
        ("", None),
        (None, None),
        (12, Decimal("12.00")),
        (0.1, Decimal("0.10")),
    ],
)
def test_parse_amount(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    "text", ["1,2", "12,34", "三百万", "1.2.3", "abc", "1e5", "NaN", "5美元", True]
)
def test_parse_amount_refuses_what_it_cannot_read(text):
    with pytest.raises(AmountError):
        parse_amount(text)


def test_bare_numbers_take_the_default_unit():
    assert parse_amount("350", default_unit="万元") == Decimal("3500000.00")
    assert parse_amount("350元", default_unit="万元") == Decimal("350.00")


@given(st.decimals(min_value=0, max_value=10**12, places=2))
def test_round_trip_in_wan(amount):
    text = f"{amount / 10000}万元"
    assert parse_amount(text) == amount.quantize(Decimal("0.01"))


def test_format_amount():
    assert format_amount(Decimal("3500000")) == "350.00 万元"
    assert format_amount(Decimal("120000000")) == "1.20 亿元"
    assert format_amount(Decimal("880")) == "880.00 元"
    assert format_amount(Decimal("123456789000"), unit="万元") == "12,345,678.90 万元"
    assert format_amount(None) == "—"
