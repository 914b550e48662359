"""`chanrong backup`: copy the database to a timestamped file.

    chanrong backup                      # to CHANRONG_BACKUP_DIR (default var/backups/)
    chanrong backup --dir /srv/backups --keep 14

PostgreSQL through pg_dump (custom format; the tools must match the
server's major version), SQLite through its online backup API, both safe
while the site runs. Prints the file, its size and SHA-256, and the backups
pruned by --keep; records `backup.create` in the audit log. See
chanrong.core.backups and docs/deployment.md, "Backups".
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from chanrong.core import backups


def human_size(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"  # pragma: no cover


class Command(BaseCommand):
    help = (
        "备份数据库到带时间戳的文件（PostgreSQL: pg_dump 自定义格式；SQLite: 在线备份），"
        "可按 --keep 只保留最近 N 份；记入审计日志"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            type=Path,
            help="备份目录（默认：CHANRONG_BACKUP_DIR，未设置时为 var/backups/）",
        )
        parser.add_argument(
            "--keep",
            type=int,
            metavar="N",
            help="备份完成后只保留本数据库最近的 N 份备份（删除更早的）",
        )
        parser.add_argument("--database", default="default", help=None)

    def handle(self, *args, **options):
        try:
            result = backups.create_backup(
                options.get("dir"), keep=options.get("keep"), using=options["database"]
            )
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"BACKUP {result.engine} database {result.database}: {result.tables} tables, "
            f"{result.rows} rows -> {result.path} ({human_size(result.size)}, "
            f"{result.seconds:.1f} s)"
        )
        self.stdout.write(f"sha256 {result.sha256}")
        for old in result.pruned:
            self.stdout.write(f"PRUNED {old}")
        if options.get("keep"):
            kept = backups.backups_of(result.path.parent, options["database"])
            self.stdout.write(
                f"kept {len(kept)} backup(s) of {result.database} in {result.path.parent}"
            )
