"""When the database is busy: writes that may be skipped, and a 503 instead
of a 500 for those that may not.

SQLite has one writer at a time. Reads never wait for it (WAL), but a write
waits up to `busy_timeout` for the lock and then fails with "database is
locked". A long write transaction (a 100,000-row import holds the lock for
its whole write phase, by design: nothing partly written) would otherwise
turn every write made *while reading* — a token's last use, a session's
sliding expiry — into a failed page. Two rules (docs/architecture.md,
"Reads under a busy database"):

1. A write on a read path is *best effort*: `best_effort()` gives it a short
   lock wait (`CHANRONG_DB_SOFT_LOCK_TIMEOUT_MS`) and skips it if the lock is
   not free by then. What it records is approximate by nature and written
   again by the next request.
2. A write that must happen (a login creates a session and an audit entry)
   waits for the lock as long as the platform's longest write transaction
   (`CHANRONG_SQLITE_BUSY_TIMEOUT_MS`). If it still cannot proceed,
   `DatabaseBusyMiddleware` answers 503 with Retry-After, never a 500.

On PostgreSQL readers and writers do not block each other; `best_effort()`
sets a `lock_timeout` there, for the rare row lock (a token being revoked).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import DatabaseError, OperationalError, connections, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

#: Seconds a client is asked to wait before retrying after a 503.
RETRY_AFTER = 5

_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_PG_BUSY_SQLSTATES = {
    "55P03",
    "40P01",
    "57014",
}  # lock_not_available, deadlock, lock/statement timeout


def is_busy_error(exc: BaseException | None) -> bool:
    """True for "the database is busy" (a lock not granted in time), as
    opposed to a bug or bad data."""
    if not isinstance(exc, DatabaseError):
        return False
    if isinstance(exc, OperationalError) and any(text in str(exc).lower() for text in _SQLITE_BUSY):
        return True
    return sqlstate_of(exc) in _PG_BUSY_SQLSTATES


def sqlstate_of(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind a Django database error (Django wraps
    the driver's exception and keeps it as the cause), or None."""
    cause = exc.__cause__ or exc.__context__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def soft_lock_timeout_ms() -> int:
    return max(0, int(getattr(settings, "CHANRONG_DB_SOFT_LOCK_TIMEOUT_MS", 100)))


def busy_timeout_ms() -> int:
    return max(0, int(getattr(settings, "CHANRONG_SQLITE_BUSY_TIMEOUT_MS", 30000)))


@contextmanager
def _short_lock_wait(using: str):
    """Inside: lock waits are at most the soft timeout, on this connection."""
    connection = connections[using]
    wait = soft_lock_timeout_ms()
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {wait:d}")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms():d}")
    elif connection.vendor == "postgresql":
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{wait:d}ms'")
            yield
    else:  # pragma: no cover - no other backend is supported
        yield


def best_effort(write: Callable[[], Any], *, using: str = "default", what: str = "") -> bool:
    """Run `write` (a small write made while serving a read) unless the
    database is busy; returns whether it ran. Never raises for a busy
    database: the caller's read goes on and the write is simply not made
    this time.

    Inside a transaction the write is made as usual (on SQLite the
    transaction already holds the write lock; elsewhere a failed statement
    would spoil the caller's transaction)."""
    connection = connections[using]
    if connection.in_atomic_block:
        write()
        return True
    try:
        with _short_lock_wait(using):
            write()
    except DatabaseError as exc:
        if not is_busy_error(exc):
            raise
        logger.info("database busy: skipped %s", what or getattr(write, "__name__", "a write"))
        return False
    return True


# --- 503 instead of 500 ------------------------------------------------------------

_MARK = "_chanrong_database_busy"


def _mark_busy_request(sender, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Django (and the API's error handler) send got_request_exception while
    handling the exception, wherever it was raised — a view, the API, or a
    middleware such as the session's. Note a busy database on the request;
    `DatabaseBusyMiddleware` turns the 500 that follows into a 503."""
    if request is not None and is_busy_error(sys.exc_info()[1]):
        setattr(request, _MARK, True)


got_request_exception.connect(_mark_busy_request, dispatch_uid="chanrong.core.dbbusy")


def busy_response(request: HttpRequest) -> HttpResponse:
    """503 + Retry-After: the API's error shape under /api/, a page elsewhere."""
    message = _("系统繁忙（数据库正忙于写入），请稍后重试")
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"code": "busy", "message": message, "errors": []},
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        try:
            body = loader.render_to_string("503.html", {"message": message}, request=None)
        except Exception:  # a page about a failure must not fail itself
            body = message
        response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseBusyMiddleware:
    """Outermost middleware: a request that failed because the database was
    busy answers 503 with Retry-After (the client may simply retry), not 500.
    Everything else passes through untouched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _MARK, False):
            logger.warning("database busy: %s %s answered 503", request.method, request.path)
            return busy_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if is_busy_error(exception):
            logger.warning("database busy: %s %s answered 503", request.method, request.path)
            return busy_response(request)
        return None
