"""Schemas of /api/v1/exchange (the read side; the machine-to-machine
operations carry the documented envelope, docs/exchange/*.schema.json)."""

from datetime import datetime
from decimal import Decimal

from ninja import Field, Schema


class IdentityOut(Schema):
    deployment_id: str
    name: str
    region: str
    public_key: str = Field(description="base64 of the raw 32-byte Ed25519 public key")
    key_id: str
    format_version: int


class FigureFilter(Schema):
    peer: int | None = None
    region: str | None = Field(None, max_length=6)
    period: str | None = Field(None, max_length=10)
    kind: str | None = Field(None, max_length=24)
    key: str | None = Field(None, max_length=64)


class FigureOut(Schema):
    source: str = Field(description="the child deployment that reported it (its name)")
    source_deployment_id: str
    batch_id: str
    kind: str
    region: str
    period: str
    key: str
    label: str
    unit: str
    value: Decimal

    @staticmethod
    def resolve_source(obj) -> str:
        return obj.peer.name

    @staticmethod
    def resolve_source_deployment_id(obj) -> str:
        return str(obj.peer.deployment_id)

    @staticmethod
    def resolve_batch_id(obj) -> str:
        return str(obj.batch.batch_id)

    @staticmethod
    def resolve_region(obj) -> str:
        return obj.region_code


class BatchFilter(Schema):
    peer: int | None = None
    kind: str | None = Field(None, max_length=24)
    state: str | None = Field(None, max_length=12)


class OutboundOut(Schema):
    batch_id: str
    peer: str
    sequence: int
    kind: str
    region: str
    period: str
    state: str
    attempts: int
    error_code: str
    last_error: str
    created_at: datetime
    acknowledged_at: datetime | None
    next_attempt_at: datetime | None

    @staticmethod
    def resolve_batch_id(obj) -> str:
        return str(obj.batch_id)

    @staticmethod
    def resolve_peer(obj) -> str:
        return obj.peer.name

    @staticmethod
    def resolve_region(obj) -> str:
        return obj.region_code


class InboundOut(Schema):
    batch_id: str
    peer: str
    sequence: int
    kind: str
    region: str
    period: str
    digest: str
    sent_at: datetime
    received_at: datetime

    @staticmethod
    def resolve_batch_id(obj) -> str:
        return str(obj.batch_id)

    @staticmethod
    def resolve_peer(obj) -> str:
        return obj.peer.name

    @staticmethod
    def resolve_region(obj) -> str:
        return obj.region_code
