"""The shapes of the carbon API (/api/v1/green/carbon/…). Class names start
with `Carbon` (OpenAPI component names must not clash).

Quantities and emissions are exact decimal strings; t CO2 to 0.0001,
intensities to 0.000001. A line's quantity is any finite decimal: a negative
one, an unknown item or a unit that does not fit the item is refused by the
service as a field error on `lines[i].quantity` / `.item` / `.unit`.
"""

from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema

from chanrong.core.apikit.schemas import BodyId, InputSchema, Text

Quantity = Annotated[
    Decimal,
    Field(max_digits=20, decimal_places=4, allow_inf_nan=False, description="数量"),
]


class CarbonLineIn(InputSchema):
    item: Text(32, kind="code") = Field(description="品种代码，见 /green/carbon/items")
    quantity: Quantity
    unit: Text(16, kind="code") = Field(description="计量单位，须为该品种可用单位之一")


class CarbonReportIn(InputSchema):
    enterprise: BodyId | None = Field(None, description="企业编号；企业用户为本企业填报时可省略")
    year: int = Field(ge=1900, le=2200)
    month: int | None = Field(None, ge=1, le=12, description="月份；全年报告省略")
    output_quantity: Quantity | None = None
    output_unit: Text(20) = ""
    lines: list[CarbonLineIn] = Field(max_length=40)


class CarbonLineOut(Schema):
    item: str
    label: str
    scope: int
    quantity: Decimal
    unit: str
    formula: str
    co2: Decimal
    factor_year: int
    factor_region: str
    source: str
    note: str


class CarbonReportOut(Schema):
    id: int
    enterprise_id: int
    enterprise_name: str
    year: int
    month: int | None
    scope1: Decimal
    scope2: Decimal
    total: Decimal
    revenue: Decimal | None
    revenue_basis: str
    intensity_revenue: Decimal | None = Field(description="tCO2/万元营业收入")
    output_quantity: Decimal | None
    output_unit: str
    intensity_output: Decimal | None
    source: str

    @staticmethod
    def resolve_enterprise_name(obj) -> str:
        return obj["enterprise_name"] if isinstance(obj, dict) else obj.enterprise.name


class CarbonReportDetailOut(CarbonReportOut):
    lines: list[CarbonLineOut]
    explanation: list[str]


class CarbonItemOut(Schema):
    code: str
    label: str
    scope: int
    factor_unit: str
    units: list[str]


class CarbonFactorIn(InputSchema):
    code: Text(32, kind="code")
    year: int = Field(ge=1900, le=2200)
    region: Text(6, kind="code") = Field("", description="省级代码；全国因子留空")
    ncv: Decimal | None = Field(None, allow_inf_nan=False, max_digits=12, decimal_places=4)
    carbon_content: Decimal | None = Field(
        None, allow_inf_nan=False, max_digits=12, decimal_places=6
    )
    oxidation: Decimal | None = Field(None, allow_inf_nan=False, max_digits=6, decimal_places=4)
    factor: Decimal | None = Field(None, allow_inf_nan=False, max_digits=12, decimal_places=6)
    source: Text(2000, kind="text") = ""
    note: Text(300, kind="text") = ""


class CarbonFactorOut(Schema):
    id: int
    code: str
    name: str
    category: str
    unit: str
    year: int
    region_id: str | None
    ncv: Decimal | None
    carbon_content: Decimal | None
    oxidation: Decimal | None
    factor: Decimal | None
    co2_per_unit: Decimal
    source: str
    note: str


class CarbonGradeOut(Schema):
    enterprise_id: int
    year: int
    grade: int = Field(description="碳效等级 1–5，1 级最优")
    intensity: Decimal
    basis: str
    division: str
    peers: int
    bounds: list[str]
    description: str

    @staticmethod
    def resolve_description(obj) -> str:
        from .services.grades import describe

        return describe(obj)


class CarbonBenchmarkIn(InputSchema):
    division: Text(5, kind="code") = Field(description="国民经济行业大类，如 C30")
    bound1: Decimal = Field(allow_inf_nan=False, max_digits=18, decimal_places=6)
    bound2: Decimal = Field(allow_inf_nan=False, max_digits=18, decimal_places=6)
    bound3: Decimal = Field(allow_inf_nan=False, max_digits=18, decimal_places=6)
    bound4: Decimal = Field(allow_inf_nan=False, max_digits=18, decimal_places=6)
    source: Text(2000, kind="text") = ""


class CarbonBenchmarkOut(Schema):
    division_id: str
    bound1: Decimal
    bound2: Decimal
    bound3: Decimal
    bound4: Decimal
    source: str
