"""Publishing the ministry's decisions: the batch's list of pilots, which
anyone may read without logging in once published (and nothing before),
and which applications are pilots for progress tracking."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import notify
from chanrong.core.errors import Conflict, NotAllowed
from chanrong.core.workflow import apply_transition

from .. import permissions as perms
from ..models import Application, Batch, BatchState, MinistryReview, MinistryState
from ..workflows import BATCH
from .common import _clean_text, _day, _link, _region_admins, today
from .visibility import visible_applications


def publish_batch(actor, batch: Batch, *, title: str = "") -> Batch:
    """Publish the list: every application that reached the ministry must have
    a decision, and the provincial deadline must have passed."""
    if not perms.is_ministry_admin(actor):
        raise NotAllowed(_("只有工业和信息化部管理员可以公布名单"))
    if today() <= batch.provincial_deadline:
        raise Conflict(
            _("省级确认推荐截止日期（%(date)s）之后才能公布名单")
            % {"date": _day(batch.provincial_deadline)},
            code="too_early",
        )
    pending = MinistryReview.objects.filter(batch=batch, state=MinistryState.SCORING).count()
    if pending:
        raise Conflict(
            _("还有 %(pending)s 份申报尚未作出评审结论") % {"pending": pending},
            code="reviews_pending",
        )
    if not MinistryReview.objects.filter(batch=batch, state=MinistryState.APPROVED).exists():
        raise Conflict(_("没有确定为试点的城市，无法公布名单"), code="nothing_to_publish")
    title = _clean_text(title, 200)[:200] or f"{batch.name}产融合作试点城市名单"
    return apply_transition(
        BATCH,
        batch,
        "publish",
        actor,
        changes={"published_at": timezone.now(), "result_title": title},
        notify=_notify_published,
    )


def _notify_published(batch: Batch, transition, actor) -> None:
    for review in MinistryReview.objects.filter(batch=batch).select_related("application__region"):
        application = review.application
        approved = review.state == MinistryState.APPROVED
        if application.is_renewal:
            outcome = "已延续试点" if approved else "未予延续"
        else:
            outcome = "已确定为产融合作试点城市" if approved else "未入选"
        notify.send(
            _region_admins(application.region_id),
            "pilots.batch.publish",
            f"{batch.name}名单已公布：{application.region.name}{outcome}",
            _link("pilots:public_batch", batch.number),
        )


def published_batches():
    return Batch.objects.filter(state=BatchState.PUBLISHED).order_by("-number")


def published_pilots(batch: Batch) -> list[Application]:
    """The published list of a batch: nothing at all until it is published."""
    if batch.state != BatchState.PUBLISHED:
        return []
    return list(
        Application.objects.filter(batch=batch, ministry_review__state=MinistryState.APPROVED)
        .select_related("region__parent", "review_region")
        .order_by("review_region_id", "region_id")
    )


def pilots_of(actor) -> list[Application]:
    """Published pilots the actor can see (for progress tracking)."""
    return list(
        visible_applications(actor)
        .filter(batch__state=BatchState.PUBLISHED, ministry_review__state=MinistryState.APPROVED)
        .select_related("region", "batch", "indicator_plan")
        .order_by("-batch__number", "region_id")
    )


def is_pilot(application: Application) -> bool:
    """Approved by the ministry and published (read afresh, not from caches)."""
    return Application.objects.filter(
        pk=application.pk,
        batch__state=BatchState.PUBLISHED,
        ministry_review__state=MinistryState.APPROVED,
    ).exists()
