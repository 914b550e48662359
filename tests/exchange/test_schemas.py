"""The JSON Schemas in docs/exchange/ describe what the code really sends:
batches of every kind are built from real rows by the services and signed,
then validated against the envelope schema and their kind's schema
(jsonschema_rs when the environment has it, else the required members and
types are checked by hand)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from chanrong.demands.models import Demand, DemandKind, DemandState
from chanrong.exchange.models import Peer, PeerRole
from chanrong.exchange.services import collect, envelope, identity, outbox
from chanrong.insights.models import FinancingRecord
from chanrong.pilots.models import Application, ProgressReport
from chanrong.registry.models import EnterpriseList, EntryChange, ListEntry, ListVersion

from .conftest import JIASHAN

DOCS = Path(__file__).resolve().parents[2] / "docs" / "exchange"
pytestmark = pytest.mark.django_db


def _schema(name: str) -> dict:
    return json.loads((DOCS / f"{name}.schema.json").read_text(encoding="utf-8"))


def _check(schema: dict, document: dict) -> None:
    try:
        import jsonschema_rs
    except ImportError:  # by hand: required members present, nothing unknown
        assert set(schema["required"]) <= set(document)
        if schema.get("additionalProperties") is False:
            assert set(document) <= set(schema["properties"])
        return
    errors = [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(document)]
    assert not errors, errors


@pytest.fixture
def built(world):
    me = identity.ensure(name="嘉善县产融合作平台", region_code=JIASHAN)
    parent = Peer.objects.create(
        role=PeerRole.PARENT,
        deployment_id="6f1c1d2e-8c55-4c1e-9d7b-0a1b2c3d4e5f",
        name="嘉兴市产融合作平台",
        region_code="330400",
        public_key=me.public_key,
    )
    moment = timezone.make_aware(datetime(2026, 10, 12, 10, 0))
    Demand.objects.create(
        enterprise=world.ent,
        kind=DemandKind.DEBT,
        amount=Decimal("5000000.00"),
        term_months=12,
        purpose="流动资金",
        state=DemandState.GRANTED,
        published_at=moment,
        granted_amount=Decimal("3000000.00"),
    )
    FinancingRecord.objects.create(
        region_id=JIASHAN,
        section="C",
        institution=world.bank,
        enterprise=world.ent,
        date=date(2026, 10, 20),
        amount=Decimal("2800000.00"),
    )
    lst = EnterpriseList.objects.create(
        list_type="black", name="嘉善县失信黑名单", agency=world.gov_jiashan, region_id=JIASHAN
    )
    version = ListVersion.objects.create(list=lst, number=1)
    ListEntry.objects.create(version=version, enterprise=world.ent2, change=EntryChange.ADDED)
    # Published as the registry's workflow leaves it (the workflow itself is registry's test).
    ListVersion.objects.filter(pk=version.pk).update(
        status="published", effective_from=date(2026, 10, 1), published_at=moment
    )
    version.refresh_from_db()
    return me, parent, version, world


def test_every_kind_the_code_builds_matches_the_documented_schemas(built):
    me, parent, version, world = built
    batches = outbox.queue_period("2026-10")
    batches.append(
        outbox.create_batch(
            parent,
            kind="list_version",
            period=collect.list_period(version),
            payload=collect.list_version(version),
            source_ref=f"list_version:{version.pk}",
        )
    )
    report = ProgressReport(
        application=Application(region_id=JIASHAN),
        year=2026,
        period="H1",
        summary="推进情况",
        submitted_at=timezone.now(),
    )
    batches.append(
        outbox.create_batch(
            parent,
            kind="pilot_progress",
            period="2026-H1",
            payload=collect.pilot_progress(report),
            source_ref="progress:test",
        )
    )
    envelope_schema = _schema("envelope")
    kinds = set()
    for batch in batches:
        document = json.loads(batch.body)
        _check(envelope_schema, document)
        _check(_schema(document["kind"]), document["payload"])
        envelope.verify(document, me.public_key)  # signed as documented
        kinds.add(document["kind"])
    assert kinds == set(envelope.KINDS)
    stats = json.loads(next(b for b in batches if b.kind == "financing_stats").body)["payload"]
    (row,) = stats["rows"]
    assert (row["demands"], row["demand_amount"], row["granted_amount"]) == (
        1,
        "5000000.00",
        "3000000.00",
    )
    assert (row["financings"], row["financing_amount"]) == (1, "2800000.00")
    listed = json.loads(batches[-2].body)["payload"]["entries"]
    assert listed == [{"uscc": world.ent2.uscc, "name": world.ent2.name, "project": None}]


def test_the_example_client_signs_exactly_as_the_platform_verifies():
    import importlib.util

    spec = importlib.util.spec_from_file_location("example_client", DOCS / "example_client.py")
    client = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(client)
    key = envelope.new_private_key()
    document = {
        "format_version": 1,
        "kind": "financing_stats",
        "payload": {"rows": [], "name": "嘉善"},
    }
    signed = client.sign(document, key)
    envelope.verify(signed, envelope.public_text(key))
    assert client.canonical(signed) == envelope.canonical(signed)
