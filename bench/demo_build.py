#!/usr/bin/env python
"""Where `chanrong demo` spends its time: wall and CPU seconds per builder step.

Runs chanrong.demo.services.build_demo (the code the command runs) with a
timer around each builder's build() (wall, this process's CPU, and the CPU
of the PostgreSQL server process serving it, read from /proc when the
server is on this machine), around the flush of the previous demo,
the invariant check, the digest and the closing ANALYZE, and prints one line
per step plus the total. Works on any checkout (it wraps the modules it
finds in chanrong.demo.builders.STEPS), so an older commit can be measured
with the same script:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/demo_hb_old \\
        .venv/bin/python bench/demo_build.py --scale 1 --today 2026-12-06 [--json out.json]

Rebuilds whatever demo the database holds (like `chanrong demo --reset`).
Uses the configured password hasher (one hash per build). Asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(os.environ.get("CHANRONG_ROOT", Path.cwd()))
sys.path.insert(0, str(ROOT))


BACKEND: list[int] = []  # the PostgreSQL server process of this connection, if local


def backend_cpu() -> float:
    """CPU seconds of the database server process serving the build (0 if unknown)."""
    if not BACKEND:
        return 0.0
    try:
        fields = Path(f"/proc/{BACKEND[0]}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(name: str, fn: Callable, times: dict[str, list[float]]) -> Callable:
    def wrapper(*args, **kwargs):
        wall, cpu, db = time.perf_counter(), time.process_time(), backend_cpu()
        try:
            return fn(*args, **kwargs)
        finally:
            entry = times.setdefault(name, [0.0, 0.0, 0.0])
            entry[0] += time.perf_counter() - wall
            entry[1] += time.process_time() - cpu
            entry[2] += backend_cpu() - db

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 12, 6))
    parser.add_argument("--json", help="write the figures to this file as well")
    parser.add_argument("--profile", help="write a cProfile of the build to this file")
    parser.add_argument(
        "--slow", type=float, default=0, help="list statements slower than this many ms"
    )
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()
    from chanrong.demo import services
    from chanrong.demo.builders import STEPS

    times: dict[str, list[float]] = {}
    current = ["-"]

    def step_timer(name: str, fn: Callable) -> Callable:
        inner = timed(name, fn, times)

        def run(*args, **kwargs):
            current[0] = name
            return inner(*args, **kwargs)

        return run

    for step in STEPS:
        step.build = step_timer(step.__name__.rsplit(".", 1)[-1], step.build)
    slow: list[tuple[float, str, str]] = []

    def watch(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - started) * 1000
            if ms >= args.slow:
                slow.append((ms, current[0], sql))

    for name in (
        "flush_business_data",
        "check_invariants",
        "compute_digest",
        "refresh_planner_statistics",
    ):
        setattr(services, name, timed(name, getattr(services, name), times))

    wall, cpu = time.perf_counter(), time.process_time()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            BACKEND.append(cursor.fetchone()[0])
    db_started = backend_cpu()
    if args.slow:
        with connection.execute_wrapper(watch):
            result = services.build_demo(
                seed=args.seed, scale=args.scale, today=args.today, reset=True
            )
    else:
        result = services.build_demo(seed=args.seed, scale=args.scale, today=args.today, reset=True)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    total = (time.perf_counter() - wall, time.process_time() - cpu, backend_cpu() - db_started)

    print(f"scale {args.scale:g}  seed {args.seed}  today {args.today}  digest {result.digest}")
    print(f"{'step':<28}{'wall s':>9}{'cpu s':>9}{'db cpu s':>10}")
    for name, (w, c, d) in sorted(times.items(), key=lambda kv: -kv[1][0]):
        print(f"{name:<28}{w:>9.2f}{c:>9.2f}{d:>10.2f}")
    print(f"{'TOTAL':<28}{total[0]:>9.2f}{total[1]:>9.2f}{total[2]:>10.2f}")
    if slow:
        print(
            f"statements over {args.slow:g} ms: {len(slow)}, {sum(s[0] for s in slow) / 1000:.1f} s"
        )
        for ms, step_name, sql in sorted(slow, reverse=True)[:40]:
            print(f"{ms:9.0f} ms  {step_name:<16} {' '.join(sql.split())[:300]}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "scale": args.scale,
                    "seed": args.seed,
                    "today": args.today.isoformat(),
                    "digest": result.digest,
                    "steps": times,
                    "total": total,
                    "load": os.getloadavg(),
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
