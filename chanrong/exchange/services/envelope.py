"""The exchange format (docs/exchange.md): a batch is a JSON envelope

    {"format_version": 1, "batch_id": uuid, "sequence": n, "sender": uuid,
     "recipient": uuid, "created_at": ISO 8601, "kind": ..., "region": code,
     "period": ..., "payload": {...},
     "signature": {"alg": "Ed25519", "key_id": ..., "value": base64}}

signed with the sender's Ed25519 key over the canonical encoding of every
member but "signature". Canonical encoding (a subset of RFC 8785 JCS that
needs no float rules, because the format carries no floats): UTF-8 JSON,
object members sorted by key (keys are ASCII), no insignificant whitespace
(separators "," and ":"), non-ASCII characters as themselves (not \\u
escapes), integers as integers, decimals as strings ("1234.50"), no floats
anywhere (a float is refused: its decimal spelling is not unique).

Pure functions over bytes and dicts: no ORM here, so that the example
client in docs/exchange/ and the tests can mirror them exactly.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT_VERSION = 1
ALGORITHM = "Ed25519"
KINDS = ("indicator_actuals", "pilot_progress", "financing_stats", "list_version")
PERIOD_RE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-\d{2})?|-Q[1-4]|-H[12]|-Y)?$")
REGION_RE = re.compile(r"^(\d{6})?$")
ENVELOPE_FIELDS = (
    "format_version",
    "batch_id",
    "sequence",
    "sender",
    "recipient",
    "created_at",
    "kind",
    "region",
    "period",
    "payload",
)
MAX_BODY = 8 * 1024 * 1024  # bytes: a month of a province's aggregates fits many times


class Refused(Exception):
    """A batch (or request) refused: `code` is the stable error code."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _no_floats(value: Any, path: str = "") -> None:
    if isinstance(value, float):
        raise Refused("malformed", f"{path or '$'}: floats are not allowed, use a decimal string")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise Refused("malformed", f"{path or '$'}: keys must be ASCII strings")
            _no_floats(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_floats(item, f"{path}[{index}]")


def canonical(value: Any) -> bytes:
    """The canonical bytes of a JSON value (see the module docstring)."""
    _no_floats(value)
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def signed_part(envelope: dict[str, Any]) -> bytes:
    return canonical({k: v for k, v in envelope.items() if k != "signature"})


# --- keys ---------------------------------------------------------------------


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_to_text(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode()


def private_from_text(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text))


def public_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def public_from_text(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError) as exc:
        raise Refused("malformed", "public_key: not a base64 Ed25519 public key") from exc


def key_id(public_key_text: str) -> str:
    """A short fingerprint: the first 16 hex digits of SHA-256(raw public key)."""
    return hashlib.sha256(base64.b64decode(public_key_text)).hexdigest()[:16]


# --- signing and verifying -----------------------------------------------------


def sign(envelope: dict[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """The envelope with its "signature" member (any previous one replaced)."""
    unsigned = {k: v for k, v in envelope.items() if k != "signature"}
    value = private_key.sign(canonical(unsigned))
    return {
        **unsigned,
        "signature": {
            "alg": ALGORITHM,
            "key_id": key_id(public_text(private_key)),
            "value": base64.b64encode(value).decode(),
        },
    }


def sign_bytes(data: bytes, private_key: Ed25519PrivateKey) -> str:
    return base64.b64encode(private_key.sign(data)).decode()


def verify_bytes(data: bytes, signature: str, public_key_text: str) -> bool:
    try:
        public_from_text(public_key_text).verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError, TypeError, Refused):
        return False
    return True


def verify(envelope: dict[str, Any], public_key_text: str) -> None:
    """Raises Refused: `unsigned` (no signature), `bad_signature` (malformed,
    another algorithm, or made with a key other than the pinned one) or
    `tampered` (the pinned key's signature does not match the content)."""
    signature = envelope.get("signature")
    if not signature:
        raise Refused("unsigned", "the batch carries no signature", 401)
    if not isinstance(signature, dict) or signature.get("alg") != ALGORITHM:
        raise Refused("bad_signature", "signature must be {alg: Ed25519, key_id, value}", 401)
    if signature.get("key_id") != key_id(public_key_text):
        raise Refused("bad_signature", "signed with a key other than the one pinned", 401)
    try:
        raw = base64.b64decode(str(signature.get("value", "")), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 64:
        raise Refused("bad_signature", "signature value is not 64 base64 bytes", 401)
    try:
        public_from_text(public_key_text).verify(raw, signed_part(envelope))
    except InvalidSignature:
        raise Refused(
            "tampered", "the signature does not match the content (altered in transit?)", 401
        ) from None


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# --- parsing -----------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    format_version: int
    batch_id: uuid.UUID
    sequence: int
    sender: str
    recipient: str
    created_at: datetime
    kind: str
    region: str
    period: str


def parse(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY:
        raise Refused("too_large", f"a batch may be at most {MAX_BODY} bytes", 413)
    try:
        envelope = json.loads(body.decode("utf-8"), parse_float=_refuse_float)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused("malformed", f"not UTF-8 JSON: {exc}") from None
    except Refused:
        raise
    if not isinstance(envelope, dict):
        raise Refused("malformed", "the batch must be a JSON object")
    return envelope


def _refuse_float(text: str):
    raise Refused("malformed", f"float {text} is not allowed, use a decimal string")


def header(envelope: dict[str, Any]) -> Header:
    """The envelope's fields checked (everything but signature and payload
    contents). The format version is checked first, so that a batch of a
    future version is refused as such and not as malformed."""
    version = envelope.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise Refused("malformed", "format_version must be a positive integer")
    if version > FORMAT_VERSION:
        raise Refused(
            "unsupported_version",
            f"format_version {version} is newer than this deployment supports ({FORMAT_VERSION})",
            422,
        )
    missing = [name for name in ENVELOPE_FIELDS if name not in envelope]
    if missing:
        raise Refused("malformed", "missing: " + ", ".join(missing))
    extra = set(envelope) - set(ENVELOPE_FIELDS) - {"signature"}
    if extra:
        raise Refused("malformed", "unknown members: " + ", ".join(sorted(extra)))
    try:
        batch_id = uuid.UUID(str(envelope["batch_id"]))
        created_at = datetime.fromisoformat(str(envelope["created_at"]))
    except ValueError:
        raise Refused("malformed", "batch_id must be a UUID, created_at ISO 8601") from None
    if created_at.tzinfo is None:
        raise Refused("malformed", "created_at must carry its UTC offset")
    sequence = envelope["sequence"]
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
        raise Refused("malformed", "sequence must be a positive integer")
    if envelope["kind"] not in KINDS:
        raise Refused("malformed", f"kind must be one of {', '.join(KINDS)}")
    region, period = envelope["region"], envelope["period"]
    if not isinstance(region, str) or not REGION_RE.match(region):
        raise Refused("malformed", "region must be a 6-digit GB/T 2260 code")
    if not isinstance(period, str) or not PERIOD_RE.match(period):
        raise Refused("malformed", "period must be YYYY, YYYY-MM, YYYY-MM-DD, YYYY-Qn, YYYY-Hn")
    if not isinstance(envelope["payload"], dict):
        raise Refused("malformed", "payload must be an object")
    return Header(
        format_version=version,
        batch_id=batch_id,
        sequence=sequence,
        sender=str(envelope["sender"]),
        recipient=str(envelope["recipient"]),
        created_at=created_at,
        kind=envelope["kind"],
        region=region,
        period=period,
    )
