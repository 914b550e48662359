"""The demo's 上市培育: pipelines over every stage and several years, dates
in order and never after the build day, the listed ones with their LISTED
qualification, and 嘉善's reserve list out of step so a proposal has work."""

from __future__ import annotations

import datetime as dt

import pytest

from chanrong.listing.models import FINAL, Pipeline, Stage, StageRecord
from chanrong.listing.services import reserve
from chanrong.registry.models import EnterpriseList, ListType, Qualification, QualificationKind
from tests.module_demo import demo_for_module

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 7, 15)


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    with demo_for_module(django_db_blocker, seed=5, scale=0.02, today=TODAY) as result:
        yield result


def test_pipelines_spread_over_stages_and_years(built):
    pipelines = list(Pipeline.objects.select_related("enterprise"))
    assert len(pipelines) >= 12
    stages = {p.stage for p in pipelines}
    assert {Stage.INCUBATION, Stage.SHAREHOLDING, Stage.WITHDRAWN} <= stages
    assert stages & FINAL
    years = {r.reached_on.year for r in StageRecord.objects.all()}
    assert len(years) >= 3 and max(years) <= TODAY.year
    for p in pipelines:
        days = list(p.records.order_by("reached_on", "pk").values_list("reached_on", flat=True))
        assert days == sorted(days) and days[-1] <= TODAY
        if p.stage in FINAL:
            assert p.listed_on == days[-1] and p.stock_code
            assert Qualification.objects.filter(
                enterprise=p.enterprise, kind=QualificationKind.LISTED, certificate_no=p.stock_code
            ).exists()
    mine = Pipeline.objects.get(enterprise__users__username="ent_user")
    assert (mine.board, mine.stage) == ("bse", Stage.TUTORING)


def test_jiashan_reserve_list_is_out_of_step(built):
    lst = EnterpriseList.objects.get(
        list_type=ListType.LISTING_RESERVE, name="嘉善县上市后备企业库"
    )
    diff = reserve.compare(lst)
    assert not diff.in_step
