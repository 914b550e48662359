"""Worker processes for the batch re-match (`batch.batch_top_k(workers=N)`,
`chanrong matching_rematch --workers N`), started without fork().

The processes that run the batch have threads (gunicorn's, the task
worker's heartbeat, a test's live server), and a child forked from a
threaded process inherits every lock another thread held at that moment:
a deadlock waiting to happen (Python 3.12+ warns). So the pool uses the
"forkserver" start method: one clean, single-threaded server process,
started by fork+exec, forks the pool's processes.

That server imports this module first (`context()` asks for it), which sets
Django up there once; each pool process forked from it starts with Django
ready instead of paying `django.setup()` itself. A pool process never
queries the database; if it opened a connection anyway, it is closed when
the process exits (the batch closes and joins its pool, so its processes
exit normally and run their finalizers).
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.context import BaseContext
from multiprocessing.util import Finalize


def _ready_django() -> bool:
    """Set Django up if a settings module is named and it is not set up yet
    (the forkserver, or a pool process of a forkserver started elsewhere);
    True when Django is ready."""
    from django.apps import apps

    if apps.ready:
        return True
    if apps.loading or not os.environ.get("DJANGO_SETTINGS_MODULE"):
        return False
    import django

    django.setup()
    return True


def context() -> BaseContext:
    """The start method for the batch's pools: forkserver, this module preloaded."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    return ctx


def start_worker() -> None:
    """In a pool process, before any work: Django ready, connections closed at exit."""
    if _ready_django():
        from django.db import connections

        Finalize(None, connections.close_all, exitpriority=10)


# Imported by the forkserver (a fresh interpreter, Django not set up): set
# it up there, once, for every process forked from it. In the web or task
# process this module is imported by the batch, with Django ready: no-op.
_ready_django()
