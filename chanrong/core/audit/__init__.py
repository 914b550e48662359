"""The hash-chained audit log: append, seal, anchor, verify, retain.

A package since issue 15 (anchors written by the web process, strict
verification, retention); every name callers used from the former module
`chanrong.core.audit` is re-exported here, so `from chanrong.core import
audit; audit.record(...)` is unchanged.

- `chain`      record / record_many / entry / seal / compute_hash / diff
- `anchors`    the chain's end written outside the database, and when
- `verifying`  walking the chain; strict checks against the anchors
- `retention`  how long entries are kept, and the only code that removes them
"""

from .anchors import (
    Anchor,
    AnchorFileError,
    anchor_at_start,
    anchor_path,
    maybe_anchor,
    read_anchors,
    write_anchor,
)
from .chain import (
    GENESIS,
    SEAL_BATCH,
    SEAL_ROUNDS,
    UNSEALED_GRACE,
    compute_hash,
    describe_actor,
    diff,
    entry,
    record,
    record_many,
    seal,
    seal_with,
)
from .verifying import VerifyResult, overdue_unsealed, verify

__all__ = [
    "GENESIS",
    "SEAL_BATCH",
    "SEAL_ROUNDS",
    "UNSEALED_GRACE",
    "Anchor",
    "AnchorFileError",
    "VerifyResult",
    "anchor_at_start",
    "anchor_path",
    "compute_hash",
    "describe_actor",
    "diff",
    "entry",
    "maybe_anchor",
    "overdue_unsealed",
    "read_anchors",
    "record",
    "record_many",
    "seal",
    "seal_with",
    "verify",
    "write_anchor",
]
