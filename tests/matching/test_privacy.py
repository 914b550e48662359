"""Privacy of matching results (issue #5, "Fairness and privacy"): an
institution never sees other institutions' offers or scores, and an
enterprise's private facts reach an institution's view only where the
enterprise authorised it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chanrong.core.errors import NotFound
from chanrong.core.models import Region
from chanrong.matching import access, policy
from chanrong.registry.models import (
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListType,
    ListVersion,
    Qualification,
    QualificationKind,
    VersionStatus,
)

from .surface_fixtures import *  # noqa: F403
from .surface_fixtures import publish

pytestmark = pytest.mark.django_db


def test_institution_view_is_exactly_its_part_of_the_full_view(world, catalogue, demand):
    full = access.demand_matches(world.user("admin"), demand.pk)
    for username, institution in (("bank_staff", world.bank), ("bank2_staff", world.bank2)):
        own = access.demand_matches(world.user(username), demand.pk)
        assert not own.full
        expected = [m for m in full.ranked if m.institution_id == institution.pk]
        assert own.ranked == expected  # same entries, same scores, same order
        assert own.not_eligible == [
            m for m in full.not_eligible if m.institution_id == institution.pk
        ]
        assert [i.institution_id for i in own.institutions] == [institution.pk]
        assert {m.institution_id for m in own.ranked + own.not_eligible} == {institution.pk}


def test_users_without_a_view_get_not_found(world, catalogue, demand):
    for username in ("ent2_user", "gov_jiangsu"):
        with pytest.raises(NotFound):
            access.demand_matches(world.user(username), demand.pk)
    with pytest.raises(NotFound):
        access.institution_outreach(world.user("ent_user"))
    with pytest.raises(NotFound):
        access.institution_demands(world.user("gov_national"))


@pytest.fixture
def qualified_white_list(world):
    """ent (authorised the bank) and ent2 (did not) on a 嘉善 white list, both
    专精特新 / 高新技术 / 绿色工厂, with those policy weights raised in 浙江."""
    today = timezone.localdate()
    for enterprise in (world.ent, world.ent2):
        for kind in (
            QualificationKind.SPECIALISED_SME,
            QualificationKind.HIGH_TECH,
            QualificationKind.GREEN_FACTORY,
        ):
            Qualification.objects.create(
                enterprise=enterprise, kind=kind, issuer="浙江省经信厅",
                valid_from=today - timedelta(days=400),
            )  # fmt: skip
    policy.set_weights(
        world.user("gov_zhejiang"),
        Region.objects.get(pk="330000"),
        {"white_list": 0, "specialised": 5, "tech": 5, "green": 5},
    )
    # a product aimed at 专精特新 enterprises, so that policy reasons rank high
    publish(
        world.user("bank_staff"), name="专精特新贷", required_qualifications=["specialised_sme"]
    )
    lst = EnterpriseList.objects.create(
        list_type=ListType.KEY_ENTERPRISES, name="嘉善县重点企业白名单",
        agency=world.gov_jiashan, region_id="330421",
    )  # fmt: skip
    version = ListVersion.objects.create(list=lst, number=1)
    for enterprise in (world.ent, world.ent2):
        ListEntry.objects.create(version=version, enterprise=enterprise, change=EntryChange.ADDED)
    ListVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.PUBLISHED,
        effective_from=today - timedelta(days=30),
        published_at=timezone.now(),
    )
    return lst


def test_outreach_hides_qualification_reasons_unless_authorised(
    world, catalogue, qualified_white_list
):
    from chanrong.matching import services

    rows = {r.enterprise_id: r for r in access.institution_outreach(world.user("bank_staff"))}
    assert set(rows) == {world.ent.pk, world.ent2.pk}
    private = access._private_reasons()
    # The engine does give qualification reasons for these enterprises…
    raw = {c.enterprise_id: c for c in services.outreach(world.bank.pk)}
    assert private & set(raw[world.ent2.pk].reasons)
    # …the authorised enterprise's row keeps them, the other's does not.
    assert rows[world.ent.pk].authorised and rows[world.ent.pk].profile is not None
    assert private & set(rows[world.ent.pk].reasons)
    assert not rows[world.ent2.pk].authorised and rows[world.ent2.pk].profile is None
    assert not private & set(rows[world.ent2.pk].reasons)


def test_outreach_never_names_enterprises_on_lists_the_institution_cannot_see(
    world, catalogue, qualified_white_list
):
    # bank2's only place is Beijing: the 嘉善 list is not visible to it
    assert access.institution_outreach(world.user("bank2_staff")) == []
