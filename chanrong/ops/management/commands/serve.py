"""`chanrong serve`: web, worker and scheduler under one supervisor.

    chanrong serve                      # gunicorn + task worker + `tick --every 60`
    chanrong serve --bind 127.0.0.1:8080

The worker is `chanrong db_worker` with the database backend (the default),
`chanrong rqworker --with-scheduler --job-class django_tasks_rq.Job default`
with CHANRONG_TASK_BACKEND=redis, and none with the immediate backend.
Ctrl-C (or SIGTERM) stops them all. Production runs each under systemd
instead (docs/deployment.md); this is what `./scripts/up` runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chanrong.ops.supervisor import Program, Supervisor

GUNICORN_CONF = Path(__file__).resolve().parents[3] / "gunicorn.conf.py"


def programs(*, bind: str | None = None, tick_every: int = 60) -> list[Program]:
    """What runs: the command lines of web, worker and scheduler."""
    python = sys.executable
    chanrong = [python, "-m", "chanrong"]
    web_env = {"CHANRONG_BIND": bind} if bind else {}
    result = [Program("web", [python, "-m", "gunicorn", "-c", str(GUNICORN_CONF)], web_env)]
    backend = settings.CHANRONG_TASK_BACKEND
    if backend == "database":
        result.append(Program("worker", [*chanrong, "db_worker", "--no-reload", "--interval", "1"]))
    elif backend == "redis":
        result.append(
            Program(
                "worker",
                [
                    *chanrong,
                    "rqworker",
                    "--with-scheduler",
                    "--job-class",
                    "django_tasks_rq.Job",
                    "default",
                ],
            )
        )
    result.append(Program("scheduler", [*chanrong, "tick", "--every", str(tick_every)]))
    return result


class Command(BaseCommand):
    help = "Run web (gunicorn), task worker and scheduler together; Ctrl-C stops all three."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind", help="gunicorn's address (default: CHANRONG_BIND or 127.0.0.1:8000)"
        )
        parser.add_argument(
            "--stop-timeout",
            type=float,
            default=35.0,
            help="seconds to wait for the children to stop before killing them (default 35)",
        )
        parser.add_argument(
            "--tick-every", type=int, default=60, help="seconds between scheduler ticks"
        )

    def handle(self, *args, **options):
        if options["stop_timeout"] < 0 or options["tick_every"] < 1:
            raise CommandError("--stop-timeout must be ≥ 0 and --tick-every ≥ 1")
        from chanrong.core.audit import anchor_at_start  # noqa: PLC0415

        anchor_at_start()  # the audit chain's end, before anything else writes
        children = programs(bind=options["bind"], tick_every=options["tick_every"])
        names = ", ".join(p.name for p in children)
        self.stdout.write(f"serve: starting {names} (Ctrl-C stops them all)")
        self.stdout.flush()
        code = Supervisor(children, out=self.stdout, stop_timeout=options["stop_timeout"]).run()
        if code:
            raise SystemExit(code)
