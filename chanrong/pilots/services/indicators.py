"""The application's 定量指标统计表, kept by the indicator side
(chanrong.insights): an IndicatorPlan covering the implementation period,
its targets per indicator and year, or the whole table imported as
printed in the plan. The only place the programme writes to insights."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, ValidationFailed
from chanrong.insights import services as insights_services
from chanrong.insights.models import IndicatorDefinition

from ..models import Application
from .drafts import _period_errors, _require_editable


def _plan_title(application: Application) -> str:
    return (
        f"{application.region.name}产融合作试点城市定量指标统计表"
        f"（{application.start_year}—{application.end_year}年）"
    )


def _sync_indicator_plan(actor, application: Application) -> None:
    """Keep the application's IndicatorPlan covering its period. The plan's
    years cannot change in place, so a new period gets a new plan with the
    targets of the years both share, and the old plan goes."""
    if not (application.start_year and application.end_year):
        return
    plan = application.indicator_plan
    if (
        plan is not None
        and plan.start_year == application.start_year
        and plan.end_year == application.end_year
    ):
        return
    new_plan = insights_services.create_plan(
        actor,
        application.region,
        _plan_title(application),
        application.start_year,
        application.end_year,
    )
    if plan is not None:
        rows = [
            {
                "definition": t.definition_id,
                "year": t.year,
                "value": t.value,
                "second_value": t.second_value,
            }
            for t in plan.targets.all()
            if application.start_year <= t.year <= application.end_year
        ]
        if rows:
            insights_services.set_targets(actor, new_plan, rows)
    application.indicator_plan = new_plan
    application.save(update_fields=["indicator_plan"])
    if plan is not None:
        audit.record(
            "pilots.application.replace_plan",
            actor=actor,
            obj=application,
            changes={"indicator_plan": [plan.pk, new_plan.pk]},
        )
        plan.delete()


def indicator_definitions():
    return list(IndicatorDefinition.objects.all())


def set_indicator_targets(actor, application: Application, rows: list[dict]) -> None:
    """The 定量指标统计表: a target per indicator and year of the period
    (rows as chanrong.insights.services.set_targets takes them)."""
    _require_editable(actor, application)
    if application.indicator_plan is None:
        raise Conflict(_("请先填写方案实施期（起止年份）"), code="no_period")
    with transaction.atomic():
        insights_services.set_targets(actor, application.indicator_plan, rows)
        application.save(update_fields=["updated_at"])


def import_indicator_table(actor, application: Application, text: str) -> None:
    """Fill the 定量指标统计表 from the table as printed in the plan."""
    _require_editable(actor, application)
    with transaction.atomic():
        plan = insights_services.import_plan_table(actor, application.region, text, title=None)
        errors = _period_errors(application.batch, plan.start_year, plan.end_year)
        if errors:
            raise ValidationFailed(
                {"table": _("表中的年份与方案实施期要求不符：") + _("；").join(errors.values())}
            )
        old = application.indicator_plan
        application.indicator_plan = plan
        application.start_year, application.end_year = plan.start_year, plan.end_year
        application.save(update_fields=["indicator_plan", "start_year", "end_year", "updated_at"])
        audit.record(
            "pilots.application.import_indicators",
            actor=actor,
            obj=application,
            changes={"indicator_plan": [old.pk if old else None, plan.pk]},
        )
        if old is not None:
            old.delete()
