"""Chinese codes and classifications: USCC (GB 32100-2015) and enterprise size.

USCC: python-stdnum (`stdnum.cn.uscc`) supplies the alphabet and the check
digit. Its `validate()` is not called because (as of 2.2) it only checks the
length, that the first 8 characters are digits and the check digit: it cannot
say *which* rule failed, and it rejects the registration-authority codes that
are letters (A 中央军委改革和编制办公室, N 农业, Y 其他), which real codes
carry. So this module checks each part in the order a clerk reads the code and
names the first thing that is wrong, down to the check digit it expected.

Enterprise size follows 《中小企业划型标准规定》(工信部联企业〔2011〕300号),
with industries mapped to GB/T 4754-2017 as in 《统计上大中小微型企业划分办法
（2017）》(国统字〔2017〕213号).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from stdnum.cn import uscc as stdnum_uscc

# GB 32100-2015: 18 characters from the digits and the upper-case letters
# without I, O, Z, S, V (they look like 1, 0, 2, 5, U). Also python-stdnum's.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Character 1 (登记管理部门代码) -> the character-2 codes (机构类别代码) it
# assigns, as published with the code scheme by the registration authorities.
USCC_CATEGORIES: dict[str, dict[str, str]] = {
    "1": {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    "2": {"1": "外国常驻新闻机构", "9": "其他"},
    "3": {
        "1": "律师执业机构",
        "2": "公证处",
        "3": "基层法律服务所",
        "4": "司法鉴定机构",
        "5": "仲裁委员会",
        "9": "其他",
    },
    "4": {"1": "外国在华文化中心", "9": "其他"},
    "5": {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"},
    "6": {
        "1": "外国旅游部门常驻代表机构",
        "2": "港澳台地区旅游部门常驻内地（大陆）代表机构",
        "9": "其他",
    },
    "7": {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"},
    "8": {"1": "基层工会", "9": "其他"},
    "9": {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"},
    "A": {"1": "军队事业单位", "9": "其他"},
    "N": {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    "Y": {"1": "其他"},
}
USCC_AUTHORITIES: dict[str, str] = {
    "1": gettext_noop("机构编制"),
    "2": gettext_noop("外交"),
    "3": gettext_noop("司法行政"),
    "4": gettext_noop("文化"),
    "5": gettext_noop("民政"),
    "6": gettext_noop("旅游"),
    "7": gettext_noop("宗教"),
    "8": gettext_noop("工会"),
    "9": gettext_noop("市场监管（原工商）"),
    "A": gettext_noop("中央军委改革和编制办公室"),
    "N": gettext_noop("农业"),
    "Y": gettext_noop("其他"),
}

# Full-width forms (FF01-FF5E) map to ASCII by a fixed offset; U+3000 is the
# full-width space. Clerks paste codes from Word files and IMEs in full width.
_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_SEPARATORS = re.compile(r"[\s\-]+")


class CodeError(ValueError):
    """A code that is not valid; the message says what is wrong, in Chinese."""


def normalise_uscc(value: str) -> str:
    """Half-width, upper case, without spaces or hyphens: how codes are stored,
    so the same enterprise typed two ways is still one enterprise."""
    text = (value or "").translate(_FULL_WIDTH)
    return _SEPARATORS.sub("", text).upper()


def validate_uscc(value: str | None) -> str:
    """Return the normalised code or raise CodeError naming the first rule broken.

    Checked in order: length, character set, registration-authority code
    (character 1), category code (character 2, which depends on character 1),
    region code format (characters 3-8), check digit (character 18).
    """
    code = normalise_uscc(value or "")
    if not code:
        raise CodeError(_("统一社会信用代码不能为空"))
    if len(code) != 18:
        raise CodeError(
            _("统一社会信用代码应为 18 位，当前为 %(length)d 位") % {"length": len(code)}
        )
    bad = sorted({ch for ch in code if ch not in USCC_ALPHABET})
    if bad:
        raise CodeError(
            _(
                "统一社会信用代码含有不允许的字符：%(chars)s"
                "（只能使用数字和大写英文字母，不使用 I、O、Z、S、V）"
            )
            % {"chars": "、".join(bad)}
        )
    authority, category = code[0], code[1]
    if authority not in USCC_CATEGORIES:
        raise CodeError(
            _("统一社会信用代码第 1 位（登记管理部门代码）%(code)s 无效，应为 1–9、A、N 或 Y 之一")
            % {"code": authority}
        )
    allowed = USCC_CATEGORIES[authority]
    if category not in allowed:
        raise CodeError(
            _(
                "统一社会信用代码第 2 位（机构类别代码）%(code)s 无效："
                "登记管理部门 %(authority)s（%(authority_name)s）的机构类别应为 %(allowed)s"
            )
            % {
                "code": category,
                "authority": authority,
                "authority_name": _(USCC_AUTHORITIES[authority]),
                "allowed": "、".join(allowed),
            }
        )
    region = code[2:8]
    if not region.isdigit():
        raise CodeError(
            _("统一社会信用代码第 3–8 位（登记管理机关行政区划码）应为 6 位数字，当前为 %(region)s")
            % {"region": region}
        )
    expected = stdnum_uscc.calc_check_digit(code[:17])
    if code[17] != expected:
        raise CodeError(
            _("统一社会信用代码校验码错误：第 18 位应为 %(expected)s，当前为 %(actual)s")
            % {"expected": expected, "actual": code[17]}
        )
    return code


def make_uscc(body17: str) -> str:
    """Append the check digit to 17 characters (the demo generator and tests
    need codes that pass validation without copying real enterprises')."""
    body = normalise_uscc(body17)
    if len(body) != 17:
        raise ValueError(f"make_uscc needs 17 characters, got {len(body)}")
    return body + stdnum_uscc.calc_check_digit(body)


# --- enterprise size -------------------------------------------------------

Size = Literal["large", "medium", "small", "micro"]


class EnterpriseSize(models.TextChoices):
    """The four classes as stored on an enterprise (`registry.Enterprise.size`)
    and shown everywhere (the kernel's `size_tag`, the 工作台's chart)."""

    LARGE = "large", gettext_lazy("大型")
    MEDIUM = "medium", gettext_lazy("中型")
    SMALL = "small", gettext_lazy("小型")
    MICRO = "micro", gettext_lazy("微型")


UNKNOWN_SIZE = "unknown"
SIZE_LABELS = {size: size.label for size in EnterpriseSize}


def size_label(size: str | None):
    """大型 / 中型 / 小型 / 微型, or 未知 for an enterprise not yet classified."""
    return SIZE_LABELS.get(size or "", gettext_lazy("未知"))


Measure = Literal["employees", "revenue", "assets"]


@dataclass(frozen=True)
class Band:
    """Lower bounds of one size class. A class needs *all* of them (大中小型须
    同时满足所列指标的下限，否则下划一档); the bounds are inclusive (X及以上)."""

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
    """One industry group of the standard. Anything below `small` is micro
    (微型企业只须满足所列指标中的一项即可: one measure below the small bound)."""

    group: str
    large: Band
    medium: Band
    small: Band

    @property
    def measures(self) -> set[Measure]:
        return self.large.measures | self.medium.measures | self.small.measures


# Thresholds in 人 and 万元, from the 2011 standard, article 4 (一)-(十六);
# identical to the table of the 2017 statistical 划分办法.
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

_OTHER = "其他未列明行业"

# GB/T 4754-2017 code (section "C", division "G54" or group "G591") -> size
# group, per the scope (第三条) and the notes to the table (说明 2) of the 2017
# 划分办法. The longest matching code wins. A code that spans several groups
# ("G59", "K70", section "G") maps to none: the caller must give the group.
_INDUSTRY_GROUPS: dict[str, str] = {
    # 农、林、牧、渔业: the whole section, A05 专业及辅助性活动 included.
    "A": "农、林、牧、渔业",
    # 工业* = 采矿业, 制造业, 电力、热力、燃气及水生产和供应业, whole sections
    # (B11 开采专业及辅助性活动 and C43 金属制品、机械和设备修理业 included).
    "B": "工业",
    "C": "工业",
    "D": "工业",
    "E": "建筑业",
    "F51": "批发业",
    "F52": "零售业",
    # 交通运输业* = 道路, 水上, 航空, 管道运输业, 多式联运和运输代理业, 装卸搬运;
    # 不包括铁路运输业 (G53, see _NOT_COVERED).
    "G54": "交通运输业",
    "G55": "交通运输业",
    "G56": "交通运输业",
    "G57": "交通运输业",
    "G58": "交通运输业",
    # GB/T 4754-2017 merged 装卸搬运 into G59 装卸搬运和仓储业, so G59 splits:
    # G591 装卸搬运 is 交通运输业; 仓储业* = 通用仓储 G592, 低温仓储 G593,
    # 危险品仓储 G594, 谷物、棉花等农产品仓储 G595, 中药材仓储 G596, 其他仓储业 G599.
    "G591": "交通运输业",
    "G592": "仓储业",
    "G593": "仓储业",
    "G594": "仓储业",
    "G595": "仓储业",
    "G596": "仓储业",
    "G599": "仓储业",
    "G60": "邮政业",
    "H61": "住宿业",
    "H62": "餐饮业",
    # 信息传输业* = 电信、广播电视和卫星传输服务 I63, 互联网和相关服务 I64.
    "I63": "信息传输业",
    "I64": "信息传输业",
    "I65": "软件和信息技术服务业",
    # K70 splits by group: 房地产开发经营 K701, 物业管理 K702; 房地产中介服务
    # K703 and 其他房地产业 K709 are 其他未列明行业; K704 is not covered.
    "K701": "房地产开发经营",
    "K702": "物业管理",
    "K703": _OTHER,
    "K709": _OTHER,
    # 租赁和商务服务业: the whole section, 租赁业 L71 and 商务服务业 L72.
    "L": "租赁和商务服务业",
    # 其他未列明行业* = 科学研究和技术服务业, 水利、环境和公共设施管理业,
    # 居民服务、修理和其他服务业, 社会工作, 文化、体育和娱乐业 (+ K703, K709).
    "M": _OTHER,
    "N": _OTHER,
    "O": _OTHER,
    "Q85": _OTHER,
    "R": _OTHER,
}

# Codes the standard does not size, and why (size_exclusion() gives the reason
# to show). They win over a shorter covered prefix.
_NOT_COVERED: dict[str, str] = {
    "G53": gettext_noop("铁路运输业不适用（交通运输业不含铁路运输业）"),
    "J": gettext_noop("金融业适用《金融业企业划型标准规定》（银发〔2015〕309号）"),
    "K704": gettext_noop("房地产租赁经营（自有房地产经营活动）不适用"),
    "P": gettext_noop("教育不在划型标准适用范围内"),
    "Q84": gettext_noop("卫生不在划型标准适用范围内"),
    "S": gettext_noop("公共管理、社会保障和社会组织不在划型标准适用范围内"),
    "T": gettext_noop("国际组织不在划型标准适用范围内"),
}

_INDUSTRY_CODE = re.compile(r"^[A-T](\d{2}(\d{1,2})?)?$")


def size_group(industry_code: str | None) -> str | None:
    """The standard's industry group for a GB/T 4754-2017 code, or None when
    the code is not covered (金融业, 铁路运输业 …), spans several groups (a bare
    "G59" or "K70") or is not a code at all."""
    code = (industry_code or "").strip().upper()
    if not _INDUSTRY_CODE.match(code):
        return None
    for length in (4, 3, 1):
        if len(code) < length:
            continue
        prefix = code[:length]
        if prefix in _NOT_COVERED:
            return None
        if prefix in _INDUSTRY_GROUPS:
            return _INDUSTRY_GROUPS[prefix]
    return None


def size_exclusion(industry_code: str | None) -> str | None:
    """Why the standard does not size this industry, or None if it is not
    excluded (it may still be unknown or too coarse: see size_group)."""
    code = (industry_code or "").strip().upper()
    for length in (4, 3, 1):
        if len(code) >= length and code[:length] in _NOT_COVERED:
            return _(_NOT_COVERED[code[:length]])
    return None


def _decimal(value: Decimal | int | float | str) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def classify_size(
    industry_code: str,
    employees: int | None,
    revenue_wan: Decimal | int | None,
    assets_wan: Decimal | int | None,
) -> Size | None:
    """大型/中型/小型/微型 per the 2011 standard, or None when the facts it needs
    are missing or the industry is not covered. A missing fact is unknown,
    never zero: a firm that has not reported its revenue is not micro."""
    group = size_group(industry_code)
    if group is None:
        return None
    rule = SIZE_RULES[group]
    facts = {"employees": employees, "revenue": revenue_wan, "assets": assets_wan}
    if any(facts[m] is None for m in rule.measures):
        return None
    # Measures this group does not use may be None; they are never compared.
    e = int(employees) if employees is not None else 0
    r = _decimal(revenue_wan) if revenue_wan is not None else Decimal(0)
    a = _decimal(assets_wan) if assets_wan is not None else Decimal(0)
    for size, band in (("large", rule.large), ("medium", rule.medium), ("small", rule.small)):
        if band.met_by(e, r, a):
            return size  # type: ignore[return-value]
    return "micro"
