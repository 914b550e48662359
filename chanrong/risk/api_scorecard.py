"""The scorecard over the API (mounted under /api/v1/risk by risk/api.py):
versions with their test metrics, one version's points table, the approval
(a government admin; a version below the AUC floor is refused with the
reason, 422), and an enterprise's latest score with its reasons.

Versions are for government, institutions and platform admins; a score for
whoever `scoring.scorable_enterprises` lets see the enterprise. Anything
else is a 404.

(No `from __future__ import annotations`: django-ninja must see the real
parameter types of the paginated operations.)
"""

from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Router, Schema

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import ObjectId
from chanrong.core.errors import Conflict, NotFound, ValidationFailed

from .models import ModelStatus, ModelVersion
from .services import scoring

router = Router(tags=["risk 风险监测"])


class RiskModelOut(Schema):
    id: int
    number: int
    status: ModelStatus
    created_at: datetime
    as_of: date
    trained_from: date | None
    trained_until: date | None
    refusal_reason: str
    approved_at: datetime | None
    metrics: dict[str, Any]


class RiskPointsBinOut(Schema):
    bin: str
    points: int
    woe: float | None
    bad_rate: float | None
    count: int
    share: float | None


class RiskPointsFeatureOut(Schema):
    feature: str
    label: str
    iv: float | None
    bins: list[RiskPointsBinOut]


class RiskModelDetailOut(RiskModelOut):
    points_table: list[RiskPointsFeatureOut]


class RiskReasonOut(Schema):
    feature: str
    label: str
    value: str | None
    points: int
    text: str


class RiskScoreOut(Schema):
    enterprise_id: int
    uscc: str
    name: str
    version: int
    as_of: date
    score: float
    probability: float
    grade: str
    grade_label: str
    reasons: list[RiskReasonOut]


def _version(request, model_id: int) -> ModelVersion:
    version = ModelVersion.objects.visible_to(actor(request)).filter(pk=model_id).first()
    if version is None:
        raise NotFound(_("未找到该评分卡版本"))
    return version


def _detail(version: ModelVersion) -> dict[str, Any]:
    return {
        **{field: getattr(version, field) for field in RiskModelOut.model_fields},
        "points_table": scoring.points_table(version),
    }


@router.get(
    "/models", response=responses({200: list[RiskModelOut]}, 422), summary="评分卡版本及测试集指标"
)
@paginated
def list_models(request):
    return ModelVersion.objects.visible_to(actor(request)).order_by("-number")


@router.get(
    "/models/{id}",
    response=responses({200: RiskModelDetailOut}, 404, 422),
    summary="评分卡版本：指标与分值表",
)
def get_model(request, id: ObjectId):
    return _detail(_version(request, id))


@router.post(
    "/models/{id}/approve",
    response=responses({200: RiskModelDetailOut}, 403, 404, 409, 422),
    summary="批准评分卡上线（政府管理员；测试集 AUC 低于下限的版本被拒绝并说明原因）",
)
def approve_model(request, id: ObjectId):
    version = _version(request, id)
    try:
        version = scoring.approve(actor(request), version)
    except Conflict as exc:
        version.refresh_from_db()
        if exc.code == "auc_below_floor" or version.status == ModelStatus.REFUSED:
            reason = version.refusal_reason or exc.message
            raise ValidationFailed({"id": reason}, message=reason) from None
        raise
    return _detail(version)


@router.get(
    "/scores/{enterprise_id}",
    response=responses({200: RiskScoreOut}, 404, 422),
    summary="企业风险评分与主要扣分原因（在用评分卡版本的最新评分）",
)
def get_score(request, enterprise_id: ObjectId):
    enterprise = scoring.scorable_enterprises(actor(request)).filter(pk=enterprise_id).first()
    if enterprise is None:
        raise NotFound(_("未找到该企业"))
    score = scoring.score_of(enterprise)
    if score is None:
        raise NotFound(_("该企业尚无在用评分卡版本下的评分"))
    band = scoring.band_of(score.probability)
    return {
        "enterprise_id": enterprise.pk,
        "uscc": enterprise.uscc,
        "name": enterprise.name,
        "version": score.version.number,
        "as_of": score.as_of,
        "score": score.score,
        "probability": score.probability,
        "grade": band["grade"],
        "grade_label": band["label"],
        "reasons": score.reasons,
    }
