"""`chanrong backup` and `chanrong restore`, for real: the test database is
backed up by the command (pg_dump on PostgreSQL, the online backup API on
SQLite), restored by `chanrong restore` in another process into a fresh
database, and the two compared table by table; the restored audit chain is
verified by `chanrong audit verify` in another process."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from chanrong.accounts import services as accounts
from chanrong.core import backups
from chanrong.core.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CHANRONG = str(Path(sys.executable).with_name("chanrong"))
postgres_only = pytest.mark.postgres("pg_dump / pg_restore need PostgreSQL")
sqlite_only = pytest.mark.sqlite("SQLite's backup API")


def _audited_changes(world) -> None:
    """Some history in the audit chain besides the world's rows."""
    for name in ("bank_manager", "ent_user", "gov_jiashan"):
        issued = accounts.create_token(None, world.user(name), "backup test")
    accounts.revoke_token(None, issued.token)


def _backup(directory: Path, *extra: str) -> tuple[Path, str]:
    out = io.StringIO()
    call_command("backup", "--dir", str(directory), *extra, stdout=out)
    text = out.getvalue()
    line = next(line for line in text.splitlines() if line.startswith("BACKUP "))
    return Path(line.split(" -> ", 1)[1].rsplit(" (", 1)[0]), text


def _chanrong(*args: str, database_url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CHANRONG_VAR_DIR": str(tmp_path / "var"),
        "CHANRONG_AUDIT_ANCHORS": str(tmp_path / "restored-anchors.jsonl"),
    }
    env.pop("CHANRONG_ENV", None)
    return subprocess.run(  # noqa: S603
        [CHANRONG, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def _round_trip(world, tmp_path, fresh_url: str, count_fresh) -> None:
    _audited_changes(world)
    before = backups.table_counts()
    assert before["core_auditentry"] >= 4 and before["accounts_user"] >= 10
    path, printed = _backup(tmp_path / "backups")
    assert path.is_file() and path.parent == tmp_path / "backups"
    assert f"{len(before)} tables, {sum(before.values())} rows" in printed
    assert "sha256 " in printed
    entry = AuditEntry.objects.get(action="backup.create")
    assert entry.changes["file"] == str(path) and entry.changes["bytes"] == path.stat().st_size

    restored = _chanrong("restore", str(path), database_url=fresh_url, tmp_path=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert f"RESTORED {path}" in restored.stdout
    assert "audit chain OK" in restored.stdout

    after = count_fresh()
    # Every table, every row; plus the restore's own audit entry (the
    # backup's entry was written after the copy, so it is not in it).
    assert set(after) == set(before)
    expected = dict(before, core_auditentry=before["core_auditentry"] + 1)
    assert after == expected

    verified = _chanrong("audit", "verify", database_url=fresh_url, tmp_path=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "OK" in verified.stdout


@sqlite_only
def test_sqlite_round_trip(world, tmp_path):
    fresh = tmp_path / "fresh.sqlite3"

    def count_fresh() -> dict[str, int]:
        db = sqlite3.connect(fresh)
        try:
            tables = [
                name
                for (name,) in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            ]
            return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
        finally:
            db.close()

    _round_trip(world, tmp_path, f"sqlite:///{fresh}", count_fresh)


@postgres_only
def test_postgres_round_trip(world, tmp_path):
    conf = connection.settings_dict
    server = (
        f"postgresql://{conf['USER'] or ''}{':' + conf['PASSWORD'] if conf['PASSWORD'] else ''}"
        f"@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}"
    )
    name = f"{conf['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def count_fresh() -> dict[str, int]:
        with psycopg.connect(f"{server}/{name}") as db:
            tables = [
                t
                for (t,) in db.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                ).fetchall()
            ]
            return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}

    try:
        _round_trip(world, tmp_path, f"{server}/{name}", count_fresh)
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_keep_prunes_only_this_databases_oldest_backups(world, tmp_path):
    directory = tmp_path / "backups"
    directory.mkdir()
    ext = backups.EXTENSIONS[connection.vendor]
    other = directory / f"chanrong-otherdb-20200101-000000-000.{ext}"
    notes = directory / "README.txt"
    other.write_text("another database's backup")
    notes.write_text("kept")
    made = [_backup(directory, "--keep", "2")[0] for _ in range(3)]
    assert sorted(made) == made  # names sort by time
    assert backups.backups_of(directory) == made[1:]
    assert not made[0].exists()
    assert other.exists() and notes.exists()
    fourth, printed = _backup(directory, "--keep", "2")
    assert f"PRUNED {made[1]}" in printed
    assert backups.backups_of(directory) == [made[2], fourth]
    with pytest.raises(CommandError, match="--keep"):
        _backup(directory, "--keep", "0")


def test_restore_refuses_a_database_in_use_and_production(world, tmp_path, settings):
    path, _printed = _backup(tmp_path / "backups")
    users = backups.table_counts()["accounts_user"]
    with pytest.raises(CommandError, match="--force"):
        call_command("restore", str(path), stdout=io.StringIO())
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="--allow-production"):
        call_command("restore", str(path), "--force", stdout=io.StringIO())
    with pytest.raises(CommandError, match="不存在"):
        call_command("restore", str(tmp_path / "missing.dump"), stdout=io.StringIO())
    assert backups.table_counts()["accounts_user"] == users
    assert not AuditEntry.objects.filter(action="backup.restore").exists()


@postgres_only
def test_missing_or_mismatched_pg_tools_are_named(world, tmp_path, settings):
    empty = tmp_path / "bin"
    empty.mkdir()
    settings.CHANRONG_PG_BIN = str(empty)
    with pytest.raises(CommandError, match="找不到 pg_dump.*postgresql-client-"):
        _backup(tmp_path / "backups")
    fake = empty / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    fake.chmod(0o755)
    major = connection.pg_version // 10000
    with pytest.raises(CommandError, match=f"PostgreSQL 9 的工具.*服务器是 {major}"):
        _backup(tmp_path / "backups")
    assert not list((tmp_path / "backups").iterdir())
