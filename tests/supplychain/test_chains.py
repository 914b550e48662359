"""Industry chains: kept by an agency or by the 链主, tiered members, dated
一链一策 measures, and who sees them."""

from __future__ import annotations

from datetime import date

import pytest

from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry, Notification
from chanrong.supplychain import services
from chanrong.supplychain.models import Chain, ChainKeeper, ChainMeasure, ChainMember

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def fields(caught) -> set[str]:
    return {e.field for e in caught.value.errors}


def test_an_agency_keeps_a_chain_of_its_region(sc, world):
    gov = world.user("gov_jiashan")
    chain = services.create_chain(gov, {"name": "新能源汽车", "lead": sc.core.uscc})
    assert chain.kept_by == ChainKeeper.AGENCY and chain.agency == world.gov_jiashan
    assert chain.region_id == "330421" and chain.lead == sc.core
    member = services.add_member(
        gov, chain, {"enterprise": world.ent.pk, "role": "supplier", "tier": 1}
    )
    services.add_member(
        gov, chain, {"enterprise": world.ent2.uscc, "role": "supplier", "tier": "2"}
    )
    assert member.tier == 1
    assert Notification.objects.filter(
        recipient=world.user("ent_user"), verb="supplychain.chain.member"
    ).exists()
    measure = services.add_measure(
        gov, chain, {"issued_on": "2026-03-01", "text": "链主企业确权的应收账款优先贴息"}
    )
    assert measure.issued_on == date(2026, 3, 1)
    assert AuditEntry.objects.filter(action__startswith="supplychain.chain.").count() == 4
    assert [m.enterprise_id for m in services.memberships(world.ent.pk)] == [world.ent.pk]

    services.remove_member(gov, member)
    assert not ChainMember.objects.filter(pk=member.pk).exists()


def test_a_core_enterprise_keeps_its_own_chain(sc, world):
    core_user = sc.user("core_user")
    chain = services.create_chain(core_user, {"name": "新能源汽车零部件"})
    assert chain.kept_by == ChainKeeper.CORE and chain.lead == sc.core and chain.agency is None
    services.add_member(core_user, chain, {"enterprise": world.ent.pk, "role": "dealer", "tier": 1})
    with pytest.raises(NotAllowed):  # a member does not keep the chain
        services.add_member(
            world.user("ent_user"),
            chain,
            {"enterprise": world.ent2.pk, "role": "supplier", "tier": 2},
        )
    with pytest.raises(NotAllowed):  # nor does the county agency
        services.add_measure(world.user("gov_jiashan"), chain, {"text": "x"}, today=TODAY)


def test_chain_refusals(sc, world):
    gov = world.user("gov_jiashan")
    with pytest.raises(NotAllowed):
        services.create_chain(world.user("bank_staff"), {"name": "集成电路"})
    with pytest.raises(ValidationFailed) as caught:
        services.create_chain(gov, {"name": "", "region": "320508"})
    assert fields(caught) == {"name", "region"}  # 江苏 is outside 嘉善's jurisdiction
    chain = services.create_chain(gov, {"name": "集成电路"})
    with pytest.raises(Conflict):
        services.create_chain(gov, {"name": "集成电路"})
    for data, field in (
        ({"enterprise": world.ent.pk, "role": "supplier", "tier": 4}, "tier"),
        ({"enterprise": world.ent.pk, "role": "supplier", "tier": "one"}, "tier"),
        ({"enterprise": world.ent.pk, "role": "owner", "tier": 1}, "role"),
        ({"enterprise": 999999, "role": "supplier", "tier": 1}, "enterprise"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            services.add_member(gov, chain, data)
        assert fields(caught) == {field}
    services.add_member(gov, chain, {"enterprise": world.ent.pk, "role": "supplier", "tier": 1})
    with pytest.raises(Conflict):
        services.add_member(gov, chain, {"enterprise": world.ent.pk, "role": "dealer", "tier": 2})
    with pytest.raises(ValidationFailed):
        services.add_measure(gov, chain, {"text": "   "}, today=TODAY)
    led = services.create_chain(gov, {"name": "汽车电子", "lead": sc.core.pk})
    with pytest.raises(ValidationFailed) as caught:  # the 链主 is not its own member
        services.add_member(gov, led, {"enterprise": sc.core.pk, "role": "supplier", "tier": 1})
    assert fields(caught) == {"enterprise"}
    assert ChainMember.objects.count() == 1 and ChainMeasure.objects.count() == 0


def test_who_sees_chains_and_members(sc, world):
    gov_chain = services.create_chain(world.user("gov_jiashan"), {"name": "新能源汽车"})
    own = services.create_chain(sc.user("core_user"), {"name": "整车配套"})
    services.add_member(
        sc.user("core_user"), own, {"enterprise": world.ent.pk, "role": "supplier", "tier": 1}
    )
    chains = lambda who: set(Chain.objects.visible_to(world.user(who)))  # noqa: E731
    assert chains("bank2_staff") == {gov_chain, own}
    assert chains("gov_zhejiang") == {gov_chain, own} and chains("gov_jiangsu") == set()
    assert chains("core_user") == {own} and chains("ent_user") == {own}
    assert chains("ent2_user") == set()
    members = lambda who: ChainMember.objects.visible_to(world.user(who)).count()  # noqa: E731
    assert members("core_user") == members("ent_user") == members("bank_staff") == 1
    assert members("ent2_user") == 0
