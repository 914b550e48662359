"""Gunicorn settings for chanrong (`gunicorn -c chanrong/gunicorn.conf.py`).

Threaded workers (gthread): requests spend most of their time waiting on the
database, and threads share one process's memory. Every knob can be set from
the environment; the defaults suit one small machine behind nginx (see
docs/deployment.md). Static files are served by WhiteNoise from the same
processes, or by nginx in front.
"""

import os
from pathlib import Path

_project = Path(__file__).resolve().parent.parent
_var = Path(os.environ.get("CHANRONG_VAR_DIR", _project / "var"))


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "chanrong.wsgi:application"
bind = [
    os.environ.get("CHANRONG_BIND")
    or f"{os.environ.get('CHANRONG_HOST', '127.0.0.1')}:{_int('CHANRONG_PORT', 8000)}"
]
worker_class = "gthread"
# 2-3 processes x 4 threads: enough for a county pilot on 2 cores; raise
# CHANRONG_WORKERS with the cores, not beyond 2 x cores + 1.
workers = _int("CHANRONG_WORKERS", min(3, max(2, os.cpu_count() or 2)))
threads = _int("CHANRONG_THREADS", 4)
timeout = _int("CHANRONG_TIMEOUT", 60)
graceful_timeout = 30
# The longest request line gunicorn accepts (its maximum; default 4094). A
# longer one is refused by gunicorn itself with a bare English 414, before
# Django could answer in Chinese; behind nginx, nginx's own limit and error
# page apply first (docs/deployment.md).
limit_request_line = 8190
keepalive = 5
# Recycle workers now and then so that a slow leak never becomes an outage.
max_requests = _int("CHANRONG_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10

# Logs to stdout/stderr: systemd, docker or the terminal collect them.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("CHANRONG_GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# Trust X-Forwarded-* only from the reverse proxy (nginx on the same host by
# default); settings.py reads X-Forwarded-Proto in production.
forwarded_allow_ips = os.environ.get("CHANRONG_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Gunicorn's control socket defaults to one path per user: two instances
# (a demo and a test run) would fight over it. Keep it beside the database.
_var.mkdir(parents=True, exist_ok=True)
control_socket = str(_var / "gunicorn.ctl")

# No server banner (等保: do not tell a scanner which server and version it
# talks to). Gunicorn writes "Server: gunicorn" itself, after the application
# has answered, so Django's middleware cannot remove it; drop the line where
# gunicorn builds its default headers. This file runs in the master before
# the workers fork, so every worker inherits the change. Behind nginx, set
# `server_tokens off;` there too (docs/deployment.md).
from gunicorn.http import wsgi as _gunicorn_wsgi  # noqa: E402

_default_headers = _gunicorn_wsgi.Response.default_headers


def _default_headers_without_banner(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


if not getattr(_gunicorn_wsgi.Response, "_chanrong_no_banner", False):
    _gunicorn_wsgi.Response.default_headers = _default_headers_without_banner
    _gunicorn_wsgi.Response._chanrong_no_banner = True

# Workers start warm (issue 20): the application is loaded in the master
# and chanrong.ops.warmup imports every view, builds the API and compiles the
# templates there, before the first fork; every worker, also each one that
# replaces a recycled worker, inherits it instead of spending its first
# requests on it. CHANRONG_PRELOAD=0 loads the application in each worker
# instead (then a HUP reloads changed code without restarting the master).
preload_app = os.environ.get("CHANRONG_PRELOAD", "1").strip().lower() not in {"0", "false", "no"}


def when_ready(server):
    """In the master, after loading the application and before forking."""
    if not preload_app:
        return
    from chanrong.ops.warmup import freeze_for_fork, warm

    took = warm()
    server.log.info(
        "warmed in the master: URLs and API %.2f s, libraries %.2f s, translations %.2f s, "
        "%d templates %.2f s",
        took["urls"],
        took["libraries"],
        took["translations"],
        took["templates_count"],
        took["templates"],
    )
    freeze_for_fork()
