"""The demo builder of 互联互通 alone (not the whole demo): deterministic,
every stored batch a genuine signature by the peer it is pinned for, and the
pages show its rows to 浙江省's government and not to 江苏's."""

from __future__ import annotations

import json

import pytest

from chanrong.core.models import AuditEntry
from chanrong.demo.builders import exchange as builder
from chanrong.demo.builders.base import DemoContext
from chanrong.exchange.models import (
    Identity,
    InboundBatch,
    OutboundBatch,
    Peer,
    ReceivedFigure,
    Refusal,
)
from chanrong.exchange.services import envelope
from chanrong.registry.models import ListVersion

pytestmark = pytest.mark.django_db


def test_the_demo_builder_writes_signed_batches_the_pages_show(client, world):
    ctx = DemoContext(seed=7, scale=0.01, password_hash="")
    builder.build(ctx)
    # 2 children × 3 months × 2 kinds, a progress report, the ministry's 黑名单.
    assert ctx.counts["exchange.inboundbatch"] == InboundBatch.objects.count() == 14
    assert OutboundBatch.objects.filter(state="retrying").count() == 1
    # Received through the real path: every peer's sequence moved on, the
    # audit has each receipt, and the only refusal is the illustrative one.
    assert list(Refusal.objects.values_list("code", flat=True)) == ["tampered"]
    assert AuditEntry.objects.filter(action="exchange.batch_received").count() == 14
    assert dict(Peer.objects.values_list("name", "last_sequence")) == {
        "工信部产融合作平台": 1,
        "嘉兴市产融合作平台": 7,
        "湖州市产融合作平台": 6,
    }
    listed = InboundBatch.objects.get(kind="list_version")
    assert listed.peer.role == "parent"
    version = ListVersion.objects.get(list__source_deployment="工信部产融合作平台")
    assert (version.status, version.source_number, version.source_batch) == (
        "published",
        1,
        str(listed.batch_id),
    )
    assert len(version.unmatched) == 2  # the two enterprises not on this platform
    for batch in InboundBatch.objects.select_related("peer"):
        envelope.verify(json.loads(batch.body), batch.peer.public_key)
    for batch in OutboundBatch.objects.all():
        envelope.verify(json.loads(batch.body), Identity.objects.get().public_key)
    stored = sorted(
        ReceivedFigure.objects.values_list("peer__name", "region_code", "period", "key", "value")
    )
    client.force_login(world.user("gov_zhejiang"))
    page = client.get("/exchange/received/?peer=&kind=financing_stats")
    assert page.status_code == 200 and "嘉兴市产融合作平台" in page.content.decode()
    # The province's dashboard sets the cities' reported figures beside its own.
    dashboard = client.get("/insights/").content.decode()
    assert 'data-testid="received-panel"' in dashboard
    assert "来源：嘉兴市产融合作平台" in dashboard and "来源：湖州市产融合作平台" in dashboard
    client.force_login(world.user("gov_jiangsu"))
    assert "嘉兴市产融合作平台" not in client.get("/exchange/received/").content.decode()
    # Deterministic: the same seed gives the same figures.
    for model in (ReceivedFigure, InboundBatch, OutboundBatch, Refusal):
        model.objects.all().delete()
    Peer.objects.all().delete()
    Identity.objects.all().delete()
    builder.build(DemoContext(seed=7, scale=0.01, password_hash=""))
    again = sorted(
        ReceivedFigure.objects.values_list("peer__name", "region_code", "period", "key", "value")
    )
    assert again == stored
