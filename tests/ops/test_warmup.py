"""What a process pays when it starts, and what a web master warms.

Commands, db_worker, the scheduler and every test subprocess start Django;
none of them should import scikit-learn, SciPy or openpyxl unless it uses
them (together about 2 s of CPU per process). The web master imports them
once in `warm()`, so a worker's first ranking is not cold.
"""

from __future__ import annotations

import json
import subprocess
import sys

from chanrong.ops.warmup import LIBRARIES, warm

from .procs import ROOT

HEAVY = ("sklearn", "scipy", "openpyxl", "pandas", "optbinning")

PROBE = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "chanrong.settings"
import django
django.setup()
after_setup = sorted(m for m in {heavy!r} if m in sys.modules)
from django.urls import get_resolver
get_resolver().url_patterns
after_urls = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps([after_setup, after_urls]))
"""


def _probe(code: str):
    """Run `code` in a fresh Python process; what its last line printed, as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_starting_django_and_importing_every_url_imports_no_heavy_library():
    after_setup, after_urls = _probe(PROBE.format(heavy=HEAVY))
    assert after_setup == []
    # pandas stays: the risk app's scoring modules build frames at module level.
    assert [m for m in after_urls if m != "pandas"] == []


def test_warm_imports_the_request_paths_libraries_and_compiles_templates():
    took = warm()
    assert set(took) >= {"urls", "libraries", "translations", "templates", "templates_count"}
    assert took["templates_count"] > 100
    assert all(name in sys.modules for name in LIBRARIES)


FREEZE_PROBE = """
import gc, json, os, runpy
os.environ["DJANGO_SETTINGS_MODULE"] = "chanrong.settings"
import django
django.setup()
conf = runpy.run_path("chanrong/gunicorn.conf.py")
class Log:
    def info(self, *args): pass
class Server:
    log = Log()
before = gc.get_freeze_count()
conf["when_ready"](Server())
print(json.dumps([conf["preload_app"], before, gc.get_freeze_count(), len(gc.get_objects())]))
"""


def test_the_master_freezes_what_it_warmed_before_forking():
    """gunicorn's `when_ready` warms the application and then moves every
    object alive into the permanent generation: a worker's full collections
    scan only what its requests made (single 300 ms pauses otherwise)."""
    preload, before, frozen, left = _probe(FREEZE_PROBE)
    assert preload is True and before == 0
    assert frozen > 100_000 and left < frozen / 10
