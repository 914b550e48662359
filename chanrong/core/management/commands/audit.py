"""`chanrong audit verify`: walk the hash chain; exit non-zero at the first broken row."""

from django.core.management.base import BaseCommand, CommandError

from chanrong.core import audit


class Command(BaseCommand):
    help = "审计日志：verify 校验哈希链完整性（发现篡改或删除时以非零状态退出）"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"], help="verify: 校验哈希链")

    def handle(self, *args, action: str, **options):
        result = audit.verify()
        if not result.ok:
            raise CommandError(
                f"BROKEN at seq {result.broken_seq}: {result.reason} (前 {result.checked} 条完好)"
            )
        self.stdout.write(f"OK: {result.checked} entries")
