"""The shapes of the listing API (/api/v1/listing). Class names start with
`Listing` (django-ninja names OpenAPI components after the class). Money in
元 as an exact decimal string; dates YYYY-MM-DD."""

from datetime import date, datetime

from ninja import Field, Schema

from chanrong.core.apikit.schemas import BodyId, Day, InputSchema, MoneyIn, Text, Yuan

from .models import Board, Stage


class ListingRecordOut(Schema):
    stage: Stage
    reached_on: date
    agency_id: int
    agency_name: str = Field(alias="agency.name")
    document_no: str
    evidence: str


class ListingPipelineOut(Schema):
    id: int
    enterprise_id: int
    enterprise_name: str = Field(alias="enterprise.name")
    enterprise_uscc: str = Field(alias="enterprise.uscc")
    region_code: str = Field(alias="enterprise.region_id")
    board: Board
    stage: Stage
    next_stage: Stage | None
    agency_id: int
    agency_name: str = Field(alias="agency.name")
    stock_code: str
    proceeds: Yuan | None
    listed_on: date | None
    withdrawn_on: date | None
    withdraw_reason: str
    created_at: datetime


class ListingPipelineDetailOut(ListingPipelineOut):
    records: list[ListingRecordOut]

    @staticmethod
    def resolve_records(obj) -> list:
        return obj.stage_records


class ListingPipelineFilter(Schema):
    stage: Stage | None = None
    board: Board | None = None


class ListingPipelineIn(InputSchema):
    enterprise: Text(18) | None = Field(  # type: ignore[valid-type]
        None, description="企业编号或统一社会信用代码；企业用户可省略（本企业）"
    )
    board: Board = Field(description="目标板块")
    agency_id: BodyId | None = Field(None, description="负责部门；政府用户默认本部门")
    reached_on: Day | None = Field(None, description="入库（孵化）日期，默认今天")
    document_no: Text(100) = ""  # type: ignore[valid-type]
    evidence: Text(500) = ""  # type: ignore[valid-type]


class ListingAdvanceIn(InputSchema):
    stage: Stage = Field(description="推进到的阶段（只能是下一阶段）")
    reached_on: Day = Field(description="到达该阶段的日期")
    agency_id: BodyId | None = Field(None, description="该阶段的负责部门；默认进程的负责部门")
    document_no: Text(100) = Field("", description="文号/受理号")  # type: ignore[valid-type]
    evidence: Text(500) = Field("", description="佐证材料说明")  # type: ignore[valid-type]
    stock_code: Text(20) = Field("", description="证券代码（上市/挂牌时必填）")  # type: ignore[valid-type]
    proceeds: MoneyIn | None = Field(None, description="募集资金（元，上市时必填）")


class ListingWithdrawIn(InputSchema):
    withdrawn_on: Day | None = Field(None, description="撤回/终止日期，默认今天")
    reason: Text(300, min_length=1)  # type: ignore[valid-type]


class ListingStageCountOut(Schema):
    stage: Stage
    current: int = Field(description="当前处于该阶段的进程数")
    by_year: dict[str, int] = Field(description="各年度到达该阶段的进程数")


class ListingStatsOut(Schema):
    stages: list[ListingStageCountOut]
    withdrawn: int
    listed: int
    proceeds: Yuan
