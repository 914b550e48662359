"""Ministry review by the five ministries: reviewers score against the
batch's rubric, the board ranks applications by mean score, and the
ministry's admin decides (确定为试点 / 延续试点, or not) or reconsiders
before the list is published."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import apply_transition

from .. import permissions as perms
from ..models import (
    Application,
    Batch,
    BatchState,
    MinistryReview,
    MinistryScore,
    MinistryState,
    RubricCriterion,
)
from ..workflows import MINISTRY_REVIEW
from .common import _clean_text


def _require_scoring(application: Application) -> MinistryReview:
    review = MinistryReview.objects.filter(application=application).first()
    if review is None:
        raise Conflict(_("该申报尚未进入部级评审阶段，不能打分"), code="not_in_ministry_review")
    if review.state != MinistryState.SCORING:
        raise Conflict(_("部级评审已作出结论，不能再打分"), code="not_in_ministry_review")
    return review


def score(
    actor, application: Application, items: dict[Any, Any], *, comment: str = ""
) -> MinistryScore:
    """One reviewer's scores against the batch's rubric (replaces the
    reviewer's earlier scores for this application)."""
    if not perms.is_ministry_reviewer(actor):
        raise NotAllowed(_("只有五部门的评审人员可以打分"))
    review = _require_scoring(application)
    criteria = list(application.batch.criteria.all())
    if not isinstance(items, dict):
        raise ValidationFailed({"items": _("应为 {评分项编号: 分数}")})
    given = {str(k): v for k, v in items.items()}
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    total = Decimal(0)
    for criterion in criteria:
        key = str(criterion.pk)
        raw = given.pop(key, None)
        if raw in (None, ""):
            errors[f"items.{key}"] = _("请为「%(criterion)s」打分") % {"criterion": criterion.name}
            continue
        try:
            value = Decimal(str(raw).strip())
            if not value.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors[f"items.{key}"] = _("分数应为数字")
            continue
        if not Decimal(0) <= value <= criterion.max_score:
            errors[f"items.{key}"] = _("分数应在 0–%(max_score)s 之间") % {
                "max_score": criterion.max_score
            }
            continue
        value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        cleaned[key] = str(value)
        total += value
    for key in given:
        errors[f"items.{key}"] = _("评分标准中没有这一项")
    comment = _clean_text(comment, 5000)
    if len(comment) > 5000:
        errors["comment"] = _("评审意见不超过 5000 字")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        review = MinistryReview.objects.select_for_update().get(pk=review.pk)
        if review.state != MinistryState.SCORING:
            raise Conflict(_("部级评审已作出结论，不能再打分"), code="not_in_ministry_review")
        result, created = MinistryScore.objects.update_or_create(
            review=review,
            reviewer=actor,
            defaults={"agency": actor.agency, "items": cleaned, "total": total, "comment": comment},
        )
        audit.record(
            "pilots.ministry_review.score",
            actor=actor,
            obj=review,
            changes={"items": cleaned, "total": str(total), "created": created},
        )
    return result


@dataclass
class ScoreSummary:
    count: int
    mean_total: Decimal | None
    max_total: Decimal
    by_criterion: list[tuple[RubricCriterion, Decimal | None]]
    by_function: dict[str, Decimal]
    scores: list[MinistryScore] = field(default_factory=list)

    @property
    def table(self) -> list[tuple[MinistryScore, list[str]]]:
        """Each reviewer's score with the items in rubric order."""
        return [
            (s, [s.items.get(str(c.pk), "") for c, _mean in self.by_criterion]) for s in self.scores
        ]


def _mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def score_summary(review: MinistryReview) -> ScoreSummary:
    """The mean of the reviewers' totals, per rubric item and per ministry."""
    criteria = list(review.batch.criteria.all())
    scores = list(review.scores.select_related("reviewer", "agency").order_by("agency__name", "pk"))
    per_function: dict[str, list[Decimal]] = defaultdict(list)
    for s in scores:
        per_function[s.agency.get_function_display()].append(s.total)
    return ScoreSummary(
        count=len(scores),
        mean_total=_mean([s.total for s in scores]),
        max_total=sum((c.max_score for c in criteria), Decimal(0)),
        by_criterion=[
            (c, _mean([Decimal(s.items[str(c.pk)]) for s in scores if str(c.pk) in s.items]))
            for c in criteria
        ],
        by_function={k: _mean(v) for k, v in per_function.items()},  # type: ignore[misc]
        scores=scores,
    )


def ministry_board(actor, batch: Batch) -> list[tuple[MinistryReview, ScoreSummary]]:
    """The applications under ministry review in a batch, best mean first."""
    if not perms.is_ministry_user(actor) and scope_of(actor).kind != ScopeKind.PLATFORM:
        raise NotFound(_("未找到"))
    reviews = MinistryReview.objects.filter(batch=batch).select_related(
        "application__region", "application__review_region", "application__batch", "batch"
    )
    rows = [(r, score_summary(r)) for r in reviews]
    rows.sort(key=lambda row: (-(row[1].mean_total or Decimal(-1)), row[0].application.region_id))
    return rows


def decide(actor, application: Application, *, approve: bool, note: str = "") -> MinistryReview:
    """确定为试点 (or 延续试点 for a renewal), or not; before publication."""
    if not perms.is_ministry_admin(actor):
        raise NotAllowed(_("只有工业和信息化部管理员可以作出评审结论"))
    if application.batch.state == BatchState.PUBLISHED:
        raise Conflict(_("名单已公布，不能再改变评审结论"), code="batch_published")
    review = _require_scoring(application)
    if not review.scores.exists():
        raise Conflict(_("尚无评审打分，不能作出结论"), code="no_scores")
    note = _clean_text(note, 1000)[:1000]
    return apply_transition(
        MINISTRY_REVIEW,
        review,
        "approve" if approve else "reject",
        actor,
        changes={"decision_note": note, "decided_by": actor, "decided_at": timezone.now()},
    )


def reconsider(actor, application: Application) -> MinistryReview:
    if application.batch.state == BatchState.PUBLISHED:
        raise Conflict(_("名单已公布，不能再改变评审结论"), code="batch_published")
    review = MinistryReview.objects.filter(application=application).first()
    if review is None:
        raise Conflict(_("该申报尚未进入部级评审阶段"), code="not_in_ministry_review")
    return apply_transition(
        MINISTRY_REVIEW,
        review,
        "reconsider",
        actor,
        changes={"decision_note": "", "decided_by": None, "decided_at": None},
    )
