"""Anchors: the chain's end written down outside the database.

A chain cannot show that its newest rows were removed (nothing after them
points back), nor that someone with the database rewrote it from some row
on and hashed it all again. Anchors can: a line `{"seq", "hash", "at"}` per
anchor, appended to a file outside the database (`anchor_path()`), synced
to disk, and logged on the `chanrong.core.audit` logger (a second copy when
the log leaves the machine: journald, syslog, a log shipper).

Who writes them — none of it depends on an optional worker:

- the web process itself, right after an audited transaction commits
  (`chain._seal_after_commit` → `maybe_anchor()`), whenever the chain has
  moved — by default after every audited commit (`AUDIT_ANCHOR_EVERY` 0);
  set it to N seconds to anchor at most every N seconds or every
  `AUDIT_ANCHOR_ENTRIES` entries on a very busy system, at the price of
  leaving that many newest rows uncovered. The line is appended (µs); the
  fsync (ms) happens at most every `AUDIT_ANCHOR_SYNC_EVERY` seconds;
- `chanrong serve` at start-up, `chanrong audit anchor` and a successful
  `chanrong audit verify`;
- `chanrong tick` (`core.tasks.anchor_audit_log`), when it runs.

`verify` then refuses (`check_anchors`) a log with entries and no anchor, an
anchor older than `AUDIT_ANCHOR_STALE` behind the newest entry, a chain that
stops short of an anchor, and a row whose hash differs from the anchored one.

They protect as far as the file, or a copy of it, is out of reach of whoever
can edit the database: it is created owner-only (0600) and opened for
appending only. What was appended after the last anchor can still be removed
unnoticed: nothing with the default setting, the interval's worth otherwise.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .chain import AFTER_SEAL, _chain_end, logger, seal


@dataclass(frozen=True)
class Anchor:
    """The chain's end as it was at `at`: row `seq` had hash `hash`."""

    seq: int
    hash: str
    at: str  # ISO 8601, UTC

    @property
    def moment(self) -> datetime | None:
        """`at` as an aware datetime (None when the file holds something else)."""
        try:
            moment = datetime.fromisoformat(self.at)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class AnchorFileError(ValueError):
    pass


_HASH = re.compile(r"[0-9a-f]{64}")


def anchor_every() -> timedelta:
    return timedelta(seconds=settings.AUDIT_ANCHOR_EVERY)


def anchor_stale() -> timedelta:
    return timedelta(seconds=settings.AUDIT_ANCHOR_STALE)


def anchor_path() -> Path:
    """settings.AUDIT_ANCHOR_FILE, else one file per database under VAR_DIR
    (a development machine holds several databases; each has its own chain)."""
    if settings.AUDIT_ANCHOR_FILE:
        return Path(settings.AUDIT_ANCHOR_FILE)
    name = str(connection.settings_dict.get("NAME") or "default")
    if connection.vendor == "sqlite":
        name = Path(name).stem
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{connection.vendor}-{name}")[-80:]
    return Path(settings.VAR_DIR) / f"audit-anchors.{slug}.jsonl"


def _parse_anchor(line: str) -> Anchor:
    """One line of the anchor file; ValueError saying why it is not an anchor."""
    try:
        data = json.loads(line)
        anchor = Anchor(seq=int(data["seq"]), hash=str(data["hash"]), at=str(data["at"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"无法读取：{exc}") from None
    if anchor.seq < 1 or not _HASH.fullmatch(anchor.hash):
        raise ValueError("不是有效的锚点")
    return anchor


def read_anchors(path: Path | None = None) -> list[Anchor]:
    """The anchors in the file, oldest first; none when it does not exist."""
    path = path or anchor_path()
    if not path.exists():
        return []
    anchors = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                anchors.append(_parse_anchor(line))
            except ValueError as exc:
                raise AnchorFileError(f"{path} 第 {number} 行{exc}") from None
    return anchors


def _last_anchor(path: Path) -> Anchor | None:
    """The file's last anchor, read from its tail (the file grows by a line
    per anchor; verify reads it all, writing need not)."""
    if not path.exists():
        return None
    with path.open("rb") as handle:
        handle.seek(max(0, handle.seek(0, os.SEEK_END) - 4096))
        lines = handle.read().decode("utf-8", errors="replace").splitlines()
    for line in reversed(lines):
        try:
            return _parse_anchor(line)
        except ValueError:
            continue  # a partial first line of the tail, or a damaged one: verify reports it
    return None


#: When each anchor file was last synced to disk by this process (monotonic).
_synced: dict[Path, float] = {}


def _append(path: Path, anchor: Anchor, *, sync: bool = True) -> None:
    """Append one line. `sync` False (the after-commit path) syncs only when
    this process last synced the file AUDIT_ANCHOR_SYNC_EVERY seconds ago or
    more: an fsync costs milliseconds, and an unsynced line lost in a power
    cut only narrows what the anchors cover (the database committed first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Owner-only: the database's users (and the web server's group) need not read it.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(asdict(anchor)) + "\n").encode())
        now = time.monotonic()
        if sync or now - _synced.get(path, -1e9) >= settings.AUDIT_ANCHOR_SYNC_EVERY:
            os.fsync(fd)
            _synced[path] = now
    finally:
        os.close(fd)
    # The log usually leaves the machine (journald, syslog, a shipper): a second copy.
    logger.info("audit anchor seq=%s hash=%s at=%s", anchor.seq, anchor.hash, anchor.at)


def write_anchor(path: Path | None = None, *, now: datetime | None = None) -> Anchor | None:
    """Append the sealed chain's end to the anchor file (and the log), unless
    the chain is empty or has not moved since the last anchor. The file is
    opened for appending only and synced to disk before returning."""
    seq, hash_, _pending = _chain_end()
    if not seq:
        return None
    path = path or anchor_path()
    last = _last_anchor(path)
    if last is not None and last.seq == seq and last.hash == hash_:
        return last
    moment = (now or timezone.now()).astimezone(UTC)
    anchor = Anchor(seq=seq, hash=hash_, at=moment.isoformat(timespec="seconds"))
    _append(path, anchor)
    return anchor


def maybe_anchor(
    path: Path | None = None,
    *,
    now: datetime | None = None,
    end: tuple[int, str] | None = None,
) -> Anchor | None:
    """Anchor the chain's end if it moved and the last anchor is due: older
    than AUDIT_ANCHOR_EVERY, or AUDIT_ANCHOR_ENTRIES or more entries behind,
    or missing. Costs one indexed query and a 4 kB read of the file's tail;
    run after commit (an anchor must never name a row that may roll back).
    Returns the anchor written, else None. `end`: the chain's end (seq,
    hash) as the caller has just read it, to save reading it again."""
    seq, hash_ = end if end is not None else _chain_end()[:2]
    if not seq:
        return None
    path = path or anchor_path()
    last = _last_anchor(path)
    moment = (now or timezone.now()).astimezone(UTC)
    if last is not None:
        if last.seq == seq and last.hash == hash_:
            return None
        last_at = last.moment
        fresh = last_at is not None and moment - last_at < anchor_every()
        if fresh and seq - last.seq < settings.AUDIT_ANCHOR_ENTRIES:
            return None
    anchor = Anchor(seq=seq, hash=hash_, at=moment.isoformat(timespec="seconds"))
    _append(path, anchor, sync=False)
    return anchor


AFTER_SEAL.append(maybe_anchor)


def anchor_at_start() -> Anchor | None:
    """`chanrong serve` at start-up: seal what is left and anchor the chain's
    end. Never stops the server from starting (a broken database shows
    elsewhere); logged when it fails."""
    try:
        seal()
        return write_anchor()
    except Exception:
        logger.exception("could not anchor the audit log at start-up")
        return None
