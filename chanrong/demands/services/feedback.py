"""The enterprise's rating of each institution that handled a closed
demand (once per demand and institution), and the average ratings pages and
statistics show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.finance.models import FinancialInstitution

from .. import workflows
from ..models import CLOSED_STATES, Demand, Dispatch, Feedback
from .common import _notify, institution_users
from .parsing import _int, _valid_pk


def feedback_institutions(demand: Demand) -> list[FinancialInstitution]:
    """Institutions the enterprise may still rate on this demand."""
    if demand.state not in CLOSED_STATES:
        return []
    rated = set(demand.feedback.values_list("institution_id", flat=True))
    dispatched = (
        FinancialInstitution.objects.filter(dispatches__demand=demand)
        .exclude(pk__in=rated)
        .distinct()
        .order_by("name", "pk")
    )
    return list(dispatched)


def leave_feedback(
    actor, demand: Demand, institution_id: Any, score: Any, comment: str = ""
) -> Feedback:
    """Once per demand and institution, after the demand has closed."""
    if not workflows.is_owner(actor, demand):
        raise NotAllowed(_("只有发布需求的企业可以评价"))
    errors: list[FieldError] = []
    value = _int(score, "score", errors, 1, 5, _("评分应为 1–5 的整数"))
    comment = str(comment or "").strip()
    if len(comment) > 500:
        errors.append(FieldError("comment", _("最多 500 个字符")))
    try:
        institution_pk = int(institution_id)
        if not _valid_pk(institution_pk):
            raise ValueError
    except (TypeError, ValueError):
        errors.append(FieldError("institution_id", _("应为金融机构编号")))
        institution_pk = None
    if errors:
        raise ValidationFailed(errors)
    if demand.state not in CLOSED_STATES:
        raise Conflict(_("需求结束（已放款、未获批或撤回）后才能评价"), code="not_closed")
    if not Dispatch.objects.filter(demand=demand, institution_id=institution_pk).exists():
        raise ValidationFailed({"institution_id": _("该机构未受理本需求")})
    try:
        with transaction.atomic():
            feedback = Feedback.objects.create(
                demand=demand, institution_id=institution_pk, enterprise_id=demand.enterprise_id,
                score=value, comment=comment, created_by=actor, created_at=timezone.now(),
            )  # fmt: skip
            audit.record(
                "feedback.create", actor=actor, obj=feedback,
                changes={"institution": institution_pk, "score": value, "comment": comment},
            )  # fmt: skip
            _notify(
                demand, "feedback.create",
                _("企业对 %(name)s 的服务评分：%(score)s 分") % {"name": feedback.institution, "score": value},
                actor=actor, recipients=institution_users(institution_pk),
                institution_id=institution_pk,
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(_("已评价过该机构在本需求中的服务"), code="already_rated") from None
    return feedback


@dataclass(frozen=True)
class Rating:
    average: Decimal | None
    count: int


def ratings(institution_ids: Iterable[int]) -> dict[int, Rating]:
    """Average score and number of ratings per institution (for pages and statistics)."""
    ids = list(institution_ids)
    rows = (
        Feedback.objects.filter(institution_id__in=ids)
        .values("institution_id")
        .annotate(avg=Avg("score"), n=Count("pk"))
    )
    found = {
        row["institution_id"]: Rating(Decimal(str(row["avg"])).quantize(Decimal("0.1")), row["n"])
        for row in rows
    }
    return {pk: found.get(pk, Rating(None, 0)) for pk in ids}
