#!/usr/bin/env python
"""The risk pages (群体统计与无贷户 /risk/groups/, 风险监测 /risk/) per demo role: p50/p95/max.

Issue 20 part 1, beside bench/pages.py (which opens every page of a role):
only the paths given, each opened once cold and then --repeats times, for
each role, in one process through Django's test client (server time only),
with the session OTP-verified as the sign-in form leaves it. Prints the SQL
statement count of the last request. --root runs another checkout's code (a
git worktree of an older commit) against the same database, so that before
and after can be measured alternately in the same minutes:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_pages_s10 \\
        .venv/bin/python bench/risk_pages.py --repeats 10 [--root /tmp/wt_old]

The database must hold a demo already (bench/pages.py builds one). Prints
figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROLES = (
    "admin",
    "gov_national",
    "gov_zhejiang",
    "gov_jiashan",
    "bank_manager",
    "bank_staff",
    "bank2_staff",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose code runs")
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--paths", default="/risk/groups/,/risk/")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, args.root)
    sys.path.insert(1, str(ROOT))
    os.chdir(args.root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("chanrong.core.audit").setLevel(logging.WARNING)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.pages import percentile, verify_second_factor

    print(f"code: {args.root}; load average {os.getloadavg()[0]:.1f}")
    for role in args.roles.split(","):
        user = get_user_model().objects.get(username=role)
        client = Client()
        client.force_login(user)
        verify_second_factor(client, user)
        for path in args.paths.split(","):
            started = time.perf_counter()
            response = client.get(path)
            cold = (time.perf_counter() - started) * 1000
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as queries:
                client.get(path)
            print(
                f"{role:13s} {path:15s} {response.status_code} cold {cold:6.0f}  "
                f"p50 {statistics.median(times):6.0f}  p95 {percentile(times, 0.95):6.0f}  "
                f"max {max(times):6.0f} ms  ({len(queries)} SQL)",
                flush=True,
            )


if __name__ == "__main__":
    main()
