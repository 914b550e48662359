"""Recommendation quotas: two per province, one per 计划单列市 and for the 兵团,
also when reviewers confirm at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from chanrong.core.errors import Conflict, NotAllowed
from chanrong.pilots import services
from chanrong.pilots.models import ProvincialReview, ReviewState
from tests.pilots.conftest import make_user, quick_submitted

JIASHAN, JIAXING, HUZHOU, SHAOXING = "330421", "330400", "330500", "330600"
NINGBO, NINGBO_HAISHU, NINGBO_YINZHOU = "330200", "330203", "330212"


def _recommended(batch, unit_code: str) -> int:
    return ProvincialReview.objects.filter(
        batch=batch, review_region_id=unit_code, state=ReviewState.RECOMMENDED
    ).count()


@pytest.mark.django_db
def test_province_quota_is_two_and_a_freed_place_can_be_reused(pilot, world):
    zhejiang = world.user("gov_zhejiang")
    apps = [quick_submitted(pilot.batch, code) for code in (JIASHAN, JIAXING, HUZHOU)]
    services.recommend(zhejiang, apps[0])
    services.recommend(zhejiang, apps[1])
    with pytest.raises(Conflict) as exc:
        services.recommend(zhejiang, apps[2])
    assert exc.value.code == "quota_exhausted"
    assert "推荐名额为2个" in exc.value.message
    services.reopen_review(zhejiang, apps[0])
    services.recommend(zhejiang, apps[2])
    assert _recommended(pilot.batch, "330000") == 2
    slots = set(
        ProvincialReview.objects.filter(state=ReviewState.RECOMMENDED).values_list(
            "slot", flat=True
        )
    )
    assert slots == {1, 2}


@pytest.mark.django_db
def test_separate_plan_city_has_its_own_quota_of_one(pilot, world):
    """The notice: "各省、自治区、直辖市推荐试点城市（区）数量不超过2个，计划单列市和
    新疆生产建设兵团推荐试点城市（区）数量不超过1个". A 计划单列市 recommends as a
    unit of its own, like a province (it reports to the ministries directly),
    so 宁波's districts are reviewed by 宁波, count against 宁波's one place,
    and do not use up — nor can they be recommended from — 浙江's two. The
    浙江 department therefore still has both of its places after 宁波 has
    used its own, and 宁波 cannot recommend a second district."""
    ningbo = make_user("ningbo_industry", NINGBO)
    zhejiang = world.user("gov_zhejiang")
    haishu = quick_submitted(pilot.batch, NINGBO_HAISHU)
    yinzhou = quick_submitted(pilot.batch, NINGBO_YINZHOU)
    assert haishu.review_region_id == NINGBO
    assert services.quota_for(pilot.batch, haishu.review_region) == 1

    with pytest.raises(NotAllowed):
        services.recommend(zhejiang, haishu)  # not 浙江's to recommend
    services.recommend(ningbo, haishu)
    with pytest.raises(Conflict) as exc:
        services.recommend(ningbo, yinzhou)
    assert exc.value.code == "quota_exhausted"
    assert "推荐名额为1个" in exc.value.message

    # 浙江's own two places are untouched by 宁波's.
    services.recommend(zhejiang, quick_submitted(pilot.batch, JIASHAN))
    services.recommend(zhejiang, quick_submitted(pilot.batch, JIAXING))
    assert _recommended(pilot.batch, "330000") == 2
    assert _recommended(pilot.batch, NINGBO) == 1


@pytest.mark.django_db
def test_corps_cities_are_reviewed_by_the_corps_with_quota_one(pilot):
    corps = make_user("corps_industry", "660000")
    xinjiang = make_user("xinjiang_industry", "650000")
    shihezi = quick_submitted(pilot.batch, "659001")
    alar = quick_submitted(pilot.batch, "659002")
    assert shihezi.review_region_id == "660000"
    with pytest.raises(NotAllowed):
        services.recommend(xinjiang, shihezi)
    services.recommend(corps, shihezi)
    with pytest.raises(Conflict):
        services.recommend(corps, alar)
    # The corps sees its cities although their codes are Xinjiang's.
    assert set(services.visible_applications(corps).values_list("region_id", flat=True)) == {
        "659001",
        "659002",
    }


def _race(users_and_apps):
    """Run services.recommend for each (user, application) in its own thread,
    all released at the same moment; each thread has its own connection."""
    barrier = threading.Barrier(len(users_and_apps))
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(user, application):
        try:
            barrier.wait(timeout=30)
            services.recommend(user, application)
            result = "ok"
        except Conflict as exc:
            result = exc.code
        except Exception as exc:  # reported in the assertion, not swallowed
            result = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=pair) for pair in users_and_apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return sorted(outcomes)


@pytest.fixture
def restore_catalogue(django_db_blocker):
    """A transactional test ends by emptying every table, including the
    indicator catalogue that a data migration loaded; put it back for the
    tests that follow (set up before the database fixture, so this teardown
    runs after the flush)."""
    yield
    from chanrong.insights.catalogue import sync_catalogue
    from chanrong.insights.models import IndicatorDefinition

    with django_db_blocker.unblock():
        sync_catalogue(IndicatorDefinition)


@pytest.mark.postgres(
    "SQLite has no row locks (SELECT … FOR UPDATE) and serialises writers on "
    "the whole file, so it cannot show this race"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_confirmation_holds_the_quota(restore_catalogue, pilot, world):
    """Two 浙江 reviewers confirm at the same moment, each a different city,
    when one of the two places is already taken: exactly one of them gets
    the last place; the other is refused with quota_exhausted."""
    first = world.user("gov_zhejiang")
    second = make_user("gov_zhejiang_2", "330000", role="gov_staff")
    batch = pilot.batch
    services.recommend(first, quick_submitted(batch, JIASHAN))
    jiaxing = quick_submitted(batch, JIAXING)
    huzhou = quick_submitted(batch, HUZHOU)

    outcomes = _race([(first, jiaxing), (second, huzhou)])

    assert outcomes == ["ok", "quota_exhausted"]
    assert _recommended(batch, "330000") == 2


@pytest.mark.postgres("row locks (see test_concurrent_confirmation_holds_the_quota)")
@pytest.mark.django_db(transaction=True)
def test_many_concurrent_confirmations_never_exceed_the_quota(restore_catalogue, pilot, world):
    users = [world.user("gov_zhejiang")] + [
        make_user(f"gov_zhejiang_{i}", "330000", role="gov_staff") for i in range(3)
    ]
    apps = [quick_submitted(pilot.batch, code) for code in (JIASHAN, JIAXING, HUZHOU, SHAOXING)]

    outcomes = _race(list(zip(users, apps, strict=True)))

    assert outcomes == ["ok", "ok", "quota_exhausted", "quota_exhausted"]
    assert _recommended(pilot.batch, "330000") == 2
