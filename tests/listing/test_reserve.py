"""The 上市后备库 kept in step: the proposal drafts the list's next version
through the registry's services (added, removed with reasons), only for the
keeping agency, and publishing stays with its government admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chanrong.core.errors import Conflict, NotAllowed
from chanrong.listing.models import Stage
from chanrong.listing.services import reserve
from chanrong.registry.models import (
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListType,
    ListVersion,
    VersionStatus,
)
from chanrong.registry.services import publish_version, submit_version
from tests.conftest import JIASHAN

from .conftest import build_pipeline

pytestmark = pytest.mark.django_db


def published_list(world, *members):
    lst = EnterpriseList.objects.create(
        list_type=ListType.LISTING_RESERVE,
        name="嘉善县上市后备企业库",
        agency=world.gov_jiashan,
        region_id=JIASHAN,
    )
    version = ListVersion.objects.create(list=lst, number=1)
    for enterprise in members:
        ListEntry.objects.create(version=version, enterprise=enterprise, change=EntryChange.ADDED)
    ListVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.PUBLISHED,
        effective_from=timezone.localdate() - timedelta(days=100),
        published_at=timezone.now(),
    )
    return lst


def test_proposal_adds_the_reserve_and_removes_the_listed(world):
    build_pipeline(world, world.ent, upto=Stage.TUTORING)  # reserve
    build_pipeline(world, world.ent2, board="neeq", upto=Stage.QUOTED)  # listed since
    lst = published_list(world, world.ent2)
    diff = reserve.compare(lst)
    assert [e for e, _r in diff.add] == [world.ent]
    assert [e for e, _r in diff.remove] == [world.ent2]
    assert "挂牌" in diff.remove[0][1]

    with pytest.raises(NotAllowed):
        reserve.propose_version(world.user("gov_zhejiang"), lst)
    version, _diff = reserve.propose_version(world.user("gov_jiashan_staff"), lst)
    assert (version.number, version.status) == (2, VersionStatus.DRAFT)
    rows = {e.enterprise_id: e for e in version.entries.all()}
    assert rows[world.ent.pk].change == EntryChange.ADDED
    assert "辅导备案" in rows[world.ent.pk].reason
    assert rows[world.ent2.pk].change == EntryChange.REMOVED
    # A second proposal while this one is open is refused by the registry.
    with pytest.raises(Conflict):
        reserve.propose_version(world.user("gov_jiashan_staff"), lst)
    # Publishing is the registry's approval: the staff member submits, the admin publishes.
    submit_version(world.user("gov_jiashan_staff"), version)
    with pytest.raises(NotAllowed):
        publish_version(world.user("gov_jiashan_staff"), version)
    publish_version(world.user("gov_jiashan"), version)
    assert reserve.compare(lst).in_step
    with pytest.raises(Conflict):
        reserve.propose_version(world.user("gov_jiashan"), lst)


def test_incubation_and_withdrawn_pipelines_are_not_reserve(world):
    build_pipeline(world, world.ent, upto=Stage.INCUBATION)
    lst = published_list(world)
    assert reserve.compare(lst).in_step
    pipeline = build_pipeline(world, world.ent2, upto=Stage.SHAREHOLDING)
    assert [e for e, _r in reserve.compare(lst).add] == [world.ent2]
    from chanrong.listing.services import withdraw

    withdraw(world.user("gov_jiashan"), pipeline, {"reason": "终止"})
    assert reserve.compare(lst).in_step
