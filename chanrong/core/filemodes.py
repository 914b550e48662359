"""Data files readable by the platform's own account only.

The SQLite database (and its -wal / -shm files), backups, the audit anchor
files and uploaded files hold personal and financial data; a world-readable
`var/chanrong.sqlite3` (issue 15, finding 4) lets any local account copy
the lot. So every `chanrong` process, and the web workers (`chanrong.wsgi`),
run with umask 077: what they create is 0600 (directories 0700). SQLite
gives its -wal and -shm files the database file's mode. Files created
before this, or by another tool, are tightened at `chanrong migrate` and
`chanrong serve` start (`tighten_data_files`).

Static files are the exception: `collectstatic` keeps the ordinary umask,
because nginx (another account) serves them (docs/deployment.md).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

OWNER_ONLY_UMASK = 0o077
#: Commands whose output others must read.
PUBLIC_OUTPUT_COMMANDS = frozenset({"collectstatic"})


def restrict_umask() -> int:
    """Set umask 077; returns the previous one."""
    return os.umask(OWNER_ONLY_UMASK)


def data_paths() -> list[Path]:
    """The files and directories that hold data, from the settings (the
    SQLite database when it is the engine, its -wal/-shm/-journal, the var
    directory's audit anchors, backups, media)."""
    from django.conf import settings

    found: list[Path] = []
    for database in settings.DATABASES.values():
        if database.get("ENGINE", "").endswith("sqlite3"):
            name = str(database.get("NAME") or "")
            if name and name != ":memory:" and not name.startswith("file:"):
                base = Path(name)
                found += [base] + [
                    Path(f"{name}{suffix}") for suffix in ("-wal", "-shm", "-journal")
                ]
    var_dir = Path(getattr(settings, "VAR_DIR", "var"))
    if var_dir.is_dir():
        found += sorted(var_dir.glob("audit-anchors*"))
        found += sorted(var_dir.glob("*.sqlite3*"))
    anchor = getattr(settings, "AUDIT_ANCHOR_FILE", None)
    if anchor:
        found.append(Path(anchor))
    for setting in ("CHANRONG_BACKUP_DIR", "MEDIA_ROOT"):
        value = getattr(settings, setting, None)
        if value:
            found.append(Path(value))
    return found


def tighten(paths: Iterable[Path]) -> int:
    """chmod go-rwx every existing path we own (directories recursively);
    returns how many modes changed. Errors (another owner, a read-only
    mount) are skipped: this is hardening, not a precondition."""
    changed = 0
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    seen: set[Path] = set()

    def one(path: Path) -> None:
        nonlocal changed
        if path in seen:
            return
        seen.add(path)
        try:
            info = path.lstat()
        except OSError:
            return
        if stat.S_ISLNK(info.st_mode) or (uid is not None and info.st_uid != uid):
            return
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            try:
                path.chmod(mode & ~0o077)
                changed += 1
            except OSError:
                pass
        if stat.S_ISDIR(info.st_mode):
            try:
                children = list(path.iterdir())
            except OSError:
                return
            for child in children:
                one(child)

    for path in paths:
        one(Path(path))
    return changed


def tighten_data_files() -> int:
    return tighten(data_paths())
