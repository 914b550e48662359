"""What a draft application must satisfy before anything is written to it:
who may still change it, and how long its implementation period may be
(方案实施期不超过3年). Shared by the application's own fields, its documents,
its 定量指标统计表 and its submission, which is why it is a module of its own."""

from __future__ import annotations

from django.utils.translation import gettext as _

from chanrong.core.errors import Conflict, NotAllowed

from .. import permissions as perms
from ..models import Application, ApplicationState, Batch, BatchState


def _period_errors(batch: Batch, start: int | None, end: int | None) -> dict[str, str]:
    """方案实施期不超过3年: at most `batch.max_period_years` calendar years,
    start to end inclusive (2021—2023 is three years)."""
    errors: dict[str, str] = {}
    if start is None or end is None:
        return errors
    if end < start:
        errors["end_year"] = _("实施期截止年份不能早于起始年份")
    elif end - start + 1 > batch.max_period_years:
        errors["end_year"] = _(
            "方案实施期不超过%(max_period_years)s年（当前为%(start)s—%(end)s年，共%(years)s年）"
        ) % {
            "max_period_years": batch.max_period_years,
            "start": start,
            "end": end,
            "years": end - start + 1,
        }
    deadline_year = batch.application_deadline.year
    if start < deadline_year - 1 or start > deadline_year + 2:
        errors["start_year"] = _("实施期起始年份应在 %(low)s–%(high)s 年之间") % {
            "low": deadline_year - 1,
            "high": deadline_year + 2,
        }
    return errors


def can_edit(actor, application: Application) -> bool:
    return (
        perms.is_applicant_admin(actor, application.region_id)
        and application.state == ApplicationState.DRAFT
        and application.batch.state == BatchState.OPEN
    )


def _require_editable(actor, application: Application) -> None:
    if not perms.is_applicant_admin(actor, application.region_id):
        raise NotAllowed(_("只有申报城市（区）的政府管理员可以修改申报"))
    if application.state != ApplicationState.DRAFT:
        raise Conflict(_("申报已提交，如需修改请先撤回"), code="not_draft")
    if application.batch.state != BatchState.OPEN:
        raise Conflict(_("本批次已不接受申报"), code="batch_not_open")
