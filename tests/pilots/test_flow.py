"""The programme end to end through the services: apply, recommend, confirm
with the joint report, score, decide, publish; renewal; progress tracking."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chanrong.core.errors import Conflict, ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.pilots import services
from chanrong.pilots.models import (
    ApplicationState,
    BatchState,
    MinistryReview,
    MinistryState,
    ReviewState,
    SubmissionState,
)
from tests.pilots.conftest import (
    fill_application,
    make_user,
    set_dates,
    start_year,
    submitted_application,
    upload,
)

pytestmark = pytest.mark.django_db

JIASHAN = "330421"


def _full_scores(batch):
    return {c.pk: c.max_score - 2 for c in batch.criteria.all()}


def test_application_starts_with_the_outline_and_an_indicator_plan(pilot):
    user = pilot.applicant(JIASHAN)
    application = services.create_application(
        user,
        pilot.batch,
        {
            "title": "嘉善县实施方案",
            "start_year": start_year(pilot.batch),
            "end_year": start_year(pilot.batch) + 2,
        },
    )
    assert application.state == ApplicationState.DRAFT
    assert application.review_region_id == "330000"
    assert [s.title for s in application.sections.all()] == [
        item["title"] for item in pilot.batch.outline
    ]
    plan = application.indicator_plan
    assert plan is not None
    assert (plan.start_year, plan.end_year) == (application.start_year, application.end_year)


def test_period_of_more_than_three_years_is_refused(pilot):
    user = pilot.applicant(JIASHAN)
    start = start_year(pilot.batch)
    with pytest.raises(ValidationFailed) as exc:
        services.create_application(
            user, pilot.batch, {"title": "方案", "start_year": start, "end_year": start + 3}
        )
    assert {e.field for e in exc.value.errors} == {"end_year"}
    assert "不超过3年" in exc.value.errors[0].message
    with pytest.raises(ValidationFailed) as exc:
        services.create_application(
            user, pilot.batch, {"title": "方案", "start_year": start, "end_year": start - 1}
        )
    assert exc.value.errors[0].field == "end_year"


def test_changing_the_period_keeps_shared_years_targets(pilot):
    user = pilot.applicant(JIASHAN)
    application = fill_application(user, pilot.batch)
    old_plan = application.indicator_plan
    start = application.start_year
    services.update_application(user, application, {"start_year": start + 1, "end_year": start + 3})
    application.refresh_from_db()
    plan = application.indicator_plan
    assert plan.pk != old_plan.pk
    assert sorted(plan.targets.values_list("year", flat=True)) == [start + 1, start + 2]


def test_incomplete_application_cannot_be_submitted(pilot):
    user = pilot.applicant(JIASHAN)
    application = services.create_application(user, pilot.batch, {"title": ""})
    with pytest.raises(ValidationFailed) as exc:
        services.submit_application(user, application)
    fields = {e.field for e in exc.value.errors}
    assert {"title", "start_year", "declaration", "indicators"} <= fields
    assert any(f.startswith("sections.") for f in fields)


def test_full_programme(pilot, world):
    batch = pilot.batch
    jiashan = submitted_application(pilot.applicant(JIASHAN), batch)
    jiaxing = submitted_application(pilot.applicant("330400"), batch)
    huzhou = submitted_application(pilot.applicant("330500"), batch)
    assert jiashan.state == ApplicationState.SUBMITTED
    assert jiashan.provincial_review.state == ReviewState.PENDING

    zhejiang = world.user("gov_zhejiang")
    finance = make_user("zj_finance", "330000", function="finance", role="gov_staff")
    services.record_opinion(finance, jiashan, "support", "同意")
    services.record_opinion(zhejiang, jiashan, "support", "")
    services.recommend(zhejiang, jiashan, comment="产融合作基础好")
    services.recommend(zhejiang, jiaxing)
    with pytest.raises(Conflict) as exc:
        services.recommend(zhejiang, huzhou)
    assert exc.value.code == "quota_exhausted"
    services.decline(zhejiang, huzhou, comment="名额已满")

    with pytest.raises(ValidationFailed) as exc:
        services.confirm_submission(zhejiang, batch)
    assert exc.value.errors[0].field == "joint_report"
    services.upload_joint_report(zhejiang, batch, upload("联合上报文件.pdf"))
    submission = services.confirm_submission(zhejiang, batch, note="两市推荐")
    assert submission.state == SubmissionState.CONFIRMED
    jiashan.provincial_review.refresh_from_db()
    assert jiashan.provincial_review.state == ReviewState.FORWARDED
    assert MinistryReview.objects.filter(batch=batch).count() == 2
    with pytest.raises(Conflict):
        services.reopen_review(zhejiang, jiashan)

    ministry = pilot.ministry
    mof = make_user("mof_reviewer", None, function="finance", role="gov_staff")
    for reviewer in (ministry, mof):
        services.score(reviewer, jiashan, _full_scores(batch), comment="好")
        services.score(reviewer, jiaxing, {c.pk: 10 for c in batch.criteria.all()})
    board = services.ministry_board(ministry, batch)
    assert board[0][0].application == jiashan
    summary = board[0][1]
    assert summary.count == 2
    assert summary.mean_total == Decimal("92.00")
    assert set(summary.by_function) == {"工信", "财政"}

    services.decide(ministry, jiashan, approve=True, note="确定为试点")
    services.decide(ministry, jiaxing, approve=False)
    with pytest.raises(Conflict) as exc:
        services.score(mof, jiashan, _full_scores(batch))
    assert exc.value.code == "not_in_ministry_review"

    # Not before the provincial deadline has passed; nothing public yet.
    with pytest.raises(Conflict) as exc:
        services.publish_batch(ministry, batch)
    assert exc.value.code == "too_early"
    assert services.published_pilots(batch) == []
    set_dates(batch, application_days=-20, provincial_days=-5)
    services.publish_batch(ministry, batch)
    batch.refresh_from_db()
    assert batch.state == BatchState.PUBLISHED
    assert [a.region_id for a in services.published_pilots(batch)] == [JIASHAN]
    jiashan.refresh_from_db()
    assert services.stage_of(jiashan) == ("approved", "已确定为试点")
    with pytest.raises(Conflict):
        services.reconsider(ministry, jiashan)

    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "pilots.application.submit",
        "pilots.provincial_review.recommend",
        "pilots.provincial_submission.confirm",
        "pilots.provincial_review.forward",
        "pilots.ministry_review.score",
        "pilots.ministry_review.approve",
        "pilots.batch.publish",
    } <= actions


def _published_first_batch(pilot, region_code: str, *, period=(2017, 2019)):
    """A pilot of 第一批 (published) for `region_code`, built directly."""
    from chanrong.pilots.models import Application, Batch, ProvincialReview

    batch = Batch.objects.create(
        number=1,
        name="第一批",
        state=BatchState.PUBLISHED,
        application_deadline=pilot.batch.application_deadline.replace(year=2016),
        provincial_deadline=pilot.batch.provincial_deadline.replace(year=2016),
        outline=pilot.batch.outline,
    )
    from chanrong.core.models import Region

    region = Region.objects.get(pk=region_code)
    application = Application.objects.create(
        batch=batch,
        region=region,
        review_region=services.review_unit_for(region),
        title="第一批实施方案",
        start_year=period[0],
        end_year=period[1],
        state=ApplicationState.SUBMITTED,
    )
    application.sections.create(key="goals", title="工作目标", order=0, body="原目标")
    ProvincialReview.objects.create(
        application=application,
        batch=batch,
        review_region=application.review_region,
        state=ReviewState.FORWARDED,
        slot=1,
    )
    MinistryReview.objects.create(
        application=application, batch=batch, state=MinistryState.APPROVED
    )
    return application


def test_renewal_goes_directly_to_the_ministry(pilot, world):
    previous = _published_first_batch(pilot, JIASHAN)
    user = pilot.applicant(JIASHAN)
    assert services.renewable_pilots(pilot.batch, previous.region) == [previous]
    renewal = fill_application(user, pilot.batch, kind="renewal", previous=previous.pk)
    assert renewal.sections.get(key="goals").body  # copied, then updated by fill_application
    services.submit_application(user, renewal)
    assert not hasattr(renewal, "provincial_review") or renewal.provincial_review is None
    review = MinistryReview.objects.get(application=renewal)
    assert review.state == MinistryState.SCORING
    # The province does not review a renewal.
    with pytest.raises(Conflict):
        services.recommend(world.user("gov_zhejiang"), renewal)
    services.score(pilot.ministry, renewal, _full_scores(pilot.batch))
    services.decide(pilot.ministry, renewal, approve=True, note="复核通过，延续试点")
    set_dates(pilot.batch, application_days=-20, provincial_days=-5)
    services.publish_batch(pilot.ministry, pilot.batch)
    renewal.refresh_from_db()
    assert services.stage_of(renewal) == ("approved", "已延续试点")


def test_renewal_needs_an_ended_period(pilot):
    _published_first_batch(pilot, JIASHAN, period=(2030, 2032))
    user = pilot.applicant(JIASHAN)
    with pytest.raises(ValidationFailed) as exc:
        services.create_application(user, pilot.batch, {"kind": "renewal", "previous": 1})
    assert exc.value.errors[0].field == "previous"


def test_progress_reports_lagging_and_export(pilot, world):
    from openpyxl import load_workbook

    from chanrong.insights import services as insights
    from chanrong.insights.models import IndicatorDefinition

    batch = pilot.batch
    user = pilot.applicant(JIASHAN)
    # The period began last year, so its first year can be evaluated in full.
    first_year = batch.application_deadline.year - 1
    application = submitted_application(user, batch, start=first_year)
    zhejiang = world.user("gov_zhejiang")
    services.recommend(zhejiang, application)
    services.upload_joint_report(zhejiang, batch, upload("联合上报.pdf"))
    services.confirm_submission(zhejiang, batch)
    services.score(pilot.ministry, application, _full_scores(batch))
    services.decide(pilot.ministry, application, approve=True)
    # A pilot only once the list is published.
    with pytest.raises(Conflict):
        services.create_report(
            user, application, {"year": application.start_year, "period": "H1", "summary": "x"}
        )
    set_dates(batch, application_days=-20, provincial_days=-5)
    services.publish_batch(pilot.ministry, batch)

    with pytest.raises(ValidationFailed) as exc:
        services.create_report(user, application, {"year": 1999, "period": "H9", "summary": ""})
    assert {e.field for e in exc.value.errors} == {"year", "period", "summary"}
    report = services.create_report(
        user,
        application,
        {"year": application.start_year, "period": "H1", "summary": "完成平台建设", "problems": ""},
    )
    services.add_report_document(user, report, upload("进展.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20))
    services.submit_report(user, report)
    with pytest.raises(Conflict):
        services.update_report(user, report, {"summary": "改"})

    # GDP actual below target for the first year: the city lags on it.
    year = application.start_year
    gdp = IndicatorDefinition.objects.get(code="gdp")
    insights.report_actual(
        zhejiang,
        region=application.region,
        definition=gdp,
        period_type="year",
        year=year,
        value="600",
    )
    rows = services.lagging(pilot.ministry, year=year)
    assert len(rows) == 1
    assert [r.definition.code for r in rows[0].behind] == ["gdp"]
    data = services.export_evaluation(pilot.ministry, year=year)
    book = load_workbook(io_bytes(data))
    assert book.sheetnames == ["试点评估汇总", "指标完成情况"]
    summary = book["试点评估汇总"]
    assert summary.cell(2, 2).value == application.region.name
    assert summary.cell(2, 9).value == 1


def io_bytes(data: bytes):
    import io

    return io.BytesIO(data)
