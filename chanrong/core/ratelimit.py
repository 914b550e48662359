"""Rate limits for /api/v1: per token (or signed-in user) and per address.

Why here and why this way:

- One middleware in front of the whole API, so that no router can forget it
  and a flood is refused before authentication, parsing or any query.
- The counters live in the database (core.counters) by default, in Redis
  when `CHANRONG_CACHE_BACKEND=redis`. Both are shared by every gunicorn
  worker and every machine behind the same database, which a per-process
  counter would not be.
- A *sliding window counter* (the current and the previous fixed window,
  the previous one weighted by how much of it still overlaps the sliding
  window): two keys per client, one atomic `incr` per request on Redis,
  one atomic upsert that also reads the previous window in the database,
  both of a request's windows (token and address) in one statement,
  committed asynchronously on PostgreSQL (core.counter_batch). "20/s burst
  40" is read as a token bucket would be: at most 40 at once, 20 a second
  sustained, i.e. 40 per 2-second window.
- A refused request is not counted (its increment is taken back), so a
  client slightly over its rate still gets its rate, not nothing; the
  answer is 429 with Retry-After (whole seconds until a request would pass)
  in the API's error shape.
- Both increments are atomic, so concurrent requests each see their own
  count. On SQLite the counter is a write: it is made as a best-effort write
  (`core.dbbusy`), skipped (the request allowed) while a long import holds
  the write lock, rather than making every API read wait for it.

Settings (environment, see settings.py and docs/deployment.md):
`CHANRONG_API_RATE_PER_TOKEN`, `CHANRONG_API_RATE_PER_ADDRESS` — "20/s burst
40", "600/min", "10000/hour"; "off" (or empty) disables that limit.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from . import counter_batch, counters
from .context import client_ip

API_PREFIX = "/api/"
CACHE_ALIAS = "default"
_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600}
_UNITS |= {"hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(
    r"^\s*(?P<count>\d+)\s*/\s*(?P<unit>[a-z]+)\s*(?:burst\s+(?P<burst>\d+)\s*)?$", re.IGNORECASE
)


@dataclass(frozen=True)
class Rate:
    """`limit` requests per sliding window of `window` seconds."""

    limit: int
    window: float
    text: str


def parse_rate(text: str | None) -> Rate | None:
    """'20/s burst 40' → Rate(40, 2.0); '600/min' → Rate(600, 60.0); 'off' → None.

    Raises ValueError for anything else, so a typo in the environment stops
    start-up instead of silently disabling the limit."""
    if text is None or text.strip().lower() in {"", "off", "none", "0"}:
        return None
    match = _RATE.match(text)
    if not match or match["unit"].lower() not in _UNITS:
        raise ValueError(f"rate {text!r}: expected e.g. '20/s burst 40', '600/min' or 'off'")
    count = int(match["count"])
    seconds = _UNITS[match["unit"].lower()]
    if count < 1:
        raise ValueError(f"rate {text!r}: the count must be at least 1")
    burst = int(match["burst"]) if match["burst"] else count
    if burst < count:
        raise ValueError(f"rate {text!r}: the burst may not be below the rate")
    # A bucket of `burst` refilled at count/seconds empties in burst*seconds/count.
    return Rate(limit=burst, window=burst * seconds / count, text=text.strip())


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0


def _window(key: str, rate: Rate, now: float) -> tuple[str, str, int, float, float]:
    """The sliding window of `key` at `now`: the current and previous fixed
    windows' names, the lifetime of a count, the seconds elapsed in the current
    window and the weight of the previous one."""
    index = math.floor(now / rate.window)
    elapsed = now - index * rate.window
    current_key = f"rl:{key}:{rate.limit}:{rate.window}:{index}"
    previous_key = f"rl:{key}:{rate.limit}:{rate.window}:{index - 1}"
    timeout = math.ceil(rate.window * 2) + 1
    return current_key, previous_key, timeout, elapsed, 1 - elapsed / rate.window


def _decide(
    rate: Rate, current_key: str, current: int, previous: int, elapsed: float, weight: float
) -> Decision:
    """Allowed, or refused and taken back (a refused request is not counted)."""
    if previous * weight + current <= rate.limit:
        return Decision(True)
    counters.decr(current_key)
    return Decision(False, retry_after(rate, previous, current - 1, elapsed))


def hit_all(checks: list[tuple[str, Rate]], *, now: float | None = None) -> list[Decision]:
    """Count one request for each `(key, rate)` (the keys distinct); with the
    database counters all of them in one statement (core.counter_batch)."""
    if not _uses_database():
        return [hit(key, rate, now=now) for key, rate in checks]
    now = time.time() if now is None else now
    windows = [(key, rate, *_window(key, rate, now)) for key, rate in checks]
    counts = counter_batch.hit_windows(
        [(current, previous, timeout) for _k, _r, current, previous, timeout, _e, _w in windows],
        now,
    )
    return [
        _decide(rate, current, *counts[current], elapsed, weight)
        for _key, rate, current, _previous, _timeout, elapsed, weight in windows
    ]


def hit(key: str, rate: Rate, *, now: float | None = None) -> Decision:
    """Count one request for `key` against `rate`; refused requests are not counted."""
    if _uses_database():
        return hit_all([(key, rate)], now=now)[0]
    cache = caches[CACHE_ALIAS]
    now = time.time() if now is None else now
    current_key, previous_key, timeout, elapsed, weight = _window(key, rate, now)
    # Redis: INCR is atomic, so concurrent requests each see their own count.
    cache.add(current_key, 0, timeout=timeout)
    try:
        current = cache.incr(current_key)
    except ValueError:  # expired between add and incr
        cache.set(current_key, 1, timeout=timeout)
        current = 1
    previous = cache.get(previous_key, 0) or 0
    if previous * weight + current <= rate.limit:
        return Decision(True)
    with contextlib.suppress(ValueError):  # expired meanwhile: nothing to take back
        cache.decr(current_key)
    return Decision(False, retry_after(rate, previous, current - 1, elapsed))


def retry_after(rate: Rate, previous: int, current: int, elapsed: float) -> int:
    """Whole seconds until one more request would fit, given the counts
    without it (never less than 1)."""
    window, limit = rate.window, rate.limit
    if current + 1 > limit:
        # Wait for the next window, where `current` becomes the decaying one.
        wait = (window - elapsed) + window * max(0.0, 1 - (limit - 1) / current)
    elif previous:
        wait = window * (1 - (limit - current - 1) / previous) - elapsed
    else:  # pragma: no cover - within the limit: not refused
        wait = 0.0
    return max(1, math.ceil(wait))


def _configured(name: str) -> Rate | None:
    return _parsed(getattr(settings, name, None))


@functools.lru_cache(maxsize=16)
def _parsed(text: str | None) -> Rate | None:
    """`parse_rate`, once per setting's text rather than once per request."""
    return parse_rate(text)


def _token_key(request: HttpRequest) -> str | None:
    """Who is calling, without a database look-up: the bearer token as sent
    (hashed; a wrong token is still counted against itself and its address),
    else the signed-in user of a browser session."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, credential = header.partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        digest = hashlib.sha256(credential.strip().encode()).hexdigest()[:32]
        return f"token:{digest}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def throttled_response(retry: int) -> HttpResponse:
    response = JsonResponse(
        {"code": "throttled", "message": _("请求过于频繁，请稍后再试"), "errors": []},
        status=429,
        json_dumps_params={"ensure_ascii": False},
    )
    response["Retry-After"] = str(retry)
    response["Cache-Control"] = "no-store"
    return response


def check(request: HttpRequest) -> Decision:
    """Both limits for this request (one statement for both with the database
    counters); the longer wait when both refuse."""
    checks = []
    token_rate = _configured("CHANRONG_API_RATE_PER_TOKEN")
    address_rate = _configured("CHANRONG_API_RATE_PER_ADDRESS")
    if token_rate and (who := _token_key(request)):
        checks.append((who, token_rate))
    if address_rate and (ip := client_ip(request)):
        checks.append((f"ip:{ip}", address_rate))
    if not checks:
        return Decision(True)
    decisions: list[Decision] = []

    def count() -> None:
        decisions.extend(hit_all(checks))

    if _uses_database():
        counters.guarded(count, what="API rate counter")
    else:
        count()
    refused = [d for d in decisions if not d.allowed]
    if refused:
        return Decision(False, max(d.retry_after for d in refused))
    return Decision(True)


def _uses_database() -> bool:
    """Redis (or the local-memory cache) has an atomic INCR of its own; with
    the database cache the counters are core.counters' table instead."""
    backend = settings.CACHES.get(CACHE_ALIAS, {}).get("BACKEND", "")
    return backend.endswith("DatabaseCache")


class ApiRateLimitMiddleware:
    """429 + Retry-After for /api/ callers over their rate (after
    AuthenticationMiddleware: a session caller is counted as its user)."""

    def __init__(self, get_response):
        self.get_response = get_response
        # Fail at start-up on a malformed setting.
        _configured("CHANRONG_API_RATE_PER_TOKEN")
        _configured("CHANRONG_API_RATE_PER_ADDRESS")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            decision = check(request)
            if not decision.allowed:
                return throttled_response(decision.retry_after)
        return self.get_response(request)
