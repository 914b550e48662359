"""Chinese codes and classifications: USCC (GB 32100-2015) and enterprise size.

USCC validation is delegated to python-stdnum (`stdnum.cn.uscc`); this module
turns its verdict into a message a clerk can act on (which rule failed, and
for a bad check digit, which digit was expected).

Enterprise size follows 《中小企业划型标准规定》(工信部联企业〔2011〕300号),
with industries mapped to GB/T 4754-2017 as in 《统计上大中小微型企业划分办法（2017）》.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


class CodeError(ValueError):
    """A code that is not valid; the message says what is wrong, in Chinese."""


def normalise_uscc(value: str) -> str:
    """Upper-case, strip spaces and full-width characters."""
    text = "".join(value.split()).upper()
    return text.translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)})


def validate_uscc(value: str) -> str:
    """Return the normalised code or raise CodeError saying what is wrong."""
    code = normalise_uscc(value or "")
    if len(code) != 18:
        raise CodeError(f"统一社会信用代码应为 18 位，当前为 {len(code)} 位")
    bad = sorted({ch for ch in code if ch not in USCC_ALPHABET})
    if bad:
        raise CodeError(
            "统一社会信用代码含有不允许的字符：" + "、".join(bad) + "（不使用 I、O、Z、S、V）"
        )
    try:
        stdnum_uscc.validate(code)
    except InvalidChecksum:
        expected = stdnum_uscc.calc_check_digit(code[:17])
        raise CodeError(
            f"统一社会信用代码校验位错误：第 18 位应为 {expected}，当前为 {code[17]}"
        ) from None
    except InvalidComponent:
        raise CodeError("统一社会信用代码的登记管理部门码或机构类别码无效") from None
    except (InvalidFormat, InvalidLength):
        raise CodeError("统一社会信用代码格式错误：第 3–8 位应为数字的行政区划码") from None
    return code


def make_uscc(body17: str) -> str:
    """Append the check digit to 17 characters (used by the demo generator)."""
    return body17 + stdnum_uscc.calc_check_digit(body17)


# --- enterprise size -------------------------------------------------------

Size = Literal["large", "medium", "small", "micro"]
Measure = Literal["employees", "revenue", "assets"]


@dataclass(frozen=True)
class Band:
    """Lower bounds of one size class. A class needs *all* of them (大中小型须
    同时满足所列指标的下限，否则下划一档)."""

    employees: int | None = None
    revenue_wan: int | None = None
    assets_wan: int | None = None

    def met_by(self, employees: int, revenue_wan: Decimal, assets_wan: Decimal) -> bool:
        return (
            (self.employees is None or employees >= self.employees)
            and (self.revenue_wan is None or revenue_wan >= self.revenue_wan)
            and (self.assets_wan is None or assets_wan >= self.assets_wan)
        )

    @property
    def measures(self) -> set[Measure]:
        names: set[Measure] = set()
        if self.employees is not None:
            names.add("employees")
        if self.revenue_wan is not None:
            names.add("revenue")
        if self.assets_wan is not None:
            names.add("assets")
        return names


@dataclass(frozen=True)
class SizeRule:
    group: str
    large: Band
    medium: Band
    small: Band


# Thresholds in 人 and 万元, from the 2011 standard, article 4.
SIZE_RULES: dict[str, SizeRule] = {
    rule.group: rule
    for rule in [
        SizeRule(
            "农、林、牧、渔业", Band(revenue_wan=20000), Band(revenue_wan=500), Band(revenue_wan=50)
        ),
        SizeRule("工业", Band(1000, 40000), Band(300, 2000), Band(20, 300)),
        SizeRule(
            "建筑业",
            Band(revenue_wan=80000, assets_wan=80000),
            Band(revenue_wan=6000, assets_wan=5000),
            Band(revenue_wan=300, assets_wan=300),
        ),
        SizeRule("批发业", Band(200, 40000), Band(20, 5000), Band(5, 1000)),
        SizeRule("零售业", Band(300, 20000), Band(50, 500), Band(10, 100)),
        SizeRule("交通运输业", Band(1000, 30000), Band(300, 3000), Band(20, 200)),
        SizeRule("仓储业", Band(200, 30000), Band(100, 1000), Band(20, 100)),
        SizeRule("邮政业", Band(1000, 30000), Band(300, 2000), Band(20, 100)),
        SizeRule("住宿业", Band(300, 10000), Band(100, 2000), Band(10, 100)),
        SizeRule("餐饮业", Band(300, 10000), Band(100, 2000), Band(10, 100)),
        SizeRule("信息传输业", Band(2000, 100000), Band(100, 1000), Band(10, 100)),
        SizeRule("软件和信息技术服务业", Band(300, 10000), Band(100, 1000), Band(10, 50)),
        SizeRule(
            "房地产开发经营",
            Band(revenue_wan=200000, assets_wan=10000),
            Band(revenue_wan=1000, assets_wan=5000),
            Band(revenue_wan=100, assets_wan=2000),
        ),
        SizeRule("物业管理", Band(1000, 5000), Band(300, 1000), Band(100, 500)),
        SizeRule(
            "租赁和商务服务业",
            Band(300, assets_wan=120000),
            Band(100, assets_wan=8000),
            Band(10, assets_wan=100),
        ),
        SizeRule("其他未列明行业", Band(300), Band(100), Band(10)),
    ]
}

# GB/T 4754-2017 code (section, division or group) -> size group. The most
# specific code wins; the exclusions marked * in the 2017 划分办法 (B11 开采专业
# 及辅助性活动, C43 金属制品、机械和设备修理业, A05 农林牧渔专业及辅助性活动)
# fall through to 其他未列明行业.
_INDUSTRY_GROUPS: dict[str, str] = {
    "A": "农、林、牧、渔业",
    "A05": "其他未列明行业",
    "B": "工业",
    "B11": "其他未列明行业",
    "C": "工业",
    "C43": "其他未列明行业",
    "D": "工业",
    "E": "建筑业",
    "F51": "批发业",
    "F52": "零售业",
    "G53": "交通运输业",
    "G54": "交通运输业",
    "G55": "交通运输业",
    "G56": "交通运输业",
    "G57": "交通运输业",
    "G58": "交通运输业",
    "G59": "仓储业",
    "G60": "邮政业",
    "H61": "住宿业",
    "H62": "餐饮业",
    "I63": "信息传输业",
    "I64": "信息传输业",
    "I65": "软件和信息技术服务业",
    "K70": "房地产开发经营",
    "K701": "房地产开发经营",
    "K702": "物业管理",
    "L": "租赁和商务服务业",
}

# 金融业 is outside this standard (it has its own, 银发〔2015〕309号).
_NOT_COVERED = {"J"}


def size_group(industry_code: str) -> str | None:
    """The standard's industry group for a GB/T 4754-2017 code, or None (金融业)."""
    code = industry_code.strip().upper()
    if not code or code[0] in _NOT_COVERED:
        return None
    for length in (4, 3, 1):
        group = _INDUSTRY_GROUPS.get(code[:length])
        if group and len(code) >= length:
            return group
    return "其他未列明行业"


def classify_size(
    industry_code: str,
    employees: int | None,
    revenue_wan: Decimal | int | None,
    assets_wan: Decimal | int | None,
) -> Size | None:
    """大型/中型/小型/微型 per the 2011 standard, or None when the facts it needs
    are missing or the industry is not covered. A missing fact is unknown,
    never zero."""
    group = size_group(industry_code)
    if group is None:
        return None
    rule = SIZE_RULES[group]
    needed = rule.large.measures | rule.medium.measures | rule.small.measures
    facts = {"employees": employees, "revenue": revenue_wan, "assets": assets_wan}
    if any(facts[m] is None for m in needed):
        return None
    e = int(employees or 0)
    r = Decimal(revenue_wan or 0)
    a = Decimal(assets_wan or 0)
    if rule.large.met_by(e, r, a):
        return "large"
    if rule.medium.met_by(e, r, a):
        return "medium"
    if rule.small.met_by(e, r, a):
        return "small"
    return "micro"
