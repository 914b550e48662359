"""`chanrong risk train|score`: the scorecard from the command line.

chanrong risk train --csv FILE --target COLUMN [--time COLUMN] [--test-share 0.3] [--bad VALUE]
    trains on any table (e.g. public credit data) and prints the sample
    sizes, AUC, KS and Gini of train and test, PSI test vs train and the
    points table — the same trainer and metrics as the platform's own;
    nothing is stored.
chanrong risk train [--as-of YYYY-MM-DD]
    trains on the platform's loan book and proposes a version (refused at
    once, with the reason, below CHANRONG_RISK_AUC_FLOOR).
chanrong risk score [--as-of YYYY-MM-DD]
    scores every enterprise with the live version.
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from chanrong.core.errors import ServiceError


class Command(BaseCommand):
    help = "风险评分卡：train 训练（--csv 用外部数据，只输出指标；否则用平台数据并提交新版本待审批）、score 用在用版本评分"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="训练评分卡")
        train.add_argument("--csv", dest="csv_path", help="外部数据表（CSV，首行为列名）")
        train.add_argument("--target", help="目标列（1 为违约；或用 --bad 指定违约取值）")
        train.add_argument(
            "--time", dest="time_column", help="时间列：按时间先后切分训练集与测试集"
        )
        train.add_argument("--test-share", type=float, default=0.3, help="测试集比例（默认 0.3）")
        train.add_argument("--bad", help="目标列中代表违约的取值")
        train.add_argument("--as-of", dest="as_of", help="平台数据的训练基准日（默认今天）")
        score = sub.add_parser("score", help="用在用版本为全部企业评分")
        score.add_argument("--as-of", dest="as_of", help="评分日期（默认今天）")

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    @staticmethod
    def _day(value: str | None) -> date | None:
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}") from exc

    # --- train -----------------------------------------------------------------------------

    def _train(
        self,
        csv_path=None,
        target=None,
        time_column=None,
        test_share=0.3,
        bad=None,
        as_of=None,
        **options,
    ):
        from chanrong.risk.scorecard.trainer import TrainingError

        try:
            if csv_path:
                self._train_csv(csv_path, target, time_column, test_share, bad)
            else:
                if target or time_column:
                    raise CommandError("--target/--time 只用于 --csv")
                self._train_platform(self._day(as_of))
        except TrainingError as exc:
            prefix = f"[{exc.field}] " if exc.field else ""
            raise CommandError(prefix + exc.message) from exc

    def _train_csv(self, path, target, time_column, test_share, bad) -> None:
        import pandas as pd

        from chanrong.risk.scorecard import trainer

        if not target:
            raise CommandError("--csv 需要 --target 指定目标列")
        try:
            frame = pd.read_csv(path)
        except FileNotFoundError as exc:
            raise CommandError(f"文件不存在：{path}") from exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取 CSV：{exc}") from exc
        fitted = trainer.fit(frame, target, time_column=time_column, test_share=test_share, bad=bad)
        self._print_metrics(fitted.metrics)
        self._print_points(fitted.table)

    def _train_platform(self, as_of: date | None) -> None:
        from chanrong.risk.services import scoring

        version = scoring.train_and_propose(as_of)
        self._print_metrics(version.metrics)
        baseline = version.metrics.get("baseline_tax_grade") or {}
        if baseline:
            self.stdout.write(
                f"仅纳税信用等级（基线，测试集）: AUC {_f(baseline.get('auc'))}  KS {_f(baseline.get('ks'))}"
            )
        self._print_points(version.table)
        if version.status == "refused":
            self.stdout.write(f"版本 v{version.number} 已拒绝：{version.refusal_reason}")
        else:
            self.stdout.write(f"版本 v{version.number} 已提交，待政府管理员批准后上线")

    def _print_metrics(self, m: dict) -> None:
        split = m.get("split", {})
        if split.get("by") == "order":
            self.stdout.write("切分：按表中行序（未指定时间列），后段为测试集")
        else:
            self.stdout.write(
                f"切分：按 {split.get('by')}，训练 {split.get('train_from')} ~ {split.get('train_until')}，"
                f"测试 {split.get('test_from')} ~ {split.get('test_until')}"
            )
        if m.get("dropped_unlabelled"):
            self.stdout.write(f"目标列为空而略去 {m['dropped_unlabelled']} 行")
        self.stdout.write(f"{'样本':<6}{'行数':>8}{'违约率':>9}{'AUC':>8}{'KS':>8}{'Gini':>8}")
        for key, name in (("train", "训练"), ("test", "测试")):
            s = m[key]
            self.stdout.write(
                f"{name:<6}{s['n']:>8}{_pct(s['bad_rate']):>9}{_f(s['auc']):>8}{_f(s['ks']):>8}{_f(s['gini']):>8}"
            )
        self.stdout.write(f"PSI（测试 vs 训练）: {_f(m.get('psi_test_vs_train'))}")

    def _print_points(self, table: dict) -> None:
        self.stdout.write("评分卡（分箱与分值）:")
        for entry in table["features"]:
            self.stdout.write(f"  {entry['label']}  (IV {_f(entry.get('iv'))})")
            labels = [b["label"] for b in entry["bins"]]
            for label, b in zip(labels, entry["bins"], strict=True):
                self.stdout.write(
                    f"    {label:<28} {b['points']:>8.1f} 分  样本 {b['count']:>6}  违约率 {_pct(b['event_rate'])}"
                )
            self.stdout.write(f"    {'缺失':<28} {entry['missing_points']:>8.1f} 分")

    # --- score -----------------------------------------------------------------------------

    def _score(self, as_of=None, **options) -> None:
        from chanrong.risk.services import scoring

        try:
            result = scoring.score_all(as_of=self._day(as_of))
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"已用 v{result['version']} 为 {result['scored']} 家企业评分；PSI（对训练总体）: {_f(result['psi'])}"
        )


def _f(value) -> str:
    if value is None or value != value:
        return "—"
    return f"{float(value):.3f}"


def _pct(value) -> str:
    if value is None or value != value:
        return "—"
    return f"{float(value):.1%}"
