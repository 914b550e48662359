"""`chanrong restore FILE`: replace the database's content with a backup.

    chanrong restore var/backups/chanrong-chanrong-20261204-021500-000.sqlite3
    chanrong restore /srv/backups/chanrong-chanrong-….dump --force   # over a database in use

Refuses a database that holds data (users or audit entries) unless --force,
and CHANRONG_ENV=production unless --allow-production. Stop the web
processes, the worker and the scheduler first. Afterwards the audit chain
is verified and the result printed; `backup.restore` is recorded in the
restored database's audit log. See chanrong.core.backups.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from chanrong.core import backups

from .backup import human_size


class Command(BaseCommand):
    help = (
        "从 chanrong backup 的备份文件恢复数据库（替换现有内容）；库中已有数据时须加 --force，"
        "CHANRONG_ENV=production 时须加 --allow-production；恢复后校验审计链"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="备份文件（.dump 或 .sqlite3）")
        parser.add_argument(
            "--force", action="store_true", help="数据库已有数据时仍然恢复（现有数据将被替换）"
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="允许在 CHANRONG_ENV=production 下恢复",
        )
        parser.add_argument("--database", default="default", help=None)

    def handle(self, *args, **options):
        try:
            result = backups.restore_backup(
                options["file"],
                force=options["force"],
                allow_production=options["allow_production"],
                using=options["database"],
            )
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from None
        replaced = " (existing data replaced)" if result.replaced_data else ""
        self.stdout.write(
            f"RESTORED {result.path} ({human_size(result.size)}, sha256 {result.sha256}) "
            f"into {result.engine} database {result.database}{replaced} in {result.seconds:.1f} s: "
            f"{result.tables} tables, {result.rows} rows"
        )
        check = result.audit
        if check is not None and check.ok:
            self.stdout.write(f"audit chain OK: {check.checked} entries")
        elif check is not None:
            raise CommandError(
                f"audit chain NOT OK after restore: {check.reason} "
                f"(seq {check.broken_seq}, {check.checked} entries intact)"
            )
        self.stdout.write(
            "Next: `chanrong migrate` if the code is newer than the backup; "
            "`chanrong audit verify --anchors <copy>` against the anchors up to the backup's time."
        )
