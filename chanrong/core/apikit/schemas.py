"""Schemas and field types shared by every app's `api.py`.

The field types here exist so that bad input stops at the edge with a 422
instead of reaching the database: a NUL character or a lone surrogate in a
string, or an id beyond a 64-bit integer, makes PostgreSQL or SQLite raise
an error that would otherwise become a 500.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, ValidationInfo

from chanrong.core import text

MAX_ID = 2**63 - 1


def _printable(value: str) -> str:
    if "\x00" in value:
        raise ValueError(_("不能包含 NUL 字符"))
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError(_("含有无效的 Unicode 字符"))
    return value


NO_NUL = r"^[^\x00]*$"
REGION_CODE_PATTERN = r"^[0-9]{6}$"
INDUSTRY_CODE_PATTERN = r"^[A-Za-z][0-9]{0,4}$"


def _hygienic(kind: str | None) -> Any:
    """The text-hygiene rule (chanrong.core.text) for a field: `kind` when
    given, else decided by the field's name — `name`, `title`, `*_name` are
    names, `code`, `uscc`, `*_code` are codes (NFKC), the rest free text —
    so that every schema built on `Text` is covered without naming each field."""

    def check(value: str, info: ValidationInfo) -> str:
        return text.clean_by_kind(value, kind or text.kind_of_field(info.field_name))

    return check


def Text(  # noqa: N802
    max_length: int, *, min_length: int | None = None, kind: str | None = None
) -> Any:
    """A string the database can store (no NUL, no lone surrogates) that
    passes text hygiene: no bidi or control characters, and for names and
    codes no invisible characters either (`kind`: "name", "code" or "text";
    by default decided by the field's name)."""
    return Annotated[
        str,
        Field(min_length=min_length, max_length=max_length, pattern=NO_NUL),
        AfterValidator(_printable),
        AfterValidator(_hygienic(kind)),
    ]


def _nfkc(value: Any) -> Any:
    """Full-width digits and letters in a code (３３０４２１, Ｃ３９) → ASCII."""
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


RegionCode = Annotated[
    str,
    BeforeValidator(_nfkc),
    Field(
        pattern=REGION_CODE_PATTERN,
        description="6 位行政区划代码（GB/T 2260），如 330421",
        examples=["330421"],
    ),
]
IndustryCode = Annotated[
    str,
    BeforeValidator(_nfkc),
    Field(
        pattern=INDUSTRY_CODE_PATTERN,
        description="国民经济行业代码（GB/T 4754-2017）：门类 C、大类 C39、中类 K701",
        examples=["C39"],
    ),
]
ObjectId = Annotated[int, Field(ge=1, le=MAX_ID, description="对象编号")]

#: An object's id in a request body: a JSON integer, not `true` or "12".
BodyId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID, description="对象编号")]

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: Any) -> Any:
    """Only "YYYY-MM-DD": pydantic would otherwise take 0 or "1700000000"
    for a Unix time, which is never what a clerk meant."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DAY.match(value)):
        return value
    raise ValueError(_("日期格式应为 YYYY-MM-DD"))


#: A date in a request, written YYYY-MM-DD and nothing else.
Day = Annotated[date, BeforeValidator(_iso_day)]
#: Money out, in 元 as an exact decimal string (the policy and supply-chain APIs).
Yuan = Annotated[Decimal, Field(description="金额（元），十进制字符串，精确到分")]
#: Money in, in 元: a number or numeric string, at most two decimals, never NaN.
MoneyIn = Annotated[
    Decimal,
    Field(
        ge=0,
        max_digits=20,
        decimal_places=2,
        allow_inf_nan=False,
        description="金额（元），数字或数字字符串，最多两位小数",
        examples=["80000.00"],
    ),
]


def drop_null_default(schema: dict[str, Any]) -> None:
    """For optional-but-not-nullable PATCH fields: omitted means unchanged,
    null is refused, and the OpenAPI schema should not claim a null default."""
    schema.pop("default", None)


class InputSchema(Schema):
    """Request bodies refuse unknown fields, so that a misspelt field name
    (say `revenue` instead of `revenue_wan`) is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class FieldErrorOut(Schema):
    field: str = Field(description="出错的字段，点分路径，如 uscc 或 page_size；整体错误时为空")
    message: str


class ErrorOut(Schema):
    """The one error shape of the API (DESIGN.md), for every 4xx."""

    code: str = Field(
        description=(
            "机器可读的错误码：invalid, bad_request, unauthenticated, forbidden, "
            "csrf_failed, not_found, method_not_allowed, conflict, throttled …"
        ),
        examples=["invalid"],
    )
    message: str = Field(description="给人看的说明（中文，或按 Accept-Language 翻译）")
    errors: list[FieldErrorOut] = Field(description="逐字段的错误；没有时为空列表")
