"""`chanrong audit verify`: seal what is pending, then walk the hash chain and
check it against the anchors; exit non-zero at the first broken row, when the
chain stops short of an anchor, or when entries stayed unsealed.

`chanrong audit anchor`: write the chain's end down now (the periodic task
does it every ten minutes)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from chanrong.core import audit


class Command(BaseCommand):
    help = (
        "审计日志：verify 封存待封存记录并校验哈希链与锚点（发现篡改、删除、截断或长期未封存时"
        "以非零状态退出）；anchor 立即把链尾（序号与哈希）记入锚点文件"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "action", choices=["verify", "anchor"], help="verify: 校验哈希链；anchor: 记下链尾"
        )
        parser.add_argument("--no-seal", action="store_true", help="只校验，不先封存待封存的记录")
        parser.add_argument(
            "--anchors",
            type=Path,
            help="锚点文件（默认：设置 AUDIT_ANCHOR_FILE 或 var/ 下本数据库的文件）；"
            "可指向另存的副本",
        )
        parser.add_argument("--no-anchors", action="store_true", help="verify 时不核对锚点")

    def handle(self, *args, action: str, no_seal: bool = False, **options):
        path = options.get("anchors") or audit.anchor_path()
        if action == "anchor":
            audit.seal()
            anchor = audit.write_anchor(path)
            if anchor is None:
                self.stdout.write("EMPTY: 审计日志为空，无需锚定")
            else:
                self.stdout.write(f"ANCHOR seq {anchor.seq} {anchor.hash} at {anchor.at} -> {path}")
            return
        if not no_seal:
            audit.seal()
        anchors = []
        if not options.get("no_anchors"):
            if options.get("anchors") and not path.exists():
                raise CommandError(f"ANCHORS: 锚点文件 {path} 不存在")
            try:
                anchors = audit.read_anchors(path)
            except audit.AnchorFileError as exc:
                raise CommandError(f"ANCHORS: {exc}") from None
        result = audit.verify(anchors=anchors)
        if not result.ok and result.broken_seq is None:
            raise CommandError(f"UNSEALED: {result.reason} (前 {result.checked} 条完好)")
        if not result.ok:
            raise CommandError(
                f"BROKEN at seq {result.broken_seq}: {result.reason} (前 {result.checked} 条完好)"
            )
        self.stdout.write(
            f"OK: {result.checked} entries"
            + (
                f", {result.anchors} anchors (latest seq {max(a.seq for a in anchors)})"
                if anchors
                else ""
            )
        )
