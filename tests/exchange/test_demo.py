"""The demo builder of 互联互通 alone (not the whole demo): deterministic,
every stored batch a genuine signature by the peer it is pinned for, and the
pages show its rows to 浙江省's government and not to 江苏's."""

from __future__ import annotations

import json

import pytest

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

pytestmark = pytest.mark.django_db


def test_the_demo_builder_writes_signed_batches_the_pages_show(client, world):
    ctx = DemoContext(seed=7, scale=0.01, password_hash="")
    builder.build(ctx)
    assert ctx.counts["exchange.inboundbatch"] == InboundBatch.objects.count() == 13
    assert OutboundBatch.objects.filter(state="retrying").count() == 1
    assert Refusal.objects.count() == 1
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
