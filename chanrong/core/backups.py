"""Backing up the platform's database, and restoring a backup.

`chanrong backup` and `chanrong restore` call these functions.

- **PostgreSQL**: `pg_dump --format=custom` to a file, `pg_restore` back, in
  one transaction. The client tools must be the server's major version
  (checked first): an older pg_dump refuses a newer server, and an archive
  written by a newer pg_dump cannot be read by the server's own pg_restore.
  `CHANRONG_PG_BIN` names their directory when the ones on PATH are not it.
- **SQLite**: SQLite's online backup API (`sqlite3.Connection.backup`): a
  consistent copy taken while the site keeps running (a `cp` of a WAL
  database can miss recent commits or tear). Restoring uses the same API
  in the other direction, page for page.

A backup goes to a timestamped file in `CHANRONG_BACKUP_DIR` (default
`var/backups/`): `chanrong-<database>-YYYYmmdd-HHMMSS-mmm.<dump|sqlite3>`,
written under a temporary name and renamed once complete, so a listed file
is always whole. `keep` prunes all but the newest N of that database's
backups. A restore refuses a database that is in use (it has users or audit
entries) unless forced, and refuses `CHANRONG_ENV=production` unless told
explicitly. Both are recorded in the audit log (a backup in the database it
copied, after the copy; a restore in the restored database) and logged.

What these files do not hold: uploaded files (`CHANRONG_MEDIA_ROOT`), the
secrets in the environment, and the audit anchor file, which must be kept
apart from the database on purpose (docs/deployment.md, "Backups").
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connections

from . import audit

logger = logging.getLogger(__name__)

PREFIX = "chanrong"
EXTENSIONS = {"postgresql": "dump", "sqlite": "sqlite3"}


class BackupError(Exception):
    """Why a backup or a restore cannot be made; the command prints it."""


@dataclass
class BackupResult:
    path: Path
    engine: str
    database: str
    size: int
    sha256: str
    seconds: float
    tables: int
    rows: int
    pruned: list[Path] = field(default_factory=list)


@dataclass
class RestoreResult:
    path: Path
    engine: str
    database: str
    size: int
    sha256: str
    seconds: float
    replaced_data: bool
    tables: int
    rows: int
    audit: audit.VerifyResult | None = None


# --- where and what -------------------------------------------------------------


def backup_dir() -> Path:
    configured = getattr(settings, "CHANRONG_BACKUP_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "backups"


def _engine(using: str) -> str:
    vendor = connections[using].vendor
    if vendor not in EXTENSIONS:
        raise BackupError(f"不支持的数据库类型：{vendor}（仅支持 PostgreSQL 与 SQLite）")
    return vendor


def database_label(using: str = "default") -> str:
    """The database's name as it appears in backup file names."""
    connection = connections[using]
    name = str(connection.settings_dict.get("NAME") or "default")
    if connection.vendor == "sqlite":
        name = Path(name.split("?")[0].removeprefix("file:")).stem or "sqlite"
    return re.sub(r"[^A-Za-z0-9_.]+", "_", name)[-60:] or "default"


def _pattern(using: str) -> re.Pattern[str]:
    label = re.escape(database_label(using))
    ext = EXTENSIONS[_engine(using)]
    return re.compile(rf"{PREFIX}-{label}-\d{{8}}-\d{{6}}-\d{{3}}\.{ext}")


def backups_of(directory: Path, using: str = "default") -> list[Path]:
    """This database's backups in `directory`, oldest first (names sort by time)."""
    if not directory.is_dir():
        return []
    pattern = _pattern(using)
    return sorted(p for p in directory.iterdir() if p.is_file() and pattern.fullmatch(p.name))


def _new_path(directory: Path, using: str) -> Path:
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%d-%H%M%S") + f"-{now.microsecond // 1000:03d}"
    path = directory / f"{PREFIX}-{database_label(using)}-{stamp}.{EXTENSIONS[_engine(using)]}"
    if path.exists():  # two backups within the same millisecond
        time.sleep(0.002)
        return _new_path(directory, using)
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def table_counts(using: str = "default") -> dict[str, int]:
    """Rows per table, every table of the database (Django's or not)."""
    connection = connections[using]
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT COUNT(*) FROM {quoted}")  # noqa: S608 - names from the catalogue
            counts[table] = int(cursor.fetchone()[0])
    return counts


def in_use(using: str = "default") -> bool:
    """Whether the database holds a platform's data: any user or audit entry
    (a freshly migrated database has reference data, but neither)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    models = [apps.get_model(settings.AUTH_USER_MODEL), apps.get_model("core", "AuditEntry")]
    return any(
        model._meta.db_table in tables and model._default_manager.using(using).exists()
        for model in models
    )


# --- PostgreSQL client tools ------------------------------------------------------


def _pg_tool(name: str, using: str) -> str:
    """The path of pg_dump / pg_restore, checked against the server's major version."""
    bindir = getattr(settings, "CHANRONG_PG_BIN", None)
    path = shutil.which(name, path=str(bindir)) if bindir else shutil.which(name)
    connection = connections[using]
    connection.ensure_connection()
    server_major = connection.pg_version // 10000
    if path is None:
        where = f"CHANRONG_PG_BIN={bindir} 下" if bindir else "PATH 中"
        raise BackupError(
            f"{where}找不到 {name}：请安装 PostgreSQL {server_major} 的客户端工具"
            f"（Debian/Ubuntu: apt-get install postgresql-client-{server_major}），"
            f"或用 CHANRONG_PG_BIN 指向其 bin 目录"
        )
    try:
        out = subprocess.run(  # noqa: S603 - a resolved path, no shell
            [path, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackupError(f"无法运行 {path} --version：{exc}") from None
    match = re.search(r"\)\s*(\d+)", out)
    if match is None:
        raise BackupError(f"无法识别 {path} 的版本：{out.strip()!r}")
    tool_major = int(match.group(1))
    if tool_major != server_major:
        raise BackupError(
            f"{path} 是 PostgreSQL {tool_major} 的工具，而数据库服务器是 {server_major}："
            f"请安装 postgresql-client-{server_major}，或用 CHANRONG_PG_BIN 指向"
            f"（如 /usr/lib/postgresql/{server_major}/bin）"
        )
    return path


def _pg_env(using: str) -> dict[str, str]:
    """libpq's environment for the configured database (the password never
    goes on a command line, where `ps` would show it)."""
    conf = connections[using].settings_dict
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if conf.get(key):
            env[var] = str(conf[key])
    if conf.get("PASSWORD"):
        env["PGPASSWORD"] = str(conf["PASSWORD"])
    options = conf.get("OPTIONS") or {}
    for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if options.get(key):
            env[var] = str(options[key])
    env["PGDATABASE"] = str(conf["NAME"])
    return env


def _run(command: list[str], env: dict[str, str] | None, what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{what} 失败（退出码 {done.returncode}）：{done.stderr.strip()[-2000:]}")


# --- backup -----------------------------------------------------------------------


def create_backup(
    directory: Path | None = None, *, keep: int | None = None, using: str = "default"
) -> BackupResult:
    """Copy the database to a new timestamped file in `directory`, record it
    in the audit log, then keep only the newest `keep` backups of this
    database there (None: keep all)."""
    if keep is not None and keep < 1:
        raise BackupError("--keep 至少为 1（刚做的这份总要保留）")
    engine = _engine(using)
    directory = Path(directory or backup_dir())
    directory.mkdir(parents=True, exist_ok=True)
    path = _new_path(directory, using)
    partial = path.with_name(path.name + ".partial")
    counts = table_counts(using)
    started = time.monotonic()
    try:
        if engine == "postgresql":
            tool = _pg_tool("pg_dump", using)
            _run([tool, "--format=custom", "--file", str(partial)], _pg_env(using), "pg_dump")
        else:
            _sqlite_copy(connections[using], partial)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    seconds = time.monotonic() - started
    size = path.stat().st_size
    digest = _sha256(path)
    pruned = []
    if keep is not None:
        pruned = [old for old in backups_of(directory, using)[:-keep] if old != path]
        for old in pruned:
            old.unlink(missing_ok=True)
    audit.record(
        "backup.create",
        object_type="backup",
        object_id=path.name,
        object_repr=str(path),
        changes={
            "file": str(path),
            "engine": engine,
            "bytes": size,
            "sha256": digest,
            "tables": len(counts),
            "rows": sum(counts.values()),
            "pruned": [p.name for p in pruned],
            "via": "command line",
        },
    )
    logger.warning("backup written: %s (%s bytes, sha256 %s)", path, size, digest)
    return BackupResult(
        path=path,
        engine=engine,
        database=database_label(using),
        size=size,
        sha256=digest,
        seconds=seconds,
        tables=len(counts),
        rows=sum(counts.values()),
        pruned=pruned,
    )


def _sqlite_copy(connection, target: Path) -> None:
    """The online backup API, in one step: a consistent snapshot (WAL lets
    writers go on meanwhile); the copy is a self-contained file (no -wal)."""
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        result = copy.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        copy.close()
    if result != "ok":
        raise BackupError(f"备份文件自检未通过：{result}")


# --- restore ----------------------------------------------------------------------


def _check_sqlite_backup(path: Path) -> None:
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = source.execute("PRAGMA quick_check").fetchone()[0]
            has_migrations = source.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
            ).fetchone()
        finally:
            source.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} 不是可用的 SQLite 备份：{exc}") from None
    if result != "ok":
        raise BackupError(f"{path} 自检未通过：{result}")
    if not has_migrations:
        raise BackupError(f"{path} 不是本平台的数据库备份（没有 django_migrations 表）")


def restore_backup(
    path: Path, *, force: bool = False, allow_production: bool = False, using: str = "default"
) -> RestoreResult:
    """Replace the database's content with the backup at `path`.

    Refuses a database in use unless `force`, and CHANRONG_ENV=production
    unless `allow_production`: a restore throws away everything written
    since the backup. Afterwards the audit chain is sealed and verified (its
    own anchors are not checked here: a backup older than the latest anchor
    is reported as a chain that stops short of it, which is true)."""
    engine = _engine(using)
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"备份文件 {path} 不存在")
    if settings.PRODUCTION and not allow_production:
        raise BackupError(
            "CHANRONG_ENV=production：恢复会丢弃备份之后写入的全部数据；"
            "确认无误后加 --allow-production 再运行"
        )
    expected = EXTENSIONS[engine]
    if path.suffix != f".{expected}":
        raise BackupError(f"{path} 不是 {engine} 的备份（应为 .{expected} 文件）")
    replaced = in_use(using)
    if replaced and not force:
        raise BackupError(
            f"数据库 {database_label(using)} 已有数据（用户或审计记录）：恢复会将其全部替换；"
            f"确认无误后加 --force 再运行"
        )
    size = path.stat().st_size
    digest = _sha256(path)
    started = time.monotonic()
    connection = connections[using]
    if engine == "postgresql":
        tool = _pg_tool("pg_restore", using)
        env = _pg_env(using)
        _run([tool, "--list", str(path)], env, "pg_restore --list（检查备份文件）")
        connection.close()
        _run(
            [
                tool,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-acl",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                env["PGDATABASE"],
                str(path),
            ],
            env,
            "pg_restore",
        )
    else:
        _check_sqlite_backup(path)
        connection.close()
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        connection.close()
    seconds = time.monotonic() - started
    audit.seal()
    audit.record(
        "backup.restore",
        object_type="backup",
        object_id=path.name,
        object_repr=str(path),
        changes={
            "file": str(path),
            "engine": engine,
            "bytes": size,
            "sha256": digest,
            "replaced_data": replaced,
            "forced": force,
            "via": "command line",
        },
    )
    logger.warning("database restored from %s (sha256 %s)", path, digest)
    counts = table_counts(using)
    return RestoreResult(
        path=path,
        engine=engine,
        database=database_label(using),
        size=size,
        sha256=digest,
        seconds=seconds,
        replaced_data=replaced,
        tables=len(counts),
        rows=sum(counts.values()),
        audit=audit.verify(),
    )
