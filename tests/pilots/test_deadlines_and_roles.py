"""Deadlines (with clear messages) and who may do what."""

from __future__ import annotations

import pytest

from chanrong.core.errors import Conflict, NotAllowed, NotFound
from chanrong.pilots import services
from chanrong.pilots.models import ApplicationState
from tests.pilots.conftest import (
    fill_application,
    make_user,
    quick_submitted,
    set_dates,
    submitted_application,
    upload,
)

pytestmark = pytest.mark.django_db

JIASHAN = "330421"


def _day(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# --- deadlines ------------------------------------------------------------------


def test_submission_after_the_application_deadline_is_refused(pilot):
    user = pilot.applicant(JIASHAN)
    application = fill_application(user, pilot.batch)
    set_dates(pilot.batch, application_days=-1, provincial_days=10)
    with pytest.raises(Conflict) as exc:
        services.submit_application(user, application)
    assert exc.value.code == "deadline_passed"
    assert exc.value.message == (
        f"申报已于{_day(pilot.batch.application_deadline)}截止，不能再提交申报。"
    )
    application.refresh_from_db()
    assert application.state == ApplicationState.DRAFT


def test_the_deadline_day_itself_is_still_open(pilot):
    user = pilot.applicant(JIASHAN)
    application = fill_application(user, pilot.batch)
    set_dates(pilot.batch, application_days=0, provincial_days=10)
    assert services.submit_application(user, application).state == ApplicationState.SUBMITTED


def test_confirmation_after_the_provincial_deadline_is_refused(pilot, world):
    zhejiang = world.user("gov_zhejiang")
    first = quick_submitted(pilot.batch, JIASHAN)
    second = quick_submitted(pilot.batch, "330400")
    # Provincial review goes on after the application deadline …
    set_dates(pilot.batch, application_days=-3, provincial_days=0)
    services.recommend(zhejiang, first)
    services.upload_joint_report(zhejiang, pilot.batch, upload("联合上报.pdf"))
    # … but not after its own.
    set_dates(pilot.batch, application_days=-3, provincial_days=-1)
    expected = _day(pilot.batch.provincial_deadline)
    with pytest.raises(Conflict) as exc:
        services.recommend(zhejiang, second)
    assert exc.value.code == "deadline_passed"
    assert exc.value.message == f"省级确认推荐已于{expected}截止，不能再确认推荐。"
    with pytest.raises(Conflict) as exc:
        services.confirm_submission(zhejiang, pilot.batch)
    assert exc.value.message == f"省级确认推荐已于{expected}截止，不能再确认上报。"


def test_no_new_application_after_the_deadline(pilot):
    set_dates(pilot.batch, application_days=-1, provincial_days=10)
    with pytest.raises(Conflict) as exc:
        services.create_application(pilot.applicant(JIASHAN), pilot.batch, {"title": "方案"})
    assert exc.value.code == "deadline_passed"
    assert not services.can_apply(pilot.applicant(JIASHAN), pilot.batch)


# --- who may do what ------------------------------------------------------------------


def test_only_the_regions_own_admin_applies(pilot, world):
    with pytest.raises(NotAllowed):  # staff, not admin
        services.create_application(world.user("gov_jiashan_staff"), pilot.batch, {})
    with pytest.raises(NotAllowed):  # a province is not a city
        services.create_application(world.user("gov_zhejiang"), pilot.batch, {})
    for name in ("ent_user", "bank_manager", "admin"):
        with pytest.raises(NotAllowed):
            services.create_application(world.user(name), pilot.batch, {})
    application = services.create_application(world.user("gov_jiashan"), pilot.batch, {})
    with pytest.raises(NotAllowed):
        services.update_application(world.user("gov_jiangsu"), application, {"title": "x"})


def test_a_county_admin_cannot_review(pilot, world):
    county = world.user("gov_jiashan")
    application = submitted_application(county, pilot.batch)
    with pytest.raises(NotAllowed):
        services.recommend(county, application)
    with pytest.raises(NotAllowed):
        services.decline(county, application, comment="不行")
    with pytest.raises(NotAllowed):
        services.record_opinion(county, application, "support")
    with pytest.raises(NotAllowed):
        services.upload_joint_report(county, pilot.batch, upload("联合.pdf"))
    with pytest.raises(NotAllowed):
        services.score(county, application, {})
    with pytest.raises(NotAllowed):
        services.decide(county, application, approve=True)


def test_a_province_cannot_review_another_provinces_cities(pilot, world):
    jiangsu = world.user("gov_jiangsu")
    application = submitted_application(world.user("gov_jiashan"), pilot.batch)
    # 江苏 does not even see 浙江's applications (404 on every page and API) …
    assert not services.visible_applications(jiangsu).filter(pk=application.pk).exists()
    with pytest.raises(NotFound):
        services.get_visible_application(jiangsu, application.pk)
    # … and the service refuses it when handed the object directly.
    with pytest.raises(NotAllowed):
        services.recommend(jiangsu, application)
    with pytest.raises(NotAllowed):
        services.record_opinion(jiangsu, application, "support")


def test_counterparts_give_opinions_but_only_industry_recommends(pilot, world):
    application = quick_submitted(pilot.batch, JIASHAN)
    pboc = make_user("zj_pboc", "330000", function="pboc", role="gov_staff")
    services.record_opinion(pboc, application, "reserve", "需补充绿色金融数据")
    with pytest.raises(NotAllowed):
        services.recommend(pboc, application)
    development = make_user("zj_ndrc", "330000", function="development")
    with pytest.raises(NotAllowed):  # 发改 is not one of the five
        services.record_opinion(development, application, "support")


def test_ministry_reviewers_score_only_in_the_ministry_stage(pilot, world):
    mof = make_user("mof", None, function="finance", role="gov_staff")
    application = quick_submitted(pilot.batch, JIASHAN)
    items = {c.pk: 1 for c in pilot.batch.criteria.all()}
    with pytest.raises(Conflict) as exc:  # still in provincial review
        services.score(mof, application, items)
    assert exc.value.code == "not_in_ministry_review"
    with pytest.raises(NotAllowed):  # and they do not recommend for a province
        services.recommend(mof, application)
    with pytest.raises(NotAllowed):  # a 财政部 reviewer scores but does not decide
        services.decide(mof, application, approve=True)
    development = make_user("ndrc", None, function="development")
    with pytest.raises(NotAllowed):
        services.score(development, application, items)


def test_drafts_are_private_to_the_applicant(pilot, world):
    application = services.create_application(world.user("gov_jiashan"), pilot.batch, {})
    for name in ("gov_zhejiang", "gov_national", "ent_user", "bank_staff"):
        assert (
            not services.visible_applications(world.user(name)).filter(pk=application.pk).exists()
        )
    assert (
        services.visible_applications(world.user("gov_jiashan_staff"))
        .filter(pk=application.pk)
        .exists()
    )
    assert services.visible_applications(world.user("admin")).filter(pk=application.pk).exists()


def test_scores_are_checked_against_the_rubric(pilot, world):
    from chanrong.core.errors import ValidationFailed

    application = submitted_application(world.user("gov_jiashan"), pilot.batch)
    zhejiang = world.user("gov_zhejiang")
    services.recommend(zhejiang, application)
    services.upload_joint_report(zhejiang, pilot.batch, upload("联合上报.pdf"))
    services.confirm_submission(zhejiang, pilot.batch)
    criteria = list(pilot.batch.criteria.all())
    bad = {criteria[0].pk: criteria[0].max_score + 1, 99999: 1}
    with pytest.raises(ValidationFailed) as exc:
        services.score(pilot.ministry, application, bad)
    fields = {e.field for e in exc.value.errors}
    assert f"items.{criteria[0].pk}" in fields
    assert f"items.{criteria[1].pk}" in fields  # missing
    assert "items.99999" in fields
    # The rubric is configurable until the first score.
    services.set_rubric(pilot.ministry, pilot.batch, [{"name": "总体评价", "max_score": "100"}])
    only = pilot.batch.criteria.get()
    services.score(pilot.ministry, application, {only.pk: "88.5"})
    with pytest.raises(Conflict):
        services.set_rubric(pilot.ministry, pilot.batch, [{"name": "x", "max_score": 10}])


def test_no_submission_once_the_province_has_confirmed(pilot, world):
    zhejiang = world.user("gov_zhejiang")
    services.recommend(zhejiang, quick_submitted(pilot.batch, "330400"))
    services.upload_joint_report(zhejiang, pilot.batch, upload("联合上报.pdf"))
    services.confirm_submission(zhejiang, pilot.batch)
    application = fill_application(world.user("gov_jiashan"), pilot.batch)
    with pytest.raises(Conflict) as exc:
        services.submit_application(world.user("gov_jiashan"), application)
    assert exc.value.code == "submission_confirmed"


def test_a_published_deadline_may_be_extended_but_not_brought_forward(pilot):
    """Cities plan to the notice's dates: once it is out, moving a deadline
    earlier is refused by field; moving it later is fine."""
    from datetime import timedelta

    from chanrong.core.errors import ValidationFailed

    batch = pilot.batch
    earlier = batch.application_deadline - timedelta(days=3)
    with pytest.raises(ValidationFailed) as excinfo:
        services.update_batch(pilot.ministry, batch, {"application_deadline": earlier.isoformat()})
    assert [e.field for e in excinfo.value.errors] == ["application_deadline"]
    assert "只能延后" in excinfo.value.errors[0].message
    batch.refresh_from_db()
    assert batch.application_deadline == earlier + timedelta(days=3)
    later = batch.application_deadline + timedelta(days=2)
    services.update_batch(pilot.ministry, batch, {"application_deadline": later.isoformat()})
    batch.refresh_from_db()
    assert batch.application_deadline == later
