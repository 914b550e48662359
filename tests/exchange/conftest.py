"""Shared fixtures of the exchange tests: this deployment as 嘉兴市's platform
(the parent), a registered child for 嘉善县 holding its own key, and a
helper that builds the child's signed batches."""

from __future__ import annotations

import json
import uuid

import pytest
from django.utils import timezone

from chanrong.exchange.models import Peer, PeerRole
from chanrong.exchange.services import envelope, identity

JIAXING, JIASHAN = "330400", "330421"


class Child:
    def __init__(self, parent_id: str):
        self.key = envelope.new_private_key()
        self.deployment_id = str(uuid.uuid4())
        self.parent_id = parent_id
        self.sequence = 0

    def batch(self, *, sign: bool = True, **overrides) -> dict:
        self.sequence += 1
        document = {
            "format_version": 1,
            "batch_id": str(uuid.uuid4()),
            "sequence": self.sequence,
            "sender": self.deployment_id,
            "recipient": self.parent_id,
            "created_at": timezone.localtime().isoformat(timespec="seconds"),
            "kind": "financing_stats",
            "region": JIASHAN,
            "period": "2026-10",
            "payload": {
                "period_start": "2026-10-01",
                "period_end": "2026-10-31",
                "rows": [
                    {
                        "region": JIASHAN,
                        "section": "C",
                        "size": "small",
                        "demands": 3,
                        "demand_amount": "4500000.00",
                        "granted": 2,
                        "granted_amount": "3000000.00",
                        "financings": 2,
                        "financing_amount": "2800000.00",
                    }
                ],
            },
        }
        document.update(overrides)
        return envelope.sign(document, self.key) if sign else document

    @staticmethod
    def body(document: dict) -> bytes:
        return envelope.canonical(document)


@pytest.fixture
def parent(world):
    return identity.ensure(name="嘉兴市产融合作平台", region_code=JIAXING)


@pytest.fixture
def child(parent) -> Child:
    child = Child(str(parent.deployment_id))
    Peer.objects.create(
        role=PeerRole.CHILD,
        deployment_id=child.deployment_id,
        name="嘉善县产融合作平台",
        region_code=JIASHAN,
        public_key=envelope.public_text(child.key),
    )
    return child


def post(client, path: str, body: bytes):
    response = client.post(path, data=body, content_type="application/json")
    return response, json.loads(response.content or b"{}")
