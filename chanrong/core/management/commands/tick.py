"""`chanrong tick`: enqueue the periodic jobs that are due (see chanrong.core.periodic).

chanrong tick              # once; run it every minute from cron or a systemd timer
chanrong tick --every 60   # or keep it running as a service
chanrong tick --all        # enqueue every job now, due or not
chanrong tick --list       # show the jobs and their rhythm
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from chanrong.core import periodic


class Command(BaseCommand):
    help = "Enqueue the periodic background jobs that are due (run every minute)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="keep running, ticking every SECONDS (≥ 1); without it, tick once",
        )
        parser.add_argument(
            "--window",
            type=int,
            default=60,
            metavar="SECONDS",
            help="a single tick enqueues the jobs due in the last SECONDS (default 60, "
            "matching a once-a-minute cron job)",
        )
        parser.add_argument("--all", action="store_true", help="enqueue every job, due or not")
        parser.add_argument("--list", action="store_true", help="list the periodic jobs and exit")
        parser.add_argument(
            "--max-ticks", type=int, default=0, help=("with --every: stop after this many ticks")
        )

    def handle(self, *args, **options):
        if options["list"]:
            for job in periodic.jobs():
                self.stdout.write(f"{job.name}\tevery {job.every}")
            return
        every = options["every"]
        if every < 0 or options["window"] < 1 or options["max_ticks"] < 0:
            raise CommandError("--every, --window and --max-ticks must be positive")
        if not every:
            now = time.time()
            self._tick(now - options["window"], now, everything=options["all"])
            return
        since = time.time() - every
        ticks = 0
        try:
            while True:
                close_old_connections()
                now = time.time()
                self._tick(since, now, everything=options["all"] and ticks == 0)
                since = now
                ticks += 1
                if options["max_ticks"] and ticks >= options["max_ticks"]:
                    break
                time.sleep(max(0.0, every - (time.time() - now)))
        except KeyboardInterrupt:
            self.stdout.write("tick: stopped")

    def _tick(self, since: float, now: float, *, everything: bool) -> None:
        outcomes = periodic.tick(since, now, everything=everything)
        for job, outcome in outcomes:
            self.stdout.write(f"{outcome}\t{job.name}")
        # Listeners record the tick (the scheduler's heartbeat); one that
        # fails is logged and never stops the scheduler.
        for receiver, error in periodic.ticked.send_robust(
            sender=self.__class__, since=since, now=now, outcomes=outcomes
        ):
            if isinstance(error, Exception):
                self.stderr.write(f"tick: {receiver!r} failed: {error}")
