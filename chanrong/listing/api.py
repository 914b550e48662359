"""上市培育 over the API (mounted at /api/v1/listing): pipelines (list,
create, get), recording the next stage (advance) and withdrawal, and the
counts by stage and year. Reads start from `Pipeline.visible_to(caller)`;
anything not visible is a 404. Writes are service calls whose errors — 422
by field (a stage out of order, a date before the previous stage's or in the
future, 上市 on 新三板 …), 403 not this actor, 409 not in this state —
become the API's error shape.

(No `from __future__ import annotations`: django-ninja must see the real
parameter types of the paginated operations.)
"""

from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import ObjectId
from chanrong.core.errors import NotFound

from . import permissions, services
from .api_schemas import (
    ListingAdvanceIn,
    ListingPipelineDetailOut,
    ListingPipelineFilter,
    ListingPipelineIn,
    ListingPipelineOut,
    ListingStatsOut,
    ListingWithdrawIn,
)
from .models import Pipeline, StageRecord
from .services import stats

router = Router(tags=["listing 上市培育"])


def _dump(payload) -> dict:
    return {k: v for k, v in payload.model_dump(exclude_none=True).items() if v != ""}


def _detail(request, pk: int) -> Pipeline:
    pipeline = services.get_visible_pipeline(actor(request), pk)
    pipeline.stage_records = list(
        StageRecord.objects.visible_to(actor(request))
        .filter(pipeline=pipeline)
        .select_related("agency")
        .order_by("reached_on", "pk")
    )
    return pipeline


@router.get(
    "/pipelines",
    response=responses({200: list[ListingPipelineOut]}, 422),
    summary="上市培育进程列表（政府：辖区内；企业：本企业）",
)
@paginated
def list_pipelines(request, filters: Query[ListingPipelineFilter]):
    queryset = Pipeline.objects.visible_to(actor(request)).select_related("enterprise", "agency")
    if filters.stage:
        queryset = queryset.filter(stage=filters.stage)
    if filters.board:
        queryset = queryset.filter(board=filters.board)
    return queryset.order_by("-created_at", "-pk")


@router.post(
    "/pipelines",
    response=responses({201: ListingPipelineDetailOut}, 404, 409, 422),
    summary="建立上市培育进程（孵化）：政府为辖区企业，企业为本企业申请",
)
def create_pipeline(request, payload: ListingPipelineIn):
    pipeline = services.create_pipeline(actor(request), _dump(payload))
    return Status(201, _detail(request, pipeline.pk))


@router.get(
    "/pipelines/{id}",
    response=responses({200: ListingPipelineDetailOut}, 404, 422),
    summary="上市培育进程详情（含各阶段记录）",
)
def get_pipeline(request, id: ObjectId):
    return _detail(request, id)


@router.post(
    "/pipelines/{id}/advance",
    response=responses({200: ListingPipelineDetailOut}, 404, 409, 422),
    summary="记录下一阶段（逐级推进；上市/挂牌时填证券代码、募集资金）",
)
def advance(request, id: ObjectId, payload: ListingAdvanceIn):
    pipeline = services.get_visible_pipeline(actor(request), id)
    services.advance(actor(request), pipeline, _dump(payload))
    return _detail(request, id)


@router.post(
    "/pipelines/{id}/withdraw",
    response=responses({200: ListingPipelineDetailOut}, 404, 409, 422),
    summary="撤回/终止（上市/挂牌前的任一阶段）",
)
def withdraw(request, id: ObjectId, payload: ListingWithdrawIn):
    pipeline = services.get_visible_pipeline(actor(request), id)
    services.withdraw(actor(request), pipeline, _dump(payload))
    return _detail(request, id)


@router.get(
    "/stats",
    response=responses({200: ListingStatsOut}, 404),
    summary="各阶段进程数（当前）与各年度到达各阶段的进程数（政府：辖区内）",
)
def stage_stats(request):
    user = actor(request)
    if not permissions.may_view_stats(user):
        raise NotFound(_("未找到"))
    summary = stats.summarise(user)
    current = {code: n for code, _label, n in summary.current}
    return {
        "stages": [
            {
                "stage": code,
                "current": current[code],
                "by_year": {str(y): n for y, n in zip(summary.years, counts, strict=True)},
            }
            for code, _label, counts in summary.by_year
        ],
        "withdrawn": summary.withdrawn,
        "listed": summary.listed,
        "proceeds": summary.proceeds,
    }
