"""`chanrong audit verify|anchor|seal|purge`.

verify  refuse entries left unsealed for minutes (their seal failed, or was
        cleared by hand to have an edited row chained again), seal what is
        pending, walk the hash chain and check it against the anchors; exit
        non-zero at the first broken row, when the chain stops short of an
        anchor, when there is no anchor for a non-empty log or the newest
        is stale. A clean run anchors the verified end.
anchor  write the chain's end down now.
seal    chain entries left unsealed (after `verify` reported them and the
        cause is understood); recorded in the audit log.
purge   remove entries older than the retention (never younger: refused).
"""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from chanrong.core import audit
from chanrong.core.audit import retention


class Command(BaseCommand):
    help = (
        "审计日志：verify 校验哈希链与锚点（发现篡改、删除、截断、缺失或过旧的锚点、长期未封存时"
        "以非零状态退出）；anchor 立即把链尾记入锚点文件；seal 封存遗留的未封存记录；"
        "purge --before 日期 清除超过保留期的记录（保留期内的拒绝清除）"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "action",
            choices=["verify", "anchor", "seal", "purge"],
            help="verify: 校验哈希链；anchor: 记下链尾；seal: 封存遗留记录；purge: 清除过期记录",
        )
        parser.add_argument("--no-seal", action="store_true", help="只校验，不先封存待封存的记录")
        parser.add_argument(
            "--anchors",
            type=Path,
            help="锚点文件（默认：设置 AUDIT_ANCHOR_FILE 或 var/ 下本数据库的文件）；"
            "可指向另存的副本",
        )
        parser.add_argument(
            "--no-anchors", action="store_true", help="verify 时不核对锚点（只校验链本身）"
        )
        parser.add_argument(
            "--before", type=date.fromisoformat, help="purge：清除此日期（YYYY-MM-DD）之前的记录"
        )

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
        if action == "seal":
            self._seal()
            return
        if action == "purge":
            self._purge(options.get("before"))
            return
        self._verify(path, no_seal=no_seal, **options)

    def _verify(self, path: Path, *, no_seal: bool, **options) -> None:
        if not no_seal:
            # Before sealing: an entry unsealed for minutes is not sealed quietly.
            overdue, first = audit.overdue_unsealed()
            if overdue:
                raise CommandError(
                    f"UNSEALED: {overdue} 条记录超过 "
                    f"{int(audit.UNSEALED_GRACE.total_seconds() // 60)} 分钟仍未封存"
                    f"（最早 id {first}）；查明原因后运行 `chanrong audit seal`"
                )
            audit.seal()
        anchors = []
        use_anchors = not options.get("no_anchors")
        if use_anchors:
            if options.get("anchors") and not path.exists():
                raise CommandError(f"ANCHORS: 锚点文件 {path} 不存在")
            try:
                anchors = audit.read_anchors(path)
            except audit.AnchorFileError as exc:
                raise CommandError(f"ANCHORS: {exc}") from None
        result = audit.verify(anchors=anchors, strict=use_anchors)
        if result.kind == "anchors":
            raise CommandError(f"ANCHORS: {result.reason} (前 {result.checked} 条完好)")
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
        if use_anchors and not options.get("anchors"):
            audit.write_anchor(path)  # the end just verified (not into a copy given by hand)

    def _seal(self) -> None:
        overdue, first = audit.overdue_unsealed()
        sealed = audit.seal()
        if overdue:
            audit.record(
                "audit.seal_overdue",
                object_type="core.auditentry",
                changes={"overdue": overdue, "first_id": first, "sealed": sealed},
            )
        self.stdout.write(f"SEALED {sealed}")

    def _purge(self, before: date | None) -> None:
        if before is None:
            raise CommandError("purge 需要 --before YYYY-MM-DD")
        try:
            result = retention.purge(before)
        except retention.RetentionError as exc:
            raise CommandError(f"REFUSED: {exc}") from None
        self.stdout.write(
            f"PURGED {result.rows} entries (through seq {result.through_seq}); "
            f"retention {retention.retention_days()} days"
        )
