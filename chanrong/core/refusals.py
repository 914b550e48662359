"""Refused access, audited and coalesced.

A 403 or 404 answered to a signed-in user on an object URL (a URL that
names an object: its route captures an id or a code, web page or API
operation alike) is written to the audit log as `access.refused` with the
user, method, path, route and status. Someone walking ids to find other
tenants' data leaves a trace; a 404 for a mistyped URL that matches no
route does not.

Coalesced, so that a flood cannot fill the log: at most one entry per
(user, route, status) every `CHANRONG_REFUSAL_WINDOW` seconds (default 600).
The first refusal in a window writes an entry; later ones only increment a
counter (setting the window's mark or counting: one statement,
core.counter_batch); the next entry written for the same key carries that
count (`repeated`: refusals since the previous entry that were not written
one by one). A flood that stops leaves its last count in its counter until the
same user is refused there again; the entries that were written still show
that it happened and when it started.

The kernel's own middleware, after authentication: it knows nothing of the
apps, only the resolved route and the response's status.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from . import audit, counter_batch, counters
from .dbbusy import best_effort

logger = logging.getLogger(__name__)

ACTION = "access.refused"
REFUSED_STATUSES = frozenset({403, 404})


def window_seconds() -> int:
    return max(1, int(getattr(settings, "CHANRONG_REFUSAL_WINDOW", 600)))


def object_route(request: HttpRequest) -> str | None:
    """The route pattern of a URL that names an object, else None."""
    match = getattr(request, "resolver_match", None)
    if match is None or not (match.kwargs or match.args):
        return None
    return match.route or None


def _keys(user_id: int, route: str, status: int) -> tuple[str, str]:
    digest = hashlib.sha256(f"{user_id}|{route}|{status}".encode()).hexdigest()[:32]
    return f"refused:{digest}:mark", f"refused:{digest}:count"


def caller(request: HttpRequest):
    """The signed-in user: the session's, or the API's bearer-token user
    (django-ninja puts it in `request.auth`, not `request.user`)."""
    for candidate in (getattr(request, "auth", None), getattr(request, "user", None)):
        if getattr(candidate, "is_authenticated", False) and getattr(candidate, "pk", None):
            return candidate
    return None


def note(request: HttpRequest, status: int) -> bool:
    """Count this refusal; returns whether an audit entry was written."""
    route = object_route(request)
    if status not in REFUSED_STATUSES or route is None:
        return False
    user = caller(request)
    if user is None:
        return False
    mark, counter = _keys(user.pk, route, status)
    window = window_seconds()
    first: list[bool] = []

    def count() -> None:
        # The first in this window sets the mark; a later one is folded into
        # the count for the next entry (one statement, core.counter_batch).
        if counter_batch.mark_or_count(mark, counter, window, time.time()):
            first.append(True)

    if not counters.guarded(count, what="refused-access counter") or not first:
        return False
    repeated = counters.get(counter)

    def write() -> None:
        audit.record(
            ACTION,
            actor=user,
            object_type="route",
            object_id=route[:64],
            object_repr=request.path[:200],
            changes={
                "method": request.method,
                "path": request.path[:500],
                "route": route,
                "status": status,
                "repeated": repeated,
                "window_seconds": window,
            },
        )

    if best_effort(write, what="refused-access audit entry"):
        if repeated:
            counters.delete(counter)
        return True
    # The database was busy: count this one with the rest, try again next time.
    counters.delete(mark)
    counters.incr(counter)
    return False


class RefusedAccessMiddleware:
    """Audits 403 / 404 answered to a signed-in user on an object URL."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in REFUSED_STATUSES:
            try:
                note(request, response.status_code)
            except Exception:  # the answer stands even if the trace cannot be written
                logger.exception("could not audit refused access to %s", request.path)
        return response
