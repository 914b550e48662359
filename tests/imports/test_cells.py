"""Cell parsing: what clerks type, read as values or refused with a reason."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from chanrong.core.importing.cells import (
    Amount,
    Boolean,
    CellError,
    Choice,
    Code,
    Integer,
    Text,
    Uscc,
    parse_date,
)


@pytest.mark.parametrize(
    "raw",
    [
        "2023-1-5",
        "2023-01-05",
        "2023/01/05",
        "2023/1/5",
        "2023.1.5",
        "2023年1月5日",
        "2023 年 1 月 5 日",
        "２０２３年１月５日",
        "20230105",
        20230105,
        44931,
        44931.0,
        "2023-01-05 00:00:00",
        date(2023, 1, 5),
        datetime(2023, 1, 5, 14, 30),
    ],
)
def test_dates_as_people_write_them(raw):
    assert parse_date(raw) == date(2023, 1, 5)


@pytest.mark.parametrize("raw", ["2023-02-30", "2023年13月1日", "5 Jan 2023", "去年", "20231305"])
def test_bad_dates_are_refused_with_the_value(raw):
    with pytest.raises(CellError) as exc:
        parse_date(raw)
    assert "日期" in str(exc.value)


@pytest.mark.parametrize(
    "raw, wan",
    [
        ("350", Decimal("350")),
        (350, Decimal("350")),
        (350.5, Decimal("350.5")),
        ("350万元", Decimal("350")),
        ("350 万", Decimal("350")),
        ("1.2亿元", Decimal("12000")),
        ("1.2亿", Decimal("12000")),
        ("３５０万元", Decimal("350")),
        (" 1,200 ", Decimal("1200")),
        ("12000000元", Decimal("1200")),
    ],
)
def test_amounts_in_wan(raw, wan):
    assert Amount().parse(raw) == wan


def test_amount_unit_from_the_header():
    assert Amount().with_header_unit("亿元").parse("1.5") == Decimal("15000")
    assert Amount().with_header_unit("元").parse("15000") == Decimal("1.5")
    assert Amount().with_header_unit("万元").parse("1.5亿") == Decimal("15000")


@pytest.mark.parametrize("raw", ["一百万", "1,2", "12美元", "abc"])
def test_bad_amounts(raw):
    with pytest.raises(CellError):
        Amount().parse(raw)


def test_blank_cells_are_none():
    for parser in (Amount(), Integer(), Text(), Code(), Uscc(), Boolean()):
        assert parser.parse(None) is None
        assert parser.parse("") is None
        assert parser.parse("  \u3000 ") is None


def test_text_loses_stray_spaces_but_keeps_full_width_brackets():
    assert Text().parse("  嘉善  示例（中国）有限公司\u3000") == "嘉善 示例（中国）有限公司"
    assert Text().parse(13800000000.0) == "13800000000"


def test_codes_are_half_width_and_whole_numbers():
    assert Code().parse("３３０４２１") == "330421"
    assert Code().parse(330421.0) == "330421"
    assert Code().parse(" 330 421 ") == "330421"
    with pytest.raises(CellError, match="科学计数法"):
        Code().parse("3.30421E+5")


def test_uscc_normalised_or_refused_when_excel_rounded_it():
    assert Uscc().parse(" ９１３３０４２１ma2d00001a ") == "913304 21MA2D00001A".replace(" ", "")
    with pytest.raises(CellError, match="存成了数字"):
        Uscc().parse(9.133042112345678e16)
    with pytest.raises(CellError, match="科学计数法"):
        Uscc().parse("9.13304E+17")


def test_integers():
    assert Integer().parse("1,200") == 1200
    assert Integer(suffixes=("人",)).parse("120人") == 120
    assert Integer().parse(12.0) == 12
    with pytest.raises(CellError, match="小数"):
        Integer().parse("12.5")


def test_choices_by_label_code_or_alias():
    choice = Choice(choices=(("a", "甲类"), ("b", "乙类")), aliases={"第二类": "b"})
    assert choice.parse("甲类") == "a"
    assert choice.parse(" b ") == "b"
    assert choice.parse("第二类") == "b"
    with pytest.raises(CellError, match="甲类、乙类"):
        choice.parse("丙类")


def test_booleans():
    parser = Boolean(true_words=("规上",))
    assert parser.parse("是") is True
    assert parser.parse("规上") is True
    assert parser.parse("否") is False
    assert parser.parse(True) is True
    with pytest.raises(CellError):
        parser.parse("也许")
