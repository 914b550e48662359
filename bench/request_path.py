#!/usr/bin/env python
"""CPU per request on the API's hot paths, in one process, beside the trivial endpoint.

Issue 20's second measure. A saturated closed loop (bench/demands_load.py)
makes latency pure queueing; what a request *costs* is the CPU the web
process spends on it. This bench drives Django's test client in one process
(no network, no gunicorn) and reads `time.process_time()` (this process's
CPU: Python, the driver, not the database server's) around N requests of:

  health    GET  /api/v1/health                      the baseline
  floor     GET  /api/v1/demands/2000000000          token check + one lookup, a 404
  list      GET  /api/v1/dispatches                  an institution's dispatch list
  publish   POST /api/v1/demands + …/publish         create and publish a demand

and prints milliseconds of CPU per request and the ratio to health, beside
the issue's targets (floor <= 2.5x, list <= 3.5x, publish <= 25x).
`--blocks N` takes each scenario's requests in N blocks, in turn with the
others', and reports the median of the blocks' ratios to health: on a
machine whose speed drifts over minutes that moves far less than a ratio of
figures measured minutes apart (`--rounds`).
`--profile NAME` prints the cProfile of that scenario's requests instead.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_path \\
        .venv/bin/python bench/request_path.py --requests 300

The database is created if missing; the demo (default scale 0.1) is built
only when absent. `--fresh` starts every run from the database as the first
`--fresh` run found it, so that runs of two checkouts compare the same data. Prints
figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._machine import machine_info  # noqa: E402
from bench.pages import prepare  # noqa: E402

TARGETS = {"floor": 2.5, "list": 3.5, "publish": 25.0}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_path"),
    )
    parser.add_argument("--scale", default="0.1")
    parser.add_argument("--requests", type=int, default=300, help="requests per scenario")
    parser.add_argument(
        "--only", default="health,floor,list,publish", help="scenarios to run (health always)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every scenario this many times, in turn, and keep each one's least "
        "CPU (on a shared machine the least is the one least disturbed by others)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="PostgreSQL: start from the database as the first --fresh run found it (kept as "
        "<name>_clean), not as earlier runs left it: every publish run adds demands dispatched "
        "to the listing bank, so without it a later run's list reads more rows than an earlier "
        "one's",
    )
    parser.add_argument(
        "--blocks",
        type=int,
        default=0,
        help="split each scenario's requests into this many blocks taken in turn with the "
        "other scenarios' and report the median of each block's ratio to the health block "
        "before it (steadier than --rounds on a machine whose speed drifts)",
    )
    parser.add_argument("--profile", choices=["health", "floor", "list", "publish"])
    parser.add_argument("--sort", default="cumulative", help="pstats order for --profile")
    parser.add_argument(
        "--profile-out", help="with --profile: also dump the raw stats to this file"
    )
    return parser.parse_args()


def demand_body(i: int) -> dict:
    return {
        "kind": "debt",
        "amount_wan": 50 + (i * 37) % 900,
        "term_months": 12,
        "purpose": f"压测：购置设备 {i}",
        "rate_max": "6",
        "collateral_offered": [],
        "urgency": "normal",
    }


def scenarios(tokens: dict[str, str]):
    from django.test import Client

    def client(username: str | None) -> Client:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {tokens[username]}"} if username else {}
        return Client(raise_request_exception=False, **headers)

    anonymous, bank, enterprise = client(None), client("bank_staff"), client("ent_user")

    def health(i: int) -> int:
        return anonymous.get("/api/v1/health").status_code

    def floor(i: int) -> int:
        return bank.get("/api/v1/demands/2000000000").status_code

    def listing(i: int) -> int:
        return bank.get("/api/v1/dispatches").status_code

    def publish(i: int) -> int:
        created = enterprise.post(
            "/api/v1/demands", json.dumps(demand_body(i)), content_type="application/json"
        )
        if created.status_code != 201:
            return created.status_code
        pk = created.json()["id"]
        return enterprise.post(f"/api/v1/demands/{pk}/publish").status_code

    return {
        "health": (health, 200),
        "floor": (floor, 404),
        "list": (listing, 200),
        "publish": (publish, 200),
    }


def measure(step, expected: int, n: int, warm: int = 20) -> tuple[float, float, Counter[int]]:
    """CPU and wall milliseconds per request after a warm-up of `warm`; the count of unexpected answers."""
    for i in range(warm):
        step(-1 - i)
    wrong: Counter[int] = Counter()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(n):
        status = step(i)
        if status != expected:
            wrong[status] += 1
    return (
        (time.process_time() - cpu0) * 1000 / n,
        (time.perf_counter() - wall0) * 1000 / n,
        wrong,
    )


def start_fresh(url: str) -> None:
    """Recreate the database from its `_clean` copy, made the first time."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    clean = f"{name}_clean"
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [clean]).fetchone():
            conn.execute(f'CREATE DATABASE "{clean}" TEMPLATE "{name}"')
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{clean}"')
    # The audit anchors of the dropped copy's chain would not match the new one's.
    for anchors in (ROOT / "var").glob(f"audit-anchors.postgresql-{name}.jsonl"):
        anchors.unlink()


def main() -> None:
    args = parse_args()
    prepare(args.database_url, args.scale)
    if args.fresh and args.database_url.startswith(("postgres://", "postgresql://")):
        start_fresh(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    # One client sends every request: the limiter still runs (its cost is part
    # of the path) but must not answer 429.
    os.environ["CHANRONG_API_RATE_PER_TOKEN"] = "1000000/s burst 1000000"
    os.environ["CHANRONG_API_RATE_PER_ADDRESS"] = "1000000/s burst 1000000"
    import django

    django.setup()
    import logging

    logging.getLogger("chanrong.core.audit").setLevel(logging.WARNING)
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    from django.contrib.auth import get_user_model
    from django.db import connection

    from chanrong.accounts.services.tokens import create_token

    users = get_user_model().objects
    tokens = {
        name: create_token(None, users.get(username=name), "bench request path").raw
        for name in ("bank_staff", "ent_user")
    }
    print("\n".join(machine_info(connection if connection.vendor == "postgresql" else None)))
    print(f"{connection.vendor}; demo scale {args.scale}; {args.requests} requests per scenario\n")
    table = scenarios(tokens)
    if args.profile:
        step, expected = table[args.profile]
        measure(step, expected, 20)  # imports and first compilations, not profiled
        profiler = cProfile.Profile(time.process_time)  # CPU, not waits on the database
        profiler.enable()
        measure(step, expected, args.requests)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(45)
        if args.profile_out:
            profiler.dump_stats(args.profile_out)
        return
    wanted = {"health", *args.only.split(",")}
    if args.blocks:
        interleaved({name: table[name] for name in table if name in wanted}, args)
        return
    results: dict[str, tuple[float, float, Counter[int]]] = {}
    for _round in range(max(1, args.rounds)):
        for name, (step, expected) in table.items():
            if name not in wanted:
                continue
            cpu, wall, wrong = measure(step, expected, args.requests)
            if name not in results or cpu < results[name][0]:
                results[name] = (cpu, wall, wrong + results.get(name, (0, 0, Counter()))[2])
            else:
                results[name][2].update(wrong)
    if args.rounds > 1:
        print(f"least CPU of {args.rounds} rounds per scenario")
    base = results["health"][0]
    print(
        f"{'scenario':<10}{'CPU ms/req':>12}{'wall ms/req':>13}{'× health':>10}{'target':>9}  unexpected"
    )
    for name, (cpu, wall, wrong) in results.items():
        target = f"≤ {TARGETS[name]:g}×" if name in TARGETS else ""
        print(
            f"{name:<10}{cpu:>12.2f}{wall:>13.2f}{cpu / base:>10.1f}{target:>9}  {dict(wrong) or ''}"
        )


def interleaved(table: dict, args: argparse.Namespace) -> None:
    """`--blocks N`: every scenario's requests in N blocks, the scenarios'
    blocks taken in turn, so that each block of a scenario runs beside a
    block of health measured a moment before. On a shared machine whose
    speed drifts over minutes, a ratio of two figures measured minutes apart
    moves with the drift; the median of the blocks' ratios does not."""
    per_block = max(1, args.requests // args.blocks)
    for i in range(20):  # imports and first compilations, not measured
        for step, _expected in table.values():
            step(-1 - i)
    cpu: dict[str, list[float]] = {name: [] for name in table}
    wall: dict[str, list[float]] = {name: [] for name in table}
    wrong: dict[str, Counter[int]] = {name: Counter() for name in table}
    for _block in range(args.blocks):
        for name, (step, expected) in table.items():
            block_cpu, block_wall, block_wrong = measure(step, expected, per_block, warm=0)
            cpu[name].append(block_cpu)
            wall[name].append(block_wall)
            wrong[name].update(block_wrong)
    print(f"{args.blocks} blocks of {per_block} requests per scenario, taken in turn")
    print(
        f"{'scenario':<10}{'CPU ms/req':>12}{'wall ms/req':>13}{'× health':>10}"
        f"{'blocks p25–p75':>17}{'target':>9}  unexpected"
    )
    health = cpu["health"]
    for name in table:
        ratios = sorted(mine / base for mine, base in zip(cpu[name], health, strict=True))
        quarter = len(ratios) // 4
        spread = f"{ratios[quarter]:.1f}–{ratios[-1 - quarter]:.1f}"
        target = f"≤ {TARGETS[name]:g}×" if name in TARGETS else ""
        print(
            f"{name:<10}{statistics.median(cpu[name]):>12.2f}"
            f"{statistics.median(wall[name]):>13.2f}{statistics.median(ratios):>10.1f}"
            f"{spread:>17}{target:>9}  {dict(wrong[name]) or ''}"
        )
    print("CPU and wall: the median block's; × health: the median of the blocks' ratios")


if __name__ == "__main__":
    main()
