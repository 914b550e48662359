"""Cell parsers: what a clerk typed into a spreadsheet, as a Python value.

Each parser turns one raw cell (str from CSV; str, int, float, bool, date,
datetime from a workbook) into the value the service expects, or raises
CellError with a message that says what was wrong and what is expected.
Blank cells are None. Parsers only judge the *form* of a value (is this a
date, a number?); whether it is acceptable (in range, known, in the user's
region) is for the services.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.codes import normalise_uscc
from chanrong.core.money import WAN, AmountError, parse_amount

# Excel's 1900 date system (with its fictitious 1900-02-29), as every
# Chinese-locale Excel and WPS writes it.
EXCEL_EPOCH = date(1899, 12, 30)
MAX_SERIAL = 2958465  # 9999-12-31
_SPACES = re.compile(r"\s+")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE][+-]?\d+$")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$"),
)
_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)
_QUARTER_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-\s]?\s*[Qq]([1-4])$"),
    re.compile(r"^(\d{4})\s*年\s*第?\s*([1-4一二三四])\s*季度?$"),
)
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}
TRUE_WORDS = {"是", "有", "y", "yes", "true", "1", "√", "✓", "对"}
FALSE_WORDS = {"否", "无", "n", "no", "false", "0", "×", "✗", "不是"}


# Full-width forms (FF01-FF5E) and the ideographic space, as chanrong.core.money.
# to_halfwidth does, but through str.translate: this runs for every cell.
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def to_halfwidth(text: str) -> str:
    return text if text.isascii() else text.translate(_HALFWIDTH)


class CellError(ValueError):
    """The cell cannot be read as the column's kind; the message says why."""


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", "\u3000"))


def squeeze(text: str) -> str:
    """Stray spaces (leading, trailing, doubled, full-width) removed; the
    text otherwise kept as typed (full-width brackets in names are correct)."""
    return _SPACES.sub(" ", text.replace("\u3000", " ")).strip()


def _integral_float_text(value: float) -> str:
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def as_text(value: Any) -> str:
    """Any cell as text (numbers without a spurious '.0')."""
    if isinstance(value, float):
        return _integral_float_text(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return squeeze(str(value))


@dataclass(frozen=True)
class Parser:
    """Base: a kind of column. `describe()` is the template's 格式 column."""

    def parse(self, value: Any) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def with_header_unit(self, unit: str) -> Parser:
        """A header such as "营业收入（亿元）" may change how bare numbers read."""
        return self


@dataclass(frozen=True)
class Text(Parser):
    max_length: int = 200

    def parse(self, value: Any) -> str | None:
        if is_blank(value):
            return None
        text = as_text(value)
        if len(text) > self.max_length:
            raise CellError(
                _("内容过长：%(length)d 个字符，最多 %(max)d 个")
                % {"length": len(text), "max": self.max_length}
            )
        return text

    def describe(self) -> str:
        return _("文字，最多 %(max)d 个字符") % {"max": self.max_length}


@dataclass(frozen=True)
class Code(Parser):
    """Identifiers typed into cells (region codes, phone numbers): half-width,
    no spaces; a number Excel stored as 330421.0 reads as "330421"."""

    max_length: int = 32
    upper: bool = True
    example_format: str = ""

    def parse(self, value: Any) -> str | None:
        if is_blank(value):
            return None
        if isinstance(value, bool):
            raise CellError(_("应为代码，不是逻辑值"))
        text = as_text(value) if isinstance(value, int | float) else str(value)
        text = to_halfwidth(text).replace(" ", "").strip()
        if self.upper:
            text = text.upper()
        if _SCIENTIFIC.match(text):
            raise CellError(
                _(
                    "代码被显示成了科学计数法（%(text)s），原值已丢失；请把该列设为“文本”格式后重新填写"
                )
                % {"text": text}
            )
        if len(text) > self.max_length:
            raise CellError(_("代码过长：最多 %(max)d 个字符") % {"max": self.max_length})
        return text

    def describe(self) -> str:
        return self.example_format or _("代码（文本格式）")


@dataclass(frozen=True)
class Uscc(Parser):
    """Normalised only; the check (with its precise messages) is the service's."""

    def parse(self, value: Any) -> str | None:
        if is_blank(value):
            return None
        if isinstance(value, bool):
            raise CellError(_("应为 18 位统一社会信用代码"))
        if isinstance(value, float) and (not value.is_integer() or abs(value) >= 2**53):
            raise CellError(
                _(
                    "统一社会信用代码被 Excel 存成了数字，末几位已丢失；"
                    "请把该列设为“文本”格式后重新填写"
                )
            )
        text = as_text(value) if isinstance(value, int | float) else str(value)
        text = to_halfwidth(text).strip()
        if _SCIENTIFIC.match(text):
            raise CellError(
                _(
                    "统一社会信用代码被显示成了科学计数法（%(text)s），原值已丢失；"
                    "请把该列设为“文本”格式后重新填写"
                )
                % {"text": text}
            )
        return normalise_uscc(text)

    def describe(self) -> str:
        return _("18 位统一社会信用代码（文本格式）")


@dataclass(frozen=True)
class Integer(Parser):
    minimum: int | None = None
    maximum: int | None = None
    suffixes: tuple[str, ...] = ()

    def parse(self, value: Any) -> int | None:
        if is_blank(value):
            return None
        if isinstance(value, bool):
            raise CellError(_("应为整数"))
        if isinstance(value, int):
            number = value
        elif isinstance(value, float):
            if not value.is_integer():
                raise CellError(_("应为整数，不能有小数：%(value)s") % {"value": value})
            number = int(value)
        else:
            text = to_halfwidth(str(value)).replace(" ", "").replace(",", "")
            for suffix in self.suffixes:
                text = text.removesuffix(suffix)
            try:
                dec = Decimal(text)
            except InvalidOperation:
                raise CellError(_("应为整数：%(value)s") % {"value": squeeze(str(value))}) from None
            if not dec.is_finite() or dec != dec.to_integral_value():
                raise CellError(
                    _("应为整数，不能有小数：%(value)s") % {"value": squeeze(str(value))}
                )
            number = int(dec)
        if self.minimum is not None and number < self.minimum:
            raise CellError(_("不能小于 %(n)s") % {"n": self.minimum})
        if self.maximum is not None and number > self.maximum:
            raise CellError(_("不能大于 %(n)s") % {"n": self.maximum})
        return number

    def describe(self) -> str:
        return _("整数")


@dataclass(frozen=True)
class Number(Parser):
    """A plain decimal (a ratio, kWh); '%' is accepted and kept as a number."""

    unit: str = ""

    def parse(self, value: Any) -> Decimal | None:
        if is_blank(value):
            return None
        if isinstance(value, bool):
            raise CellError(_("应为数字"))
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            return Decimal(repr(value))
        text = to_halfwidth(str(value)).replace(" ", "").replace(",", "")
        if self.unit:
            text = text.removesuffix(self.unit)
        text = text.removesuffix("%")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(_("应为数字：%(value)s") % {"value": squeeze(str(value))}) from None
        if not number.is_finite():
            raise CellError(_("应为有限数字"))
        return number

    def describe(self) -> str:
        return _("数字（%(unit)s）") % {"unit": self.unit} if self.unit else _("数字")


@dataclass(frozen=True)
class Amount(Parser):
    """An amount, returned in 万元 (the unit the services take). Bare numbers
    are in `unit`; "350万元", "1.2亿", "３５０万" carry their own."""

    unit: str = "万元"

    def parse(self, value: Any) -> Decimal | None:
        if is_blank(value):
            return None
        if isinstance(value, float) and value != value:  # NaN
            raise CellError(_("应为金额"))
        try:
            yuan = parse_amount(value, default_unit=self.unit)
        except AmountError as exc:
            raise CellError(str(exc)) from None
        return None if yuan is None else yuan / WAN

    def describe(self) -> str:
        return _("金额，纯数字按%(unit)s计；也可写“350万元”“1.2亿元”") % {"unit": self.unit}

    def with_header_unit(self, unit: str) -> Parser:
        return Amount(unit=unit) if unit in ("元", "万元", "亿元") else self


def _checked_date(year: int, month: int, day: int, raw: Any) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(_("日期不存在：%(value)s") % {"value": as_text(raw)}) from None


def parse_date(value: Any) -> date | None:
    """2023-1-5, 2023/01/05, 2023.1.5, 2023年1月5日, 20230105, a date cell or an
    Excel serial number (44931)."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise CellError(_("应为日期"))
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            value = int(value)  # a date-time serial: the day is the integer part
        number = int(value)
        if 19000101 <= number <= 29991231:
            text = str(number)
            return _checked_date(int(text[:4]), int(text[4:6]), int(text[6:]), value)
        if 1 <= number <= MAX_SERIAL:
            return EXCEL_EPOCH + timedelta(days=number)
        raise CellError(_("无法识别的日期：%(value)s") % {"value": value})
    text = to_halfwidth(str(value)).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups()[:3])
            return _checked_date(year, month, day, value)
    raise CellError(
        _("无法识别的日期：%(value)s（可写 2023-01-05、2023/1/5、2023年1月5日 或 20230105）")
        % {"value": squeeze(str(value))}
    )


@dataclass(frozen=True)
class Date(Parser):
    def parse(self, value: Any) -> date | None:
        return parse_date(value)

    def describe(self) -> str:
        return _("日期，如 2023-01-05、2023/1/5、2023年1月5日 或 20230105")


@dataclass(frozen=True)
class Month(Parser):
    """A calendar month as its first day: 2024-03, 2024年3月, 202403, a date."""

    def parse(self, value: Any) -> date | None:
        if is_blank(value):
            return None
        if isinstance(value, datetime | date):
            return date(value.year, value.month, 1)
        text = to_halfwidth(as_text(value)).strip()
        for pattern in _MONTH_PATTERNS:
            match = pattern.match(text)
            if match:
                year, month = int(match.group(1)), int(match.group(2))
                return _checked_date(year, month, 1, value)
        try:
            day = parse_date(value)
        except CellError:
            day = None
        if day is not None:
            return date(day.year, day.month, 1)
        raise CellError(
            _("无法识别的月份：%(value)s（可写 2024-03 或 2024年3月）") % {"value": as_text(value)}
        )

    def describe(self) -> str:
        return _("月份，如 2024-03 或 2024年3月")


@dataclass(frozen=True)
class Quarter(Parser):
    """A quarter as (year, 1-4): 2024Q1, 2024-Q1, 2024年第一季度, 2024年1季度."""

    def parse(self, value: Any) -> tuple[int, int] | None:
        if is_blank(value):
            return None
        text = to_halfwidth(as_text(value)).strip()
        for pattern in _QUARTER_PATTERNS:
            match = pattern.match(text)
            if match:
                quarter = match.group(2)
                return int(match.group(1)), _CHINESE_DIGITS.get(quarter) or int(quarter)
        raise CellError(
            _("无法识别的季度：%(value)s（可写 2024Q1 或 2024年第一季度）") % {"value": text}
        )

    def describe(self) -> str:
        return _("季度，如 2024Q1 或 2024年第一季度")


@dataclass(frozen=True)
class Year(Parser):
    def parse(self, value: Any) -> int | None:
        if is_blank(value):
            return None
        if isinstance(value, datetime | date):
            return value.year
        text = to_halfwidth(as_text(value)).strip().removesuffix("年度").removesuffix("年")
        if not re.fullmatch(r"\d{4}", text) or not 1900 <= int(text) <= 2999:
            raise CellError(_("应为四位年份，如 2024：%(value)s") % {"value": as_text(value)})
        return int(text)

    def describe(self) -> str:
        return _("四位年份，如 2024")


@dataclass(frozen=True)
class Boolean(Parser):
    true_words: tuple[str, ...] = ()
    false_words: tuple[str, ...] = ()

    def parse(self, value: Any) -> bool | None:
        if is_blank(value):
            return None
        if isinstance(value, bool):
            return value
        text = to_halfwidth(as_text(value)).strip().lower()
        if text in TRUE_WORDS or text in self.true_words:
            return True
        if text in FALSE_WORDS or text in self.false_words:
            return False
        raise CellError(_("应填“是”或“否”：%(value)s") % {"value": as_text(value)})

    def describe(self) -> str:
        return _("“是”或“否”")


@dataclass(frozen=True)
class Choice(Parser):
    """One of a fixed set; each value may be typed as its label or an alias."""

    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    aliases: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        table = {}
        for value, label in self.choices:
            table[_key(value)] = value
            table[_key(str(label))] = value
        for alias, value in self.aliases.items():
            table[_key(alias)] = value
        object.__setattr__(self, "_table", table)

    def parse(self, value: Any) -> str | None:
        if is_blank(value):
            return None
        found = self._table.get(_key(as_text(value)))
        if found is None:
            raise CellError(
                _("“%(value)s”不是可选值；应为：%(allowed)s")
                % {
                    "value": as_text(value),
                    "allowed": "、".join(str(lb) for _v, lb in self.choices),
                }
            )
        return found

    def describe(self) -> str:
        return _("以下之一：%(allowed)s") % {
            "allowed": "、".join(str(label) for _v, label in self.choices)
        }


def _key(text: str) -> str:
    return to_halfwidth(text).replace(" ", "").replace("\u3000", "").lower()
