"""Cross-region list recognition (issue 19 part 2): a list version received
from the parent (浙江省's platform, pushed down to 嘉善县's) becomes a list
version of the registry that counts in eligibility and matching, with its
source named wherever it decides something; a newer version supersedes;
a tampered batch stores nothing; the region's government users see it."""

from __future__ import annotations

import copy
import uuid
from datetime import date

import pytest
from django.urls import reverse

from chanrong.exchange.models import InboundBatch, OutboundBatch, Peer, PeerRole
from chanrong.exchange.services import envelope, identity, outbox
from chanrong.finance.eligibility import ProductConditions, evaluate
from chanrong.finance.services import enterprise_facts
from chanrong.matching.adapter import enterprise_facts_bulk
from chanrong.registry.models import EnterpriseList, ListEntry, ListVersion
from chanrong.registry.services import start_version

from .conftest import JIASHAN, Child, post

URL = "/api/v1/exchange/batches"
ZHEJIANG = "330000"
SOURCE = "浙江省产融合作平台"
pytestmark = pytest.mark.django_db


@pytest.fixture
def county(world):
    """This deployment is 嘉善县's; its parent, 浙江省's, holds its own key."""
    me = identity.ensure(name="嘉善县产融合作平台", region_code=JIASHAN)
    parent = Child(str(me.deployment_id))  # same signing helper, the other way round
    Peer.objects.create(
        role=PeerRole.PARENT,
        deployment_id=parent.deployment_id,
        name=SOURCE,
        region_code=ZHEJIANG,
        public_key=envelope.public_text(parent.key),
    )
    return parent


def _list_batch(parent: Child, world, *, number: int, day: str, members=None) -> dict:
    members = [world.ent] if members is None else members
    entries = [{"uscc": e.uscc, "name": e.name, "project": None} for e in members]
    entries.append({"uscc": "91330000MA2XXXXX1Y", "name": "外地失信企业有限公司", "project": None})
    return parent.batch(
        kind="list_version",
        region=ZHEJIANG,
        period=day,
        payload={
            "list": {
                "type": "black",
                "name": "浙江省失信黑名单",
                "sector": "",
                "region": ZHEJIANG,
                "agency": "浙江省信用办",
            },
            "version": {
                "number": number,
                "effective_from": day,
                "published_at": f"{day}T09:00:00+08:00",
                "note": "",
            },
            "entries": entries,
        },
    )


BLACK = ProductConditions("credit", exclude_blacklisted=True)


def test_a_received_blacklist_fails_eligibility_with_its_source(client, world, county):
    response, answer = post(
        client, URL, county.body(_list_batch(county, world, number=3, day="2026-11-02"))
    )
    assert response.status_code == 201, answer
    version = ListVersion.objects.get(list__source_deployment=SOURCE)
    assert (version.status, version.source_number, version.number) == ("published", 3, 1)
    assert version.unmatched == [{"uscc": "91330000MA2XXXXX1Y", "name": "外地失信企业有限公司"}]
    assert version.source_batch == str(InboundBatch.objects.get().batch_id)
    today = date(2026, 12, 1)
    expected = (
        "列入浙江省产融合作平台推送的失信黑名单“浙江省失信黑名单”"
        "（来源：浙江省产融合作平台，第3版，2026-11-02）的企业不予受理"
    )
    result = evaluate(BLACK, enterprise_facts(world.ent, today=today), today=today)
    assert result.messages == [expected]
    # Matching reads the same membership in bulk, with the same provenance.
    (facts,) = enterprise_facts_bulk([(world.ent.pk, today)])
    assert evaluate(BLACK, facts, today=today).messages == [expected]
    assert evaluate(BLACK, enterprise_facts(world.ent2, today=today), today=today).eligible
    # Received lists are not adjusted here.
    with pytest.raises(Exception, match="只能由来源平台调整"):
        start_version(world.user("admin"), version.list)


def test_a_newer_version_supersedes_and_an_older_changes_nothing(client, world, county):
    for number, day, members in ((3, "2026-11-02", [world.ent]), (4, "2026-11-20", [world.ent2])):
        document = _list_batch(county, world, number=number, day=day, members=members)
        assert post(client, URL, county.body(document))[0].status_code == 201
    assert (
        post(client, URL, county.body(_list_batch(county, world, number=2, day="2026-10-01")))[
            0
        ].status_code
        == 201
    )
    versions = list(ListVersion.objects.filter(list__source_deployment=SOURCE).order_by("number"))
    assert [(v.number, v.source_number) for v in versions] == [(1, 3), (2, 4)]
    assert versions[0].effective_until == date(2026, 11, 19)
    assert EnterpriseList.objects.filter(source_deployment=SOURCE).count() == 1
    today = date(2026, 12, 1)
    assert evaluate(BLACK, enterprise_facts(world.ent, today=today), today=today).eligible
    assert not evaluate(BLACK, enterprise_facts(world.ent2, today=today), today=today).eligible


def test_a_tampered_list_batch_stores_nothing(client, world, county):
    document = copy.deepcopy(_list_batch(county, world, number=3, day="2026-11-02"))
    document["payload"]["entries"].append({"uscc": world.ent2.uscc, "name": world.ent2.name})
    response, answer = post(client, URL, county.body(document))
    assert (response.status_code, answer["code"]) == (401, "tampered")
    assert not EnterpriseList.objects.filter(source_deployment=SOURCE).exists()
    assert not InboundBatch.objects.exists()


def test_a_parent_sends_lists_only(client, world, county):
    response, answer = post(client, URL, county.body(county.batch(region=ZHEJIANG)))
    assert (response.status_code, answer["code"]) == (403, "unknown_peer")


def test_received_lists_are_seen_by_the_regions_government_with_their_source(client, world, county):
    post(client, URL, county.body(_list_batch(county, world, number=3, day="2026-11-02")))
    lst = EnterpriseList.objects.get(source_deployment=SOURCE)
    assert EnterpriseList.objects.visible_to(world.user("gov_jiashan")).filter(pk=lst.pk).exists()
    assert (
        not EnterpriseList.objects.visible_to(world.user("gov_jiangsu")).filter(pk=lst.pk).exists()
    )
    client.force_login(world.user("gov_jiashan"))
    page = client.get(reverse("lists:detail", args=[lst.pk])).content.decode()
    assert SOURCE in page and "第 3 版" in page
    page = client.get(reverse("registry:detail", args=[world.ent.pk])).content.decode()
    assert "（来源：浙江省产融合作平台，第3版，2026-11-02）" in page
    client.force_login(world.user("gov_jiangsu"))
    assert client.get(reverse("lists:detail", args=[lst.pk])).status_code == 404
    client.force_login(world.user("admin"))
    batch = InboundBatch.objects.get()
    page = client.get(f"/exchange/inbound/{batch.batch_id}/").content.decode()
    assert "1 家企业对应本平台名录，1 家未能对应" in page


def test_a_parent_queues_its_own_lists_for_the_children_they_apply_in(world):
    """Down the tree: 嘉兴's published 黑名单 goes to 嘉善 (inside 嘉兴), not to
    a child elsewhere; a list received from a child is not sent back."""
    from chanrong.registry.services.list_receiving import receive_list_version

    me = identity.ensure(name="嘉兴市产融合作平台", region_code="330400")
    near = Peer.objects.create(
        role=PeerRole.CHILD,
        deployment_id=uuid.uuid4(),
        name="嘉善县产融合作平台",
        region_code=JIASHAN,
        public_key=envelope.public_text(envelope.new_private_key()),
    )
    lst = EnterpriseList.objects.create(
        list_type="black", name="嘉兴市失信黑名单", agency=world.gov_jiaxing, region_id="330400"
    )
    version = ListVersion.objects.create(list=lst, number=1)
    ListEntry.objects.create(version=version, enterprise=world.ent, change="added")
    ListVersion.objects.filter(pk=version.pk).update(
        status="published", effective_from=date(2026, 11, 1)
    )
    other = copy.deepcopy(
        _list_batch(Child(str(me.deployment_id)), world, number=1, day="2026-11-01")
    )
    other["payload"]["list"].update(region=JIASHAN, name="嘉善县失信黑名单")
    receive_list_version(
        deployment_id=str(near.deployment_id),
        deployment_name=near.name,
        batch_id=other["batch_id"],
        payload=other["payload"],
    )
    built = outbox.queue_lists_for_children(me)
    assert [(b.peer_id, b.source_ref) for b in built] == [(near.pk, f"list_version:{version.pk}")]
    assert OutboundBatch.objects.get().kind == "list_version"
