"""`chanrong db_worker`: the database backend's worker, with a heartbeat.

This is django-tasks-db's own command (every option as documented there),
wrapped so that the worker

- takes an id naming its host and pid ("host:pid:random") unless
  `--worker-id` is given, so that a task it leaves RUNNING can be traced;
- recovers, at start, the tasks that dead workers of this host left RUNNING
  (ops.recovery: re-queued when safe to run twice, else failed);
- records a heartbeat (ops.ProcessHeartbeat) at start, every
  CHANRONG_HEARTBEAT_SECONDS (10) from a thread while it runs, and when it
  stops;
- stops cleanly on SIGTERM/SIGINT at any moment, start-up included. The
  package installs its signal handlers only when its loop begins; a signal
  before that (`chanrong serve` stopping just after it restarted a worker)
  would have killed the process by default and left its heartbeat looking
  alive. Until then our own handler turns the signal into `StoppedEarly`.

It takes precedence over the package's command because chanrong.ops comes
before django_tasks_db in INSTALLED_APPS.
"""

from __future__ import annotations

import logging
import os
import signal

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from chanrong.ops import heartbeat, recovery
from chanrong.ops.models import ProcessKind

logger = logging.getLogger("chanrong.ops")


class StoppedEarly(BaseException):
    """SIGTERM/SIGINT arrived before the package's worker loop took over its
    signals. A BaseException, so that start-up recovery's `except Exception`
    does not swallow it."""


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _stop_early(signum: int, frame) -> None:
    raise StoppedEarly(signal.strsignal(signum))


class Command(db_worker.Command):
    help = "Run a database background worker (with a heartbeat and start-up recovery)"

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=None)

    def handle(self, *args, **options) -> None:
        options["worker_id"] = options.get("worker_id") or heartbeat.new_worker_ident()
        # With --reload the parent only watches files; the child runs tasks.
        if options.get("reload") and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            return super().handle(*args, **options)
        self.configure_logging(options["verbosity"])
        previous = {signum: signal.signal(signum, _stop_early) for signum in _STOP_SIGNALS}
        beater = heartbeat.Beater(options["worker_id"], ProcessKind.WORKER)
        try:
            try:
                for item in recovery.recover(this_host_only=True):
                    self.stdout.write(
                        f"recovered task {item.orphan.id} ({item.orphan.task_path}): {item.action}"
                    )
            except Exception:
                logger.exception("start-up recovery of stale tasks failed")
            beater.start()
            # The package's Worker replaces our handlers with its own here.
            return super().handle(*args, **options)
        except StoppedEarly as stop:
            logger.info("%s before the worker loop started: stopping", stop)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            beater.stop()
