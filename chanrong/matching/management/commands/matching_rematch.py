"""`chanrong matching_rematch [--all]`: store the top products of open demands.

Without `--all`, only open demands that have no stored matches yet; with it,
every open demand (and stored matches of closed demands are dropped). Each
chunk of demands is replaced in one transaction.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from chanrong.demands.models import Demand
from chanrong.matching import adapter, services


class Command(BaseCommand):
    help = "Re-match open financing demands against live products and store the top k."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="every open demand")
        parser.add_argument("--k", type=int, default=services.BATCH_K)
        parser.add_argument("--chunk", type=int, default=5000, help="demands per transaction")
        parser.add_argument("--workers", type=int, default=1, help="processes for the batch")

    def handle(self, *args, **options):
        if not 1 <= options["k"] <= 100:
            raise CommandError("--k must be between 1 and 100")
        if options["chunk"] < 1 or options["workers"] < 1:
            raise CommandError("--chunk and --workers must be positive")
        start = time.perf_counter()
        adapter.clear_cache()
        if options["all"]:
            ids = None
        else:
            ids = list(
                Demand.objects.filter(state__in=adapter.OPEN_STATES, matches__isnull=True)
                .values_list("pk", flat=True)
                .distinct()
            )
        n = services.rematch(
            ids, k=options["k"], chunk=options["chunk"], workers=options["workers"]
        )
        self.stdout.write(f"re-matched {n} open demand(s) in {time.perf_counter() - start:.1f} s")
