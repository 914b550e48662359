"""/api/v1/green/library: the 绿色产业指导目录, applications to the 绿色融资
企业（项目）库 (apply, review, withdraw, remove), drafting the approved ones
into the green list's next version, the published library and the
statistics by category. Reads start from the models' `visible_to` /
`published_to`; anything not visible is a 404. Writes are service calls
whose errors — 422 by field, 403 not this actor, 409 not in this state —
become the API's error shape. (Mounted by green/api.py.)

(No `from __future__ import annotations`: django-ninja must see the real
parameter types of the paginated operations.)
"""

from datetime import date, datetime

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import BodyId, Day, InputSchema, ObjectId, Text, Yuan
from chanrong.core.errors import NotFound

from .models import CatalogueEdition, CatalogueItem, LibraryApplication, LibraryStatus
from .services import library as services
from .services import library_stats as stats

router = Router(tags=["green 绿色融资企业（项目）库"])


# --- shapes (class names start with Green: OpenAPI components are named after them) ----------


class GreenEditionOut(Schema):
    code: str
    name: str
    issuer: str
    document_no: str
    issued_on: date | None
    source: str
    completeness: str


class GreenItemOut(Schema):
    code: str
    name: str
    level: int
    parent_code: str | None = Field(None, alias="parent.code")


class GreenCatalogueFilter(Schema):
    edition: str | None = Field(None, description="版本代码（如 2019），默认最新版本")
    level: int | None = Field(None, ge=1, le=3)


class GreenEvidenceIn(InputSchema):
    name: Text(200) = ""  # type: ignore[valid-type]
    number: Text(100) = ""  # type: ignore[valid-type]
    issued_on: Day | None = None


class GreenEvidenceOut(Schema):
    name: str
    number: str
    issued_on: date | None


class GreenApplicationIn(InputSchema):
    green_list_id: BodyId | None = Field(None, description="申请列入的名单；只有一个可选时可省略")
    project_id: BodyId | None = Field(None, description="本企业的项目；省略为企业本身")
    item_code: Text(16) = Field("", description="目录条目编号，如 1.1.1")  # type: ignore[valid-type]
    description: Text(2000) = Field("", description="绿色属性说明")  # type: ignore[valid-type]
    evidence: list[GreenEvidenceIn] = Field(default_factory=list, description="佐证材料，至少一份")


class GreenApplicationOut(Schema):
    id: int
    status: LibraryStatus
    green_list_id: int
    green_list_name: str = Field(alias="green_list.name")
    enterprise_id: int
    enterprise_name: str = Field(alias="enterprise.name")
    enterprise_uscc: str = Field(alias="enterprise.uscc")
    region_code: str = Field(alias="enterprise.region_id")
    project_id: int | None
    project_name: str | None = Field(None, alias="project.name")
    edition: str = Field(alias="item.edition.code")
    item_code: str = Field(alias="item.code")
    item_name: str = Field(alias="item.name")
    category_code: str = Field(alias="category.code")
    category_name: str = Field(alias="category.name")
    submitted_at: datetime
    reviewed_at: datetime | None
    review_note: str
    closed_reason: str
    added_in_version: int | None = Field(None, alias="added_in.number")
    removed_in_version: int | None = Field(None, alias="removed_in.number")


class GreenApplicationDetailOut(GreenApplicationOut):
    description: str
    evidence: list[GreenEvidenceOut]
    actions: list[str]
    in_library: bool

    @staticmethod
    def resolve_evidence(obj) -> list:
        return list(obj.evidence.all())


class GreenApplicationFilter(Schema):
    status: LibraryStatus | None = None


class GreenEntryFilter(Schema):
    category: str | None = Field(None, description="一级分类编号 1–6")


class GreenNoteIn(InputSchema):
    note: Text(500) = ""  # type: ignore[valid-type]


class GreenReasonIn(InputSchema):
    reason: Text(500) = ""  # type: ignore[valid-type]


class GreenProposeOut(Schema):
    list_id: int
    version: int
    status: str
    added: list[int]
    removed: list[int]


class GreenStatsRowOut(Schema):
    category_code: str
    category_name: str
    region_code: str
    region_name: str
    subjects: int
    demands: int
    amount: Yuan
    accepted: Yuan
    granted: Yuan
    disbursed: Yuan


class GreenStatsOut(Schema):
    rows: list[GreenStatsRowOut]
    by_category: list[GreenStatsRowOut]
    total: GreenStatsRowOut


# --- the catalogue ----------------------------------------------------------------------------


@router.get(
    "/library/catalogue/editions",
    response=responses({200: list[GreenEditionOut]}),
    summary="绿色产业指导目录的版本（含来源）",
)
@paginated
def list_editions(request):
    actor(request)
    return CatalogueEdition.objects.all()


@router.get(
    "/library/catalogue",
    response=responses({200: list[GreenItemOut]}, 404, 422),
    summary="绿色产业指导目录条目（按编号排序）",
)
@paginated
def list_items(request, filters: Query[GreenCatalogueFilter]):
    actor(request)
    editions = CatalogueEdition.objects.all()
    edition = editions.filter(code=filters.edition).first() if filters.edition else editions.first()
    if edition is None:
        raise NotFound(_("目录版本不存在"))
    items = CatalogueItem.objects.filter(edition=edition).select_related("parent")
    if filters.level:
        items = items.filter(level=filters.level)
    return items.order_by("sort_key")


# --- applications -----------------------------------------------------------------------------

RELATED = (
    "enterprise",
    "project",
    "item__edition",
    "category",
    "green_list",
    "added_in",
    "removed_in",
)


def _detail(request, pk: int) -> LibraryApplication:
    user = actor(request)
    application = services.get_visible_application(user, pk)
    application = (
        LibraryApplication.objects.select_related(*RELATED)
        .prefetch_related("evidence")
        .get(pk=application.pk)
    )
    application.actions = services.actions(user, application)
    application.in_library = services.in_library(application)
    return application


@router.get(
    "/library/applications",
    response=responses({200: list[GreenApplicationOut]}, 422),
    summary="入库申请（企业：本企业的；政府：辖区内及本部门名单的）",
)
@paginated
def list_applications(request, filters: Query[GreenApplicationFilter]):
    queryset = LibraryApplication.objects.visible_to(actor(request)).select_related(*RELATED)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    return queryset.order_by("-submitted_at", "-pk")


@router.post(
    "/library/applications",
    response=responses({201: GreenApplicationDetailOut}, 403, 422),
    summary="申请入库（企业用户：本企业或本企业的项目）",
)
def create_application(request, payload: GreenApplicationIn):
    data = payload.model_dump(exclude_none=True)
    application = services.apply(actor(request), data)
    return Status(201, _detail(request, application.pk))


@router.get(
    "/library/applications/{id}",
    response=responses({200: GreenApplicationDetailOut}, 404),
    summary="入库申请详情（含佐证材料和可执行的操作）",
)
def get_application(request, id: ObjectId):
    return _detail(request, id)


def _act(request, id: int, call):
    user = actor(request)
    application = services.get_visible_application(user, id)
    call(user, application)
    return _detail(request, id)


@router.post(
    "/library/applications/{id}/approve",
    response=responses({200: GreenApplicationDetailOut}, 403, 404, 409, 422),
    summary="审核通过（名单维护部门）",
)
def approve(request, id: ObjectId, payload: GreenNoteIn):
    return _act(request, id, lambda u, a: services.approve(u, a, note=payload.note))


@router.post(
    "/library/applications/{id}/reject",
    response=responses({200: GreenApplicationDetailOut}, 403, 404, 409, 422),
    summary="审核不通过（名单维护部门，须说明理由）",
)
def reject(request, id: ObjectId, payload: GreenNoteIn):
    return _act(request, id, lambda u, a: services.reject(u, a, note=payload.note))


@router.post(
    "/library/applications/{id}/withdraw",
    response=responses({200: GreenApplicationDetailOut}, 403, 404, 409, 422),
    summary="撤回（申请企业，须说明原因；已入库的在名单下一版本中移出）",
)
def withdraw(request, id: ObjectId, payload: GreenReasonIn):
    return _act(request, id, lambda u, a: services.withdraw(u, a, reason=payload.reason))


@router.post(
    "/library/applications/{id}/remove",
    response=responses({200: GreenApplicationDetailOut}, 403, 404, 409, 422),
    summary="移出绿色库（名单维护部门，须说明原因）",
)
def remove(request, id: ObjectId, payload: GreenReasonIn):
    return _act(request, id, lambda u, a: services.remove(u, a, reason=payload.reason))


@router.post(
    "/library/lists/{id}/propose",
    response=responses({201: GreenProposeOut}, 403, 404, 409, 422),
    summary="把审核结果编入绿色库名单的下一版本草稿（之后经名单审批发布）",
)
def propose(request, id: ObjectId, payload: GreenNoteIn):
    user = actor(request)
    lst = services.reviewable_lists(user).filter(pk=id).first()
    if lst is None:
        raise NotFound(_("名单不存在"))
    version, diff = services.propose_version(user, lst, note=payload.note)
    return Status(
        201,
        {
            "list_id": lst.pk,
            "version": version.number,
            "status": version.status,
            "added": [a.pk for a in diff.add],
            "removed": [a.pk for a in diff.remove],
        },
    )


# --- the published library and its statistics -------------------------------------------------


@router.get(
    "/library/entries",
    response=responses({200: list[GreenApplicationOut]}, 422),
    summary="已入库的企业和项目（已发布并生效的名单版本），可按一级分类筛选",
)
@paginated
def list_entries(request, filters: Query[GreenEntryFilter]):
    queryset = LibraryApplication.objects.published_to(actor(request)).select_related(*RELATED)
    if filters.category:
        queryset = queryset.filter(category__code=filters.category)
    return queryset.order_by("category__sort_key", "item__sort_key", "pk")


@router.get(
    "/library/stats",
    response=responses({200: GreenStatsOut}, 404),
    summary="绿色融资统计：入库企业/项目的融资需求、采纳方案、授信、放款，按一级分类和地区",
)
def library_stats(request):
    user = actor(request)
    if not stats.may_view_stats(user):
        raise NotFound(_("未找到"))
    summary = stats.summarise(user)
    return {"rows": summary.rows, "by_category": summary.by_category, "total": summary.total}
