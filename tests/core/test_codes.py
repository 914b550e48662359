"""USCC validation (GB 32100-2015) and enterprise size (工信部联企业〔2011〕300号).

The size tables below are transcribed from the standard's article 4, not
from codes.SIZE_RULES, so a typo in either shows up as a failure.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from chanrong.core.codes import (
    SIZE_RULES,
    USCC_ALPHABET,
    USCC_CATEGORIES,
    CodeError,
    classify_size,
    make_uscc,
    normalise_uscc,
    size_exclusion,
    size_group,
    validate_uscc,
)

# --- USCC -------------------------------------------------------------------

# Published examples (python-stdnum's doctest; a 市场监管 enterprise code).
KNOWN_VALID = ["91110000600037341L"]


def _error(value: str) -> str:
    with pytest.raises(CodeError) as info:
        validate_uscc(value)
    return str(info.value)


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_codes_are_valid(code):
    assert validate_uscc(code) == code
    assert stdnum_uscc.is_valid(code)


@pytest.mark.parametrize(
    "authority, category",
    [(a, c) for a, categories in USCC_CATEGORIES.items() for c in categories],
)
def test_every_authority_and_category_pair_is_accepted(authority, category):
    code = make_uscc(f"{authority}{category}330421MA2B3C4D5")
    assert validate_uscc(code) == code


uscc_bodies = st.builds(
    lambda pair, region, body: pair + region + body,
    st.sampled_from([a + c for a, cs in USCC_CATEGORIES.items() for c in cs]),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
)


@given(uscc_bodies)
def test_generated_codes_are_valid_and_agree_with_stdnum(body):
    code = make_uscc(body)
    assert validate_uscc(code) == code
    if code[0].isdigit():
        # python-stdnum 2.2 accepts only a digit in position 1; where it can
        # judge, it agrees.
        assert stdnum_uscc.is_valid(code)


@given(uscc_bodies, st.sampled_from(USCC_ALPHABET))
def test_any_wrong_check_digit_is_named(body, wrong):
    code = make_uscc(body)
    if wrong == code[17]:
        return
    message = _error(code[:17] + wrong)
    assert message == (f"统一社会信用代码校验码错误：第 18 位应为 {code[17]}，当前为 {wrong}")


def test_empty():
    assert _error("") == "统一社会信用代码不能为空"
    assert _error("   ") == "统一社会信用代码不能为空"
    assert _error(None) == "统一社会信用代码不能为空"


@pytest.mark.parametrize(
    "value, length",
    [("91330421MA2B3C4D5", 17), ("91330421MA2B3C4D5XX", 19), ("12345", 5)],
)
def test_wrong_length(value, length):
    assert _error(value) == f"统一社会信用代码应为 18 位，当前为 {length} 位"


@pytest.mark.parametrize(
    "value, chars",
    [
        ("91330421MA2B3C4DI5", "I"),
        ("91330421MA2BOC4DZ5", "O、Z"),
        ("91330421MA2BSC4DV5", "S、V"),
        ("91330421MA2B3C4D*5", "*"),
        ("91330421MA2B3C4D中5", "中"),
    ],
)
def test_characters_outside_the_alphabet_are_listed(value, chars):
    assert _error(value) == (
        f"统一社会信用代码含有不允许的字符：{chars}"
        "（只能使用数字和大写英文字母，不使用 I、O、Z、S、V）"
    )


@pytest.mark.parametrize("authority", ["0", "B", "C", "M", "X"])
def test_unknown_registration_authority(authority):
    value = make_uscc(f"{authority}1330421MA2B3C4D5")
    assert _error(value) == (
        f"统一社会信用代码第 1 位（登记管理部门代码）{authority} 无效，应为 1–9、A、N 或 Y 之一"
    )


@pytest.mark.parametrize(
    "prefix, message",
    [
        ("94", "登记管理部门 9（市场监管（原工商））的机构类别应为 1、2、3"),
        ("99", "登记管理部门 9（市场监管（原工商））的机构类别应为 1、2、3"),
        ("14", "登记管理部门 1（机构编制）的机构类别应为 1、2、3、9"),
        ("53", None),  # 基金会: valid, here to keep the table honest
        ("Y2", "登记管理部门 Y（其他）的机构类别应为 1"),
        ("NA", "登记管理部门 N（农业）的机构类别应为 1、2、3、9"),
        ("A3", "登记管理部门 A（中央军委改革和编制办公室）的机构类别应为 1、9"),
    ],
)
def test_category_must_belong_to_the_authority(prefix, message):
    value = make_uscc(f"{prefix}330421MA2B3C4D5")
    if message is None:
        assert validate_uscc(value) == value
        return
    assert _error(value) == f"统一社会信用代码第 2 位（机构类别代码）{prefix[1]} 无效：{message}"


@pytest.mark.parametrize("region", ["3304A1", "ABCDEF", "33042X"])
def test_region_code_must_be_six_digits(region):
    value = make_uscc(f"91{region}MA2B3C4D5")
    assert _error(value) == (
        f"统一社会信用代码第 3–8 位（登记管理机关行政区划码）应为 6 位数字，当前为 {region}"
    )


def test_stdnum_rejects_letter_authorities_that_we_accept():
    """Why validate_uscc does not call stdnum's validate(): 村级集体经济组织
    codes start with N2 and are real."""
    code = make_uscc("N2330421MA2B3C4D5")
    assert validate_uscc(code) == code
    assert not stdnum_uscc.is_valid(code)


def test_failures_are_reported_in_reading_order():
    # Bad authority *and* bad check digit: the authority is named first.
    assert "第 1 位" in _error("B1330421MA2B3C4D50")
    # Bad region *and* bad check digit: the region is named first.
    assert "第 3–8 位" in _error("9133A421MA2B3C4D50")


VALID = make_uscc("91330421MA2B3C4D5")


@pytest.mark.parametrize(
    "typed",
    [
        VALID,
        VALID.lower(),
        f"  {VALID}  ",
        " ".join([VALID[:2], VALID[2:8], VALID[8:17], VALID[17]]),
        f"{VALID[:8]}-{VALID[8:]}",
        "\u3000" + VALID + "\t\n",
        # Full-width ０-９, Ａ-Ｚ and ａ-ｚ, as IMEs type them.
        "".join(chr(ord(c) + 0xFEE0) for c in VALID),
        "".join(chr(ord(c) + 0xFEE0) for c in VALID.lower()),
        "９１３３０４２１" + VALID[8:],
    ],
)
def test_normalisation(typed):
    assert normalise_uscc(typed) == VALID
    assert validate_uscc(typed) == VALID


@given(
    uscc_bodies,
    st.lists(st.sampled_from(["plain", "lower", "full", "space", "hyphen"]), min_size=18),
)
def test_any_mix_of_typing_habits_normalises(body, habits):
    code = make_uscc(body)
    typed = ""
    for ch, habit in zip(code, habits, strict=False):
        if habit == "lower":
            typed += ch.lower()
        elif habit == "full":
            typed += chr(ord(ch) + 0xFEE0)
        elif habit == "space":
            typed += ch + " "
        elif habit == "hyphen":
            typed += "-" + ch
        else:
            typed += ch
    assert validate_uscc(typed) == code


@given(st.text(max_size=40))
def test_any_text_is_either_valid_or_a_code_error(text):
    try:
        code = validate_uscc(text)
    except CodeError as exc:
        assert str(exc).startswith("统一社会信用代码")
    else:
        assert len(code) == 18 and set(code) <= set(USCC_ALPHABET)


def test_make_uscc_needs_seventeen_characters():
    with pytest.raises(ValueError):
        make_uscc("91330421")


def test_code_error_is_a_value_error():
    assert issubclass(CodeError, ValueError)


# --- enterprise size: industry groups ----------------------------------------------


@pytest.mark.parametrize(
    "code, group",
    [
        # 农、林、牧、渔业: the whole section, 专业及辅助性活动 included.
        ("A01", "农、林、牧、渔业"),
        ("A04", "农、林、牧、渔业"),
        ("A05", "农、林、牧、渔业"),
        # 工业 = 采矿业 + 制造业 + 电力、热力、燃气及水, whole sections.
        ("B06", "工业"),
        ("B11", "工业"),
        ("C13", "工业"),
        ("C39", "工业"),
        ("C43", "工业"),
        ("D44", "工业"),
        ("D46", "工业"),
        ("E47", "建筑业"),
        ("E50", "建筑业"),
        ("F51", "批发业"),
        ("F52", "零售业"),
        # 交通运输业 = G54-G58 and 装卸搬运 G591; not 铁路 G53.
        ("G54", "交通运输业"),
        ("G55", "交通运输业"),
        ("G56", "交通运输业"),
        ("G57", "交通运输业"),
        ("G58", "交通运输业"),
        ("G591", "交通运输业"),
        ("G5910", "交通运输业"),
        # 仓储业 = G592-G599.
        ("G592", "仓储业"),
        ("G593", "仓储业"),
        ("G594", "仓储业"),
        ("G595", "仓储业"),
        ("G596", "仓储业"),
        ("G599", "仓储业"),
        ("G60", "邮政业"),
        ("H61", "住宿业"),
        ("H62", "餐饮业"),
        ("I63", "信息传输业"),
        ("I64", "信息传输业"),
        ("I65", "软件和信息技术服务业"),
        ("K701", "房地产开发经营"),
        ("K702", "物业管理"),
        ("K703", "其他未列明行业"),
        ("K709", "其他未列明行业"),
        ("L71", "租赁和商务服务业"),
        ("L72", "租赁和商务服务业"),
        ("M73", "其他未列明行业"),
        ("M75", "其他未列明行业"),
        ("N77", "其他未列明行业"),
        ("O80", "其他未列明行业"),
        ("O81", "其他未列明行业"),
        ("Q85", "其他未列明行业"),
        ("R86", "其他未列明行业"),
        ("R90", "其他未列明行业"),
        # Sections that fall in one group, and input as users type it.
        ("C", "工业"),
        ("L", "租赁和商务服务业"),
        (" c39 ", "工业"),
        ("k701", "房地产开发经营"),
    ],
)
def test_size_group(code, group):
    assert size_group(code) == group


@pytest.mark.parametrize(
    "code",
    [
        # Not covered by the standard.
        "J",
        "J66",
        "J69",
        "G53",
        "K704",
        "P83",
        "Q84",
        "S92",
        "T97",
        # Spans groups: the caller has to say which group.
        "G59",
        "K70",
        "G",
        "F",
        "H",
        "I",
        "K",
        "Q",
        # Not a code.
        "",
        None,
        "Z01",
        "C3",
        "C391234",
        "39",
    ],
)
def test_size_group_none(code):
    assert size_group(code) is None
    assert classify_size(code, 1_000_000, 10_000_000, 10_000_000) is None


def test_size_exclusion_says_why():
    assert "银发〔2015〕309号" in size_exclusion("J66")
    assert "铁路" in size_exclusion("G53")
    assert size_exclusion("K7040") is not None
    assert size_exclusion("C39") is None
    assert size_exclusion("G59") is None  # too coarse, not excluded


def test_every_group_of_the_standard_has_a_rule():
    assert set(SIZE_RULES) == {
        "农、林、牧、渔业",
        "工业",
        "建筑业",
        "批发业",
        "零售业",
        "交通运输业",
        "仓储业",
        "邮政业",
        "住宿业",
        "餐饮业",
        "信息传输业",
        "软件和信息技术服务业",
        "房地产开发经营",
        "物业管理",
        "租赁和商务服务业",
        "其他未列明行业",
    }


# --- enterprise size: thresholds ---------------------------------------------------

# Each class exactly at its lower bounds ("X及以上" is inclusive), then one unit
# (1 人 or 1 万元) below each bound in turn: that drops exactly one class,
# because the other measures still meet the next class down. None = the group
# does not use that measure.
BOUNDARIES = [
    # group, code, employees, revenue_wan, assets_wan, expected
    # 农、林、牧、渔业
    ("农、林、牧、渔业", "A01", None, 20000, None, "large"),
    ("农、林、牧、渔业", "A01", None, 19999, None, "medium"),
    ("农、林、牧、渔业", "A01", None, 500, None, "medium"),
    ("农、林、牧、渔业", "A01", None, 499, None, "small"),
    ("农、林、牧、渔业", "A01", None, 50, None, "small"),
    ("农、林、牧、渔业", "A01", None, 49, None, "micro"),
    # 工业
    ("工业", "C39", 1000, 40000, None, "large"),
    ("工业", "C39", 999, 40000, None, "medium"),
    ("工业", "C39", 1000, 39999, None, "medium"),
    ("工业", "C39", 300, 2000, None, "medium"),
    ("工业", "C39", 299, 2000, None, "small"),
    ("工业", "C39", 300, 1999, None, "small"),
    ("工业", "C39", 20, 300, None, "small"),
    ("工业", "C39", 19, 300, None, "micro"),
    ("工业", "C39", 20, 299, None, "micro"),
    # 建筑业
    ("建筑业", "E47", None, 80000, 80000, "large"),
    ("建筑业", "E47", None, 79999, 80000, "medium"),
    ("建筑业", "E47", None, 80000, 79999, "medium"),
    ("建筑业", "E47", None, 6000, 5000, "medium"),
    ("建筑业", "E47", None, 5999, 5000, "small"),
    ("建筑业", "E47", None, 6000, 4999, "small"),
    ("建筑业", "E47", None, 300, 300, "small"),
    ("建筑业", "E47", None, 299, 300, "micro"),
    ("建筑业", "E47", None, 300, 299, "micro"),
    # 批发业
    ("批发业", "F51", 200, 40000, None, "large"),
    ("批发业", "F51", 199, 40000, None, "medium"),
    ("批发业", "F51", 200, 39999, None, "medium"),
    ("批发业", "F51", 20, 5000, None, "medium"),
    ("批发业", "F51", 19, 5000, None, "small"),
    ("批发业", "F51", 20, 4999, None, "small"),
    ("批发业", "F51", 5, 1000, None, "small"),
    ("批发业", "F51", 4, 1000, None, "micro"),
    ("批发业", "F51", 5, 999, None, "micro"),
    # 零售业
    ("零售业", "F52", 300, 20000, None, "large"),
    ("零售业", "F52", 299, 20000, None, "medium"),
    ("零售业", "F52", 300, 19999, None, "medium"),
    ("零售业", "F52", 50, 500, None, "medium"),
    ("零售业", "F52", 49, 500, None, "small"),
    ("零售业", "F52", 50, 499, None, "small"),
    ("零售业", "F52", 10, 100, None, "small"),
    ("零售业", "F52", 9, 100, None, "micro"),
    ("零售业", "F52", 10, 99, None, "micro"),
    # 交通运输业
    ("交通运输业", "G54", 1000, 30000, None, "large"),
    ("交通运输业", "G54", 999, 30000, None, "medium"),
    ("交通运输业", "G54", 1000, 29999, None, "medium"),
    ("交通运输业", "G54", 300, 3000, None, "medium"),
    ("交通运输业", "G54", 299, 3000, None, "small"),
    ("交通运输业", "G54", 300, 2999, None, "small"),
    ("交通运输业", "G54", 20, 200, None, "small"),
    ("交通运输业", "G54", 19, 200, None, "micro"),
    ("交通运输业", "G54", 20, 199, None, "micro"),
    # 仓储业
    ("仓储业", "G592", 200, 30000, None, "large"),
    ("仓储业", "G592", 199, 30000, None, "medium"),
    ("仓储业", "G592", 200, 29999, None, "medium"),
    ("仓储业", "G592", 100, 1000, None, "medium"),
    ("仓储业", "G592", 99, 1000, None, "small"),
    ("仓储业", "G592", 100, 999, None, "small"),
    ("仓储业", "G592", 20, 100, None, "small"),
    ("仓储业", "G592", 19, 100, None, "micro"),
    ("仓储业", "G592", 20, 99, None, "micro"),
    # 邮政业
    ("邮政业", "G60", 1000, 30000, None, "large"),
    ("邮政业", "G60", 999, 30000, None, "medium"),
    ("邮政业", "G60", 1000, 29999, None, "medium"),
    ("邮政业", "G60", 300, 2000, None, "medium"),
    ("邮政业", "G60", 299, 2000, None, "small"),
    ("邮政业", "G60", 300, 1999, None, "small"),
    ("邮政业", "G60", 20, 100, None, "small"),
    ("邮政业", "G60", 19, 100, None, "micro"),
    ("邮政业", "G60", 20, 99, None, "micro"),
    # 住宿业
    ("住宿业", "H61", 300, 10000, None, "large"),
    ("住宿业", "H61", 299, 10000, None, "medium"),
    ("住宿业", "H61", 300, 9999, None, "medium"),
    ("住宿业", "H61", 100, 2000, None, "medium"),
    ("住宿业", "H61", 99, 2000, None, "small"),
    ("住宿业", "H61", 100, 1999, None, "small"),
    ("住宿业", "H61", 10, 100, None, "small"),
    ("住宿业", "H61", 9, 100, None, "micro"),
    ("住宿业", "H61", 10, 99, None, "micro"),
    # 餐饮业
    ("餐饮业", "H62", 300, 10000, None, "large"),
    ("餐饮业", "H62", 299, 10000, None, "medium"),
    ("餐饮业", "H62", 300, 9999, None, "medium"),
    ("餐饮业", "H62", 100, 2000, None, "medium"),
    ("餐饮业", "H62", 99, 2000, None, "small"),
    ("餐饮业", "H62", 100, 1999, None, "small"),
    ("餐饮业", "H62", 10, 100, None, "small"),
    ("餐饮业", "H62", 9, 100, None, "micro"),
    ("餐饮业", "H62", 10, 99, None, "micro"),
    # 信息传输业
    ("信息传输业", "I63", 2000, 100000, None, "large"),
    ("信息传输业", "I63", 1999, 100000, None, "medium"),
    ("信息传输业", "I63", 2000, 99999, None, "medium"),
    ("信息传输业", "I63", 100, 1000, None, "medium"),
    ("信息传输业", "I63", 99, 1000, None, "small"),
    ("信息传输业", "I63", 100, 999, None, "small"),
    ("信息传输业", "I63", 10, 100, None, "small"),
    ("信息传输业", "I63", 9, 100, None, "micro"),
    ("信息传输业", "I63", 10, 99, None, "micro"),
    # 软件和信息技术服务业
    ("软件和信息技术服务业", "I65", 300, 10000, None, "large"),
    ("软件和信息技术服务业", "I65", 299, 10000, None, "medium"),
    ("软件和信息技术服务业", "I65", 300, 9999, None, "medium"),
    ("软件和信息技术服务业", "I65", 100, 1000, None, "medium"),
    ("软件和信息技术服务业", "I65", 99, 1000, None, "small"),
    ("软件和信息技术服务业", "I65", 100, 999, None, "small"),
    ("软件和信息技术服务业", "I65", 10, 50, None, "small"),
    ("软件和信息技术服务业", "I65", 9, 50, None, "micro"),
    ("软件和信息技术服务业", "I65", 10, 49, None, "micro"),
    # 房地产开发经营
    ("房地产开发经营", "K701", None, 200000, 10000, "large"),
    ("房地产开发经营", "K701", None, 199999, 10000, "medium"),
    ("房地产开发经营", "K701", None, 200000, 9999, "medium"),
    ("房地产开发经营", "K701", None, 1000, 5000, "medium"),
    ("房地产开发经营", "K701", None, 999, 5000, "small"),
    ("房地产开发经营", "K701", None, 1000, 4999, "small"),
    ("房地产开发经营", "K701", None, 100, 2000, "small"),
    ("房地产开发经营", "K701", None, 99, 2000, "micro"),
    ("房地产开发经营", "K701", None, 100, 1999, "micro"),
    # 物业管理
    ("物业管理", "K702", 1000, 5000, None, "large"),
    ("物业管理", "K702", 999, 5000, None, "medium"),
    ("物业管理", "K702", 1000, 4999, None, "medium"),
    ("物业管理", "K702", 300, 1000, None, "medium"),
    ("物业管理", "K702", 299, 1000, None, "small"),
    ("物业管理", "K702", 300, 999, None, "small"),
    ("物业管理", "K702", 100, 500, None, "small"),
    ("物业管理", "K702", 99, 500, None, "micro"),
    ("物业管理", "K702", 100, 499, None, "micro"),
    # 租赁和商务服务业
    ("租赁和商务服务业", "L72", 300, None, 120000, "large"),
    ("租赁和商务服务业", "L72", 299, None, 120000, "medium"),
    ("租赁和商务服务业", "L72", 300, None, 119999, "medium"),
    ("租赁和商务服务业", "L72", 100, None, 8000, "medium"),
    ("租赁和商务服务业", "L72", 99, None, 8000, "small"),
    ("租赁和商务服务业", "L72", 100, None, 7999, "small"),
    ("租赁和商务服务业", "L72", 10, None, 100, "small"),
    ("租赁和商务服务业", "L72", 9, None, 100, "micro"),
    ("租赁和商务服务业", "L72", 10, None, 99, "micro"),
    # 其他未列明行业
    ("其他未列明行业", "M73", 300, None, None, "large"),
    ("其他未列明行业", "M73", 299, None, None, "medium"),
    ("其他未列明行业", "M73", 100, None, None, "medium"),
    ("其他未列明行业", "M73", 99, None, None, "small"),
    ("其他未列明行业", "M73", 10, None, None, "small"),
    ("其他未列明行业", "M73", 9, None, None, "micro"),
]


@pytest.mark.parametrize("group, code, employees, revenue_wan, assets_wan, expected", BOUNDARIES)
def test_threshold_boundaries(group, code, employees, revenue_wan, assets_wan, expected):
    assert size_group(code) == group
    assert classify_size(code, employees, revenue_wan, assets_wan) == expected


# "大型、中型和小型企业须同时满足所列指标的下限，否则下划一档；微型企业只须满足
# 所列指标中的一项即可。"
ALL_BOUNDS_RULE = [
    # group, code, employees, revenue_wan, assets_wan, expected
    # Large on one measure, medium on the other: medium.
    ("工业", "C39", 5000, 2000, None, "medium"),
    ("工业", "C39", 300, 900000, None, "medium"),
    # Large on one measure, small on the other: small (drops two classes).
    ("工业", "C39", 5000, 300, None, "small"),
    # Large on one measure, micro on the other: micro.
    ("工业", "C39", 5000, 299, None, "micro"),
    ("工业", "C39", 19, 900000, None, "micro"),
    ("批发业", "F51", 4, 900000, None, "micro"),
    ("零售业", "F52", 1000, 99, None, "micro"),
    ("建筑业", "E47", None, 900000, 299, "micro"),
    ("建筑业", "E47", None, 80000, 5000, "medium"),
    ("房地产开发经营", "K701", None, 900000, 9999, "medium"),
    ("房地产开发经营", "K701", None, 900000, 1999, "micro"),
    ("租赁和商务服务业", "L71", 9, 900000, 900000, "micro"),
    ("租赁和商务服务业", "L71", 1000, None, 7999, "small"),
    ("物业管理", "K702", 1000, 499, None, "micro"),
    ("信息传输业", "I64", 2000, 999, None, "small"),
    # Zero is a fact, not a missing one.
    ("工业", "C39", 0, 0, None, "micro"),
    ("其他未列明行业", "M73", 0, None, None, "micro"),
]


@pytest.mark.parametrize(
    "group, code, employees, revenue_wan, assets_wan, expected", ALL_BOUNDS_RULE
)
def test_all_lower_bounds_must_be_met(group, code, employees, revenue_wan, assets_wan, expected):
    assert size_group(code) == group
    assert classify_size(code, employees, revenue_wan, assets_wan) == expected


MISSING = [
    # group, code, employees, revenue_wan, assets_wan: a needed fact is None.
    ("农、林、牧、渔业", "A01", 100, None, 100),
    ("工业", "C39", None, 40000, 100),
    ("工业", "C39", 1000, None, 100),
    ("建筑业", "E47", 100, None, 80000),
    ("建筑业", "E47", 100, 80000, None),
    ("批发业", "F51", None, 40000, None),
    ("零售业", "F52", 300, None, None),
    ("交通运输业", "G54", None, 30000, None),
    ("仓储业", "G592", 200, None, None),
    ("邮政业", "G60", None, None, None),
    ("住宿业", "H61", None, 10000, None),
    ("餐饮业", "H62", 300, None, None),
    ("信息传输业", "I63", None, 100000, None),
    ("软件和信息技术服务业", "I65", 300, None, None),
    ("房地产开发经营", "K701", 100, None, 10000),
    ("房地产开发经营", "K701", 100, 200000, None),
    ("物业管理", "K702", None, 5000, None),
    ("租赁和商务服务业", "L72", None, 100, 120000),
    ("租赁和商务服务业", "L72", 300, 100, None),
    ("其他未列明行业", "M73", None, 100, 100),
]


@pytest.mark.parametrize("group, code, employees, revenue_wan, assets_wan", MISSING)
def test_missing_fact_is_unknown_not_zero(group, code, employees, revenue_wan, assets_wan):
    assert size_group(code) == group
    assert classify_size(code, employees, revenue_wan, assets_wan) is None


def test_unused_measures_may_be_missing():
    assert classify_size("A01", None, 20000, None) == "large"
    assert classify_size("M73", 300, None, None) == "large"
    assert classify_size("E47", None, 80000, 80000) == "large"


def test_financial_industry_is_not_sized():
    for code in ("J66", "J67", "J68", "J69"):
        assert classify_size(code, 10, 10, 10) is None
        assert classify_size(code, 100_000, 10_000_000, 10_000_000) is None


def test_bounds_hold_to_the_smallest_amount_stored():
    """Amounts are stored in 元 with 2 decimals: 1 分 below a bound is below it."""
    one_fen_wan = Decimal("0.000001")
    assert classify_size("C39", 1000, Decimal(40000), None) == "large"
    assert classify_size("C39", 1000, Decimal(40000) - one_fen_wan, None) == "medium"
    assert classify_size("K701", None, Decimal(100), Decimal(2000) - one_fen_wan) == "micro"


def test_amount_types():
    assert classify_size("C39", 1000, 40000, None) == "large"
    assert classify_size("C39", 1000, Decimal("40000.00"), None) == "large"
    assert classify_size("C39", 1000, 40000.0, None) == "large"


ORDER = {"micro": 0, "small": 1, "medium": 2, "large": 3}
amounts = st.decimals(min_value=0, max_value=10_000_000, places=2)


@given(
    st.sampled_from(
        [
            "A01",
            "C39",
            "E47",
            "F51",
            "F52",
            "G54",
            "G592",
            "G60",
            "H61",
            "I63",
            "I65",
            "K701",
            "K702",
            "L72",
            "M73",
        ]
    ),
    st.integers(0, 100_000),
    amounts,
    amounts,
    st.sampled_from(["employees", "revenue", "assets"]),
    st.integers(1, 5000),
)
def test_more_never_makes_an_enterprise_smaller(code, e, r, a, measure, step):
    before = classify_size(code, e, r, a)
    e2, r2, a2 = (
        e + step if measure == "employees" else e,
        r + step if measure == "revenue" else r,
        a + step if measure == "assets" else a,
    )
    after = classify_size(code, e2, r2, a2)
    assert before is not None and after is not None
    assert ORDER[after] >= ORDER[before]
