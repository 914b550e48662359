"""API rate limits: per token and per address, 429 + Retry-After, counted in
the database (core.counters, as in a default installation) or the cache's
atomic INCR (Redis)."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from django.test import Client

from chanrong.core import counters
from chanrong.core.ratelimit import Rate, hit, parse_rate, retry_after

pytestmark = pytest.mark.django_db

URL = "/api/v1/regions"


@pytest.mark.parametrize(
    ("text", "limit", "window"),
    [
        ("20/s burst 40", 40, 2.0),
        ("20/s", 20, 1.0),
        ("600/min", 600, 60.0),
        ("10/minute burst 30", 30, 180.0),
        ("5000/hour", 5000, 3600.0),
    ],
)
def test_rates_are_read_as_a_token_bucket_would_be(text, limit, window):
    rate = parse_rate(text)
    assert (rate.limit, rate.window) == (limit, window)


@pytest.mark.parametrize("text", ["", "off", None])
def test_a_limit_can_be_switched_off(text):
    assert parse_rate(text) is None


@pytest.mark.parametrize("text", ["20", "20/fortnight", "x/s", "20/s burst 10", "0/s"])
def test_a_malformed_rate_stops_start_up(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_over_its_rate_gets_429_with_retry_after(settings):
    settings.CHANRONG_API_RATE_PER_TOKEN = "3/min"
    client = Client()
    token = f"crt_{uuid.uuid4().hex}"
    statuses = [client.get(URL, headers=_bearer(token)).status_code for _ in range(3)]
    assert 429 not in statuses  # 401: the token is not real, but it is counted
    refused = client.get(URL, headers=_bearer(token))
    assert refused.status_code == 429
    assert refused.json() == {
        "code": "throttled",
        "message": refused.json()["message"],
        "errors": [],
    }
    # Sliding window: at most the rest of this window plus the time the
    # previous count needs to decay below the limit (60 + 60 × (1 − 2/3) = 80 s).
    assert 1 <= int(refused["Retry-After"]) <= 80
    # Another token from the same address is not affected.
    other = client.get(URL, headers=_bearer(f"crt_{uuid.uuid4().hex}"))
    assert other.status_code != 429


def test_an_address_over_its_rate_gets_429_whatever_token_it_sends(settings):
    settings.CHANRONG_API_RATE_PER_ADDRESS = "4/min"
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    client = Client(REMOTE_ADDR=address)
    for _ in range(4):
        token = f"crt_{uuid.uuid4().hex}"
        assert client.get(URL, headers=_bearer(token)).status_code != 429
    assert client.get(URL, headers=_bearer(f"crt_{uuid.uuid4().hex}")).status_code == 429
    assert Client(REMOTE_ADDR="10.255.0.1").get(URL).status_code != 429


def test_a_signed_in_browser_is_counted_as_its_user(settings, world):
    settings.CHANRONG_API_RATE_PER_TOKEN = "2/min"
    client = Client()
    client.force_login(world.user("gov_jiashan"))
    assert [client.get(URL).status_code for _ in range(2)] == [200, 200]
    assert client.get(URL).status_code == 429
    # Pages outside /api/ are not limited by the API's rate.
    assert client.get("/").status_code == 200


def test_refused_requests_are_not_counted():
    """A client a little over its rate still gets its rate, not nothing."""
    rate = Rate(limit=2, window=60.0, text="2/min")
    key = f"test:{uuid.uuid4().hex}"
    now = 60.0 * 1_000_000 + 1
    assert [hit(key, rate, now=now).allowed for _ in range(5)] == [True, True] + [False] * 3
    assert counters.get(f"rl:{key}:2:60.0:{1_000_000}", now=now) == 2


def test_the_atomic_counter_used_with_redis_gives_the_same_answers(settings):
    """Redis (here: the local-memory cache, which also increments in place)
    takes the incr / decr path instead of read-then-write."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "ratelimit-tests",
        }
    }
    rate = Rate(limit=2, window=60.0, text="2/min")
    key = f"test:{uuid.uuid4().hex}"
    now = 60.0 * 1_000_000 + 1
    decisions = [hit(key, rate, now=now) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, False, False]
    # The next window starts in 59 s; the 2 counted now still weigh 1 after 30 s more.
    assert decisions[-1].retry_after == 89
    assert cache.get(f"rl:{key}:2:60.0:{1_000_000}") == 2  # refusals taken back


def test_the_previous_window_still_weighs_on_the_sliding_window():
    rate = Rate(limit=10, window=10.0, text="1/s burst 10")
    key = f"test:{uuid.uuid4().hex}"
    start = 10.0 * 5_000_000
    assert all(hit(key, rate, now=start + 9).allowed for _ in range(10))
    # Early in the next window, 9/10 of the previous one still counts: 9 + 1 = 10.
    assert hit(key, rate, now=start + 11).allowed
    refused = hit(key, rate, now=start + 11)
    assert not refused.allowed and refused.retry_after >= 1


@pytest.mark.parametrize(
    ("previous", "current", "elapsed", "expected"),
    [(0, 10, 5.0, 6), (10, 0, 1.0, 1), (20, 5, 2.0, 6)],
)
def test_retry_after_is_the_wait_until_one_more_request_fits(previous, current, elapsed, expected):
    rate = Rate(limit=10, window=10.0, text="1/s burst 10")
    wait = retry_after(rate, previous, current, elapsed)
    assert wait == expected
    # ... and after that wait, one more would indeed fit.
    later = elapsed + wait
    if later < rate.window:
        assert previous * (1 - later / rate.window) + current + 1 <= rate.limit
    else:
        assert current * (1 - (later - rate.window) / rate.window) + 1 <= rate.limit
