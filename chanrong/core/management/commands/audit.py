"""`chanrong audit verify`: seal what is pending, then walk the hash chain;
exit non-zero at the first broken row or when entries stayed unsealed."""

from django.core.management.base import BaseCommand, CommandError

from chanrong.core import audit


class Command(BaseCommand):
    help = "审计日志：verify 封存待封存记录并校验哈希链完整性（发现篡改、删除或长期未封存时以非零状态退出）"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"], help="verify: 校验哈希链")
        parser.add_argument("--no-seal", action="store_true", help="只校验，不先封存待封存的记录")

    def handle(self, *args, action: str, no_seal: bool = False, **options):
        if not no_seal:
            audit.seal()
        result = audit.verify()
        if not result.ok and result.broken_seq is None:
            raise CommandError(f"UNSEALED: {result.reason} (前 {result.checked} 条完好)")
        if not result.ok:
            raise CommandError(
                f"BROKEN at seq {result.broken_seq}: {result.reason} (前 {result.checked} 条完好)"
            )
        self.stdout.write(f"OK: {result.checked} entries")
