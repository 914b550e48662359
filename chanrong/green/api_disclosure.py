"""/api/v1/green endpoints of the disclosure subdomain (mounted by green/api.py):
institutions' yearly environmental information disclosure (JR/T 0227-2021).

An institution's system opens, fills and submits its form; an agency lists
the forms it sees, returns one for revision and reads the checklist of who
has filed in its region. A form outside the caller's scope is a 404; bad
input a 422 by field with nothing written.

(No `from __future__ import annotations`: django-ninja must see the real
parameter types of the paginated operations.)
"""

from decimal import Decimal
from typing import Any

from ninja import Field, Query, Router, Schema, Status

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import InputSchema, ObjectId, Text

from .models.disclosure import SECTION_KEYS, Disclosure, DisclosureState
from .services import disclosure as svc

router = Router()

Figure = Decimal | None


class GreenDisclosureOpenIn(InputSchema):
    year: int = Field(description="披露年度（2021 至今年）")
    branch_id: int | None = Field(
        None, description="单独披露的分支机构编号（本机构的分支机构）；空为本机构总部"
    )


class GreenDisclosureIn(InputSchema):
    """The whole form; what is left out is cleared (as a web form posts every field)."""

    sections: dict[str, str] = Field(
        default_factory=dict, description="章节键 → 内容：" + "、".join(SECTION_KEYS)
    )
    green_loan_balance: Figure = Field(None, description="绿色信贷余额（元）")
    total_loan_balance: Figure = Field(None, description="各项贷款余额（元）")
    green_loans_disbursed: Figure = Field(None, description="本年绿色贷款发放额（元）")
    financed_emissions: Figure = Field(None, description="投融资活动碳排放量（tCO2e）")
    emission_reduction: Figure = Field(None, description="绿色投融资支持项目碳减排量（tCO2e）")
    operational_emissions: Figure = Field(None, description="经营活动碳排放量（tCO2e）")
    operational_electricity: Figure = Field(None, description="经营活动耗电量（千瓦时）")


class GreenDisclosureReturnIn(InputSchema):
    reason: Text(500, min_length=1, kind="text")


class GreenDisclosureOut(Schema):
    id: int
    institution_id: int
    institution_name: str = Field(alias="institution.name")
    branch_id: int | None = Field(None, description="分支机构编号；空为总部的披露")
    branch_name: str = Field("", description="分支机构名称")
    year: int
    state: DisclosureState
    sections: dict[str, Any]
    missing_sections: list[str] = Field(description="未填章节的键")
    green_loan_balance: Figure
    total_loan_balance: Figure
    green_loans_disbursed: Figure
    financed_emissions: Figure
    emission_reduction: Figure
    operational_emissions: Figure
    operational_electricity: Figure
    return_reason: str

    @staticmethod
    def resolve_missing_sections(obj) -> list[str]:
        return obj.missing_sections()

    @staticmethod
    def resolve_branch_name(obj) -> str:
        return obj.branch.name if obj.branch_id else ""


class GreenDisclosureFilter(Schema):
    year: int | None = Field(None, ge=2000, le=2100)
    state: DisclosureState | None = None


class GreenChecklistFilter(Schema):
    year: int = Field(ge=2000, le=2100, description="披露年度")


class GreenChecklistRowOut(Schema):
    institution_id: int = Field(alias="pk")
    institution_name: str = Field(alias="name")
    disclosure_id: int | None = Field(None, description="填报表编号（草稿不可读）")
    state: str = Field(description="submitted / returned / draft；空为未填报")
    missing_sections: list[str] = Field(description="未填章节名称")

    @staticmethod
    def resolve_disclosure_id(obj) -> int | None:
        return obj.d_id if obj.d_state and obj.d_state != DisclosureState.DRAFT else None

    @staticmethod
    def resolve_state(obj) -> str:
        return obj.d_state or ""

    @staticmethod
    def resolve_missing_sections(obj) -> list[str]:
        return svc.missing_titles(obj.d_sections)


def _out(request, pk: int) -> Disclosure:
    return svc.disclosure_for(actor(request), pk)


@router.get(
    "/disclosures",
    response=responses({200: list[GreenDisclosureOut]}, 422),
    summary="环境信息披露（本机构的；政府：本地区已提交的）",
)
@paginated
def list_disclosures(request, filters: Query[GreenDisclosureFilter]):
    queryset = Disclosure.objects.visible_to(actor(request)).select_related("institution", "branch")
    if filters.year:
        queryset = queryset.filter(year=filters.year)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    return queryset.order_by("-year", "pk")


@router.post(
    "/disclosures",
    response=responses({201: GreenDisclosureOut}, 403, 422),
    summary="打开本机构（或其分支机构）某年度的披露填报表（已有则返回已有的）",
)
def open_disclosure(request, payload: GreenDisclosureOpenIn):
    disclosure = svc.open_disclosure(actor(request), payload.year, payload.branch_id)
    return Status(201, _out(request, disclosure.pk))


@router.get(
    "/disclosures/checklist",
    response=responses({200: list[GreenChecklistRowOut]}, 403, 422),
    summary="本地区金融机构某年度披露情况及未填章节（政府）",
)
@paginated
def checklist(request, filters: Query[GreenChecklistFilter]):
    return svc.checklist(actor(request), filters.year)


@router.get(
    "/disclosures/{id}", response=responses({200: GreenDisclosureOut}, 404, 422), summary="披露详情"
)
def get_disclosure(request, id: ObjectId):
    return _out(request, id)


@router.put(
    "/disclosures/{id}",
    response=responses({200: GreenDisclosureOut}, 403, 404, 409, 422),
    summary="保存填报表（草稿或被退回时；本机构人员）",
)
def put_disclosure(request, id: ObjectId, payload: GreenDisclosureIn):
    disclosure = _out(request, id)
    svc.save_disclosure(actor(request), disclosure, payload.model_dump())
    return _out(request, id)


@router.post(
    "/disclosures/{id}/submit",
    response=responses({200: GreenDisclosureOut}, 403, 404, 409, 422),
    summary="提交（本机构管理员；各章节及必填数据齐全）",
)
def submit_disclosure(request, id: ObjectId):
    disclosure = _out(request, id)
    svc.submit(actor(request), disclosure)
    return _out(request, id)


@router.post(
    "/disclosures/{id}/return",
    response=responses({200: GreenDisclosureOut}, 403, 404, 409, 422),
    summary="退回修改（所在地政府部门，须写理由）",
)
def return_disclosure(request, id: ObjectId, payload: GreenDisclosureReturnIn):
    disclosure = _out(request, id)
    svc.return_for_revision(actor(request), disclosure, payload.model_dump())
    return _out(request, id)
