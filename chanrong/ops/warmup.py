"""Warm a web process before it serves anyone (issue 20: "workers preloaded
so the first request is not cold").

A fresh Django process does its most expensive work on its first requests:
importing every URLconf and view module, building the API's routers and
their pydantic models, loading the translation catalogues, compiling each
template. That made the first page after a start, and after every worker
recycle (gunicorn's max_requests), take 4–6 s.

gunicorn.conf.py loads the application in the master (`preload_app`) and
calls `warm()` there before forking, so every worker, including each one
that replaces a recycled worker, starts with all of it done and shared
copy-on-write. `warm()` reads no table: the master must not hold a database
connection that its children would inherit (it closes any that were opened
anyway).
"""

from __future__ import annotations

import gc
import importlib
import logging
import time
from pathlib import Path

logger = logging.getLogger(__name__)

#: Libraries the request paths import at first use rather than at start-up
#: (so that commands, workers and the scheduler do not pay for them): SciPy's
#: sparse matrices for matching's prefix index, scikit-learn for unpickling
#: the saved approval model. A web process imports them here, once, in the master.
LIBRARIES = ("scipy.sparse", "sklearn.calibration", "sklearn.linear_model")


def _template_names() -> list[str]:
    """Every template under the project's and the apps' template directories."""
    from django.template import engines

    names: set[str] = set()
    for engine in engines.all():
        for directory in engine.template_dirs:
            root = Path(directory)
            if root.is_dir():
                names.update(
                    str(path.relative_to(root)) for path in root.rglob("*.html") if path.is_file()
                )
    return sorted(names)


def warm() -> dict[str, float]:
    """Import, build and compile what the first requests would; seconds per step."""
    from django.conf import settings
    from django.db import connections
    from django.template import TemplateSyntaxError, engines
    from django.urls import get_resolver
    from django.utils import translation

    took: dict[str, float] = {}
    started = time.perf_counter()
    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - imports every URLconf, view and API router
    resolver.reverse_dict  # noqa: B018 - and builds the reverse lookup once
    took["urls"] = time.perf_counter() - started

    started = time.perf_counter()
    for name in LIBRARIES:
        importlib.import_module(name)
    took["libraries"] = time.perf_counter() - started

    started = time.perf_counter()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("首页")
    took["translations"] = time.perf_counter() - started

    started = time.perf_counter()
    engine = engines["django"]
    compiled = 0
    for name in _template_names():
        try:
            engine.get_template(name)
            compiled += 1
        except TemplateSyntaxError:
            # A partial meant to be included under conditions it cannot meet
            # alone; the request that includes it compiles it.
            logger.debug("warm-up: %s not compiled alone", name)
    took["templates"] = time.perf_counter() - started
    took["templates_count"] = compiled

    connections.close_all()
    return took


def freeze_for_fork() -> None:
    """Collect, then move every object alive now (modules, views, compiled
    templates, the API's models: some 300,000) into the collector's
    permanent generation, right before the master forks its workers.

    A worker's full collections then scan only what its requests made: at
    demo scale 10 a full collection over the whole heap took 220–310 ms,
    and those pauses were the single slow requests bench/pages.py found on
    pages whose median is 20 ms (docs/performance.md, session 27). It also
    keeps the collector from writing to the shared pages, which forked
    workers would otherwise each copy (Python's documentation of
    `gc.freeze`). Objects are never freed from the permanent generation;
    what is frozen here lives as long as the process anyway."""
    gc.collect()
    gc.freeze()
