#!/usr/bin/env python3
"""Sign and push one batch to a parent 产融合作平台 — the whole client side of
the exchange format (docs/exchange.md) in the standard library plus
`cryptography`.

    python example_client.py --parent https://city.example.gov.cn \\
        --key child.key --sender <our deployment_id> --recipient <parent's> \\
        --sequence 7 --region 330421 --period 2026-11 --payload payload.json

`child.key` holds the base64 of the raw 32-byte Ed25519 private key whose
public key the parent pinned at registration (`--new-key` writes one and
prints its public key). `payload.json` holds the payload of the kind
(docs/exchange/<kind>.schema.json). Exit status 0 when the parent
acknowledged the batch (201, or 409 `replayed` with our digest: it had it).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def canonical(value) -> bytes:
    """Sorted keys, no whitespace, UTF-8 as is; the format has no floats."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign(envelope: dict, key: Ed25519PrivateKey) -> dict:
    unsigned = {k: v for k, v in envelope.items() if k != "signature"}
    key_id = hashlib.sha256(base64.b64decode(public_b64(key))).hexdigest()[:16]
    value = base64.b64encode(key.sign(canonical(unsigned))).decode()
    return {**unsigned, "signature": {"alg": "Ed25519", "key_id": key_id, "value": value}}


def push(parent: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - the operator's https URL
        parent.rstrip("/") + "/api/v1/exchange/batches",
        data=body,
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - the operator's URL
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-key", metavar="PATH", help="write a new private key and exit")
    parser.add_argument("--parent")
    parser.add_argument("--key")
    parser.add_argument("--sender")
    parser.add_argument("--recipient")
    parser.add_argument("--sequence", type=int)
    parser.add_argument("--kind", default="financing_stats")
    parser.add_argument("--region")
    parser.add_argument("--period")
    parser.add_argument("--payload")
    args = parser.parse_args()
    if args.new_key:
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        with open(args.new_key, "w", opener=lambda p, f: __import__("os").open(p, f, 0o600)) as out:
            out.write(base64.b64encode(raw).decode())
        print(public_b64(key))
        return 0
    with open(args.key) as handle:
        key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(handle.read().strip()))
    with open(args.payload, encoding="utf-8") as handle:
        payload = json.load(handle, parse_float=str)  # decimals travel as strings
    envelope = {
        "format_version": 1,
        "batch_id": str(uuid.uuid4()),
        "sequence": args.sequence,
        "sender": args.sender,
        "recipient": args.recipient,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "kind": args.kind,
        "region": args.region,
        "period": args.period,
        "payload": payload,
    }
    body = canonical(sign(envelope, key))
    status, answer = push(args.parent, body)
    print(status, json.dumps(answer, ensure_ascii=False))
    ours = hashlib.sha256(body).hexdigest()
    acknowledged = status == 201 or (
        answer.get("code") == "replayed" and answer.get("digest") == ours
    )
    return 0 if acknowledged else 1


if __name__ == "__main__":
    sys.exit(main())
