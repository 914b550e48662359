"""The public side over the API (mounted at /api/v1/public), no
authentication: published 融资知识 articles, the FAQ, the answered and
published consultations (askers masked), and asking a question
(anonymous, rate-limited per address: 429 with Retry-After).

(No `from __future__ import annotations`: django-ninja must see the real
parameter types of the paginated operations.)
"""

from django.http import JsonResponse
from ninja import Query, Router, Status

from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.context import client_ip
from chanrong.core.models import Region

from . import services
from .api_schemas import (
    PublicAnswerFilter,
    PublicAnswerOut,
    PublicArticleFilter,
    PublicArticleOut,
    PublicConsultationIn,
    PublicConsultationOut,
    PublicFaqOut,
)
from .services import consultations

router = Router(tags=["public 公开服务"])


class _PublicAnswers:
    """The published consultations as the public sees them, converted one
    page at a time (the paginator counts, then slices)."""

    def __init__(self, queryset):
        self.queryset = queryset

    def __len__(self) -> int:
        return self.queryset.count()

    def __getitem__(self, window: slice):
        return [consultations.public_view(c) for c in self.queryset[window]]


@router.get(
    "/articles",
    response=responses({200: list[PublicArticleOut]}, 422),
    auth=None,
    summary="融资知识（已发布，无需登录）",
)
@paginated
def list_articles(request, filters: Query[PublicArticleFilter]):
    region = Region.objects.filter(pk=filters.region).first() if filters.region else None
    return services.public_articles(
        query=filters.q,
        category=filters.category or "",
        region_prefix=region.prefix if region else "",
    )


@router.get(
    "/faq",
    response=responses({200: list[PublicFaqOut]}, 422),
    auth=None,
    summary="常见问题（无需登录）",
)
def list_faq(request):
    return list(services.public_faq())


@router.get(
    "/consultations",
    response=responses({200: list[PublicAnswerOut]}, 422),
    auth=None,
    summary="已公开的咨询答复（留言人打码，无需登录）",
)
@paginated
def list_answers(request, filters: Query[PublicAnswerFilter]):
    return _PublicAnswers(consultations.public_answers(query=filters.q))


@router.post(
    "/consultations",
    response=responses({201: PublicConsultationOut}, 422, 429),
    auth=None,
    summary="留言咨询（匿名可用，按来源地址限流）",
)
def ask(request, payload: PublicConsultationIn):
    try:
        created = consultations.submit(None, payload.model_dump(), ip=client_ip(request))
    except consultations.Throttled as exc:
        response = JsonResponse(
            exc.as_dict(), status=429, json_dumps_params={"ensure_ascii": False}
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
    return Status(201, created)
