#!/usr/bin/env python
"""Every page a demo role's menu leads to, and the detail pages one click below: p50/p95 per page.

Issue 20's first measure: a person clicking through the platform, not a
saturated load. The bench builds (once) a demo at --scale on the database
given, then for each demo role logs in, reads the side menu from the rendered
home page, and opens every menu page --repeats times, plus the first
--details detail links found in each menu page's main content (a link one
path segment deeper ending in a number, e.g. /demands/123/). It prints, per
page: status, size, SQL statements, the first (cold) request, p50, p95 and
max of the rest, flagged against the issue's targets (p95 <= 300 ms, none
above 1 s), beside the trivial endpoint /api/v1/health measured in the same
process as the baseline.

In-process through Django's test client, so the figures are the server's
time (middleware, views, templates, SQL) without the network or gunicorn;
bench/demands_load.py measures the served stack.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_pages \\
        .venv/bin/python bench/pages.py --scale 10 --repeats 5
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_pages_s100 \\
        .venv/bin/python bench/pages.py --scale 100 \\
        --paths /enterprises/,/lists/,/insights/,/risk/,/demands/supervision/

Prints figures; asserts nothing about time. The database is created if
missing; the demo is built only when absent (`chanrong demo --if-missing`).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._machine import machine_info  # noqa: E402

ROLES = (
    "admin",
    "gov_national",
    "gov_zhejiang",
    "gov_jiashan",
    "bank_manager",
    "bank_staff",
    "bank2_staff",
    "ent_user",
    "ent2_user",
)
TARGET_P95_MS = 300.0
TARGET_MAX_MS = 1000.0
#: More table rows than this on one page: a panel that does not paginate (issue 20:
#: "no page renders unbounded rows"); a paginated page shows 50 (core.paging).
MAX_TABLE_ROWS = 250
DETAIL = re.compile(r"^/[^?#]*/\d+/$")


class Links(HTMLParser):
    """Collects the side menu's links and the links inside <main>."""

    def __init__(self) -> None:
        super().__init__()
        self.nav: list[tuple[str, str]] = []
        self.main: list[str] = []
        self._in_main = 0
        self._nav_href: str | None = None
        self._nav_text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self._in_main += 1
        if tag == "a" and attrs.get("href"):
            if "data-nav" in attrs:
                self._nav_href, self._nav_text = attrs["href"], ""
            elif self._in_main:
                self.main.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "main" and self._in_main:
            self._in_main -= 1
        if tag == "a" and self._nav_href is not None:
            self.nav.append((self._nav_href, " ".join(self._nav_text.split())))
            self._nav_href = None

    def handle_data(self, data):
        if self._nav_href is not None:
            self._nav_text += data


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_pages"),
    )
    parser.add_argument("--scale", default="10", help="demo scale (10 = 30,000 enterprises)")
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed requests per page after the cold one"
    )
    parser.add_argument(
        "--cold-process",
        action="store_true",
        help="measure in a process that was not warmed and frozen as gunicorn's master does "
        "before forking a worker (chanrong.ops.warmup)",
    )
    parser.add_argument(
        "--details", type=int, default=2, help="detail links followed per menu page"
    )
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument(
        "--paths",
        default="",
        help="only menu pages whose path starts with one of these comma-separated prefixes, and "
        "their detail pages, beside the home dashboard (e.g. "
        "/enterprises/,/lists/,/insights/,/risk/,/demands/supervision/ for the issue's scale-100 run of the "
        "registry and dashboards); default every page",
    )
    return parser.parse_args()


def prepare(url: str, scale: str) -> None:
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = url.rsplit("/", 1)[1].split("?")[0]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url}
    # `python -m chanrong` from ROOT: this checkout's code even when the
    # interpreter is another checkout's (a git worktree beside the main one).
    chanrong = [sys.executable, "-m", "chanrong"]
    for cmd in (
        [*chanrong, "migrate", "-v0"],
        [*chanrong, "demo", "--if-missing", "--scale", scale],
    ):
        started = time.perf_counter()
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        print(f"{' '.join(cmd[3:])}: {time.perf_counter() - started:.0f} s")


def timed(client, path: str, repeats: int):
    """The cold request, then `repeats` timed ones; the SQL count of the last."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    response = client.get(path)
    cold = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return response, cold, times, len(queries)


def verify_second_factor(client, user) -> None:
    """Mark the session verified with the user's confirmed TOTP device, as
    the sign-in form does after a correct code. The demo enrols one for the
    roles that must use a second factor (admin, government admins, the bank
    manager); without it every page answers with the redirect to the code
    form, and the bench would time that redirect instead of the page."""
    import django_otp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[django_otp.DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


def table_rows(response) -> int:
    """How many table rows (`<tr`) the page renders: a page whose lists are
    all paginated stays under MAX_TABLE_ROWS whatever the scale; one above it
    at scale 10 is a panel that renders every row it finds."""
    return response.content.count(b"<tr") if response.status_code == 200 else 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    args = parse_args()
    prepare(args.database_url, args.scale)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()
    if not args.cold_process:
        # As a served worker starts (gunicorn.conf.py): warmed and frozen in
        # the master before the fork.
        from chanrong.ops.warmup import freeze_for_fork, warm

        warm()
        freeze_for_fork()
    import logging

    # Logging in writes audit entries, and their anchors log at INFO; the
    # pages' own errors still show (django.request logs at ERROR).
    logging.getLogger("chanrong.core.audit").setLevel(logging.WARNING)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    print("\n".join(machine_info(connection if connection.vendor == "postgresql" else None)))
    print(f"demo scale {args.scale}; {args.repeats} timed requests per page after a cold one\n")

    anonymous = Client(raise_request_exception=False)
    _, cold, times, _ = timed(anonymous, "/api/v1/health", max(args.repeats, 20))
    health = statistics.median(times)
    print(f"baseline /api/v1/health: p50 {health:.1f} ms, p95 {percentile(times, 0.95):.1f} ms\n")

    rows = []
    users = get_user_model().objects
    for role in args.roles.split(","):
        user = users.filter(username=role).first()
        if user is None:
            print(f"{role}: not in this demo, skipped")
            continue
        client = Client(raise_request_exception=False)
        client.force_login(user)
        verify_second_factor(client, user)
        home = client.get("/")
        links = Links()
        links.feed(home.content.decode("utf-8", "replace"))
        pages = [("/", "首页")] + [(h, t) for h, t in links.nav if h.startswith("/") and h != "/"]
        if prefixes := tuple(p for p in args.paths.split(",") if p):
            pages = [(h, t) for h, t in pages if h == "/" or h.startswith(prefixes)]
        seen: set[str] = set()
        for path, label in pages:
            if path in seen:
                continue
            seen.add(path)
            response, cold, times, queries = timed(client, path, args.repeats)
            rows.append(
                (
                    role,
                    label,
                    path,
                    response.status_code,
                    len(response.content),
                    queries,
                    cold,
                    times,
                    table_rows(response),
                )
            )
            if response.status_code != 200:
                continue
            below = Links()
            below.feed(response.content.decode("utf-8", "replace"))
            followed = 0
            for href in below.main:
                if followed >= args.details or not DETAIL.match(href) or href in seen:
                    continue
                seen.add(href)
                followed += 1
                response, cold, times, queries = timed(client, href, args.repeats)
                rows.append(
                    (
                        role,
                        f"  └ {label} 详情",
                        href,
                        response.status_code,
                        len(response.content),
                        queries,
                        cold,
                        times,
                        table_rows(response),
                    )
                )

    header = f"{'role':<13} {'page':<26} {'status':>6} {'KB':>6} {'SQL':>5} {'rows':>5} {'cold':>8} {'p50':>8} {'p95':>8} {'max':>8}  flag  path"
    print(header)
    print("-" * len(header))
    over_p95 = over_max = over_rows = 0
    for role, label, path, status, size, queries, cold, times, trs in rows:
        p50, p95, worst = statistics.median(times), percentile(times, 0.95), max(times)
        flag = ""
        if p95 > TARGET_P95_MS:
            flag, over_p95 = "p95", over_p95 + 1
        if worst > TARGET_MAX_MS:
            flag, over_max = "1s", over_max + 1
        if trs > MAX_TABLE_ROWS:
            flag, over_rows = flag + "rows", over_rows + 1
        print(
            f"{role:<13} {label[:26]:<26} {status:>6} {size / 1024:>6.0f} {queries:>5} {trs:>5} "
            f"{cold:>7.0f}  {p50:>7.1f} {p95:>8.1f} {worst:>8.1f}  {flag:<4}  {path}"
        )
    all_times = [t for row in rows for t in row[7]]
    print(
        f"\n{len(rows)} pages; over p95 {TARGET_P95_MS:.0f} ms: {over_p95}; a request over "
        f"{TARGET_MAX_MS:.0f} ms: {over_max}; over {MAX_TABLE_ROWS} table rows: {over_rows}; "
        f"median of all pages' requests "
        f"{statistics.median(all_times):.1f} ms = {statistics.median(all_times) / health:.0f}× health"
    )


if __name__ == "__main__":
    main()
