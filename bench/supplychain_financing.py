#!/usr/bin/env python
"""Financing attempts per second under contention on one receivable, beside
the same attempts on distinct receivables, on PostgreSQL with real
concurrent connections (the double-financing guard: docs/supplychain.md).

Builds a supplier, a core enterprise and C banks (each with one user,
authorised by the supplier), then runs C threads — each its own bank and
its own database connection, released together — through
`supplychain.services.finance` (the whole service: validation, the
receivable's row lock, the insert, the running total, the audit entry, the
notifications):

  contended  every thread finances slices (backing --slice 元) of ONE
             receivable whose confirmed amount covers all of them: every
             attempt succeeds, one at a time, serialised by the row lock;
  distinct   baseline: the same attempts, each thread on its own receivable
             (no two attempts wait for the same row);
  burst      --rounds rounds: all C banks ask for the full confirmed amount of
             a fresh receivable at the same moment: one succeeds, C−1 get 409.

Prints attempts per second, p50 / p99 per attempt, outcomes, and checks after
each scenario that the backings sum to each receivable's `financed` and
never exceed its confirmed amount. Asserts nothing about time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_supplychain \\
        .venv/bin/python bench/supplychain_financing.py --threads 32 --attempts 40

The database (its name must start with "bench") is dropped and created.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_supplychain"
#: Connections left for everyone else on a shared server.
SPARE_CONNECTIONS = 12
JIASHAN = "330421"

_numbers = itertools.count(1)
_numbers_lock = threading.Lock()


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--threads", type=int, default=32, help="concurrent banks / connections")
    p.add_argument("--attempts", type=int, default=40, help="attempts per thread per scenario")
    p.add_argument("--rounds", type=int, default=20, help="burst rounds")
    p.add_argument("--slice", default="100.00", help="backing per contended attempt (元)")
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    return p.parse_args()


def recreate_database(url: str) -> None:
    import psycopg

    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("supplychain_financing: needs PostgreSQL (set DATABASE_URL or --database-url)")
    name = url.rsplit("/", 1)[1].split("?")[0]
    if not name.startswith("bench"):
        sys.exit("refusing to recreate a database whose name does not start with 'bench'")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup(url: str) -> None:
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from chanrong.core import refdata

    refdata.load_all()


def free_connections() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
            " - (SELECT count(*) FROM pg_stat_activity)"
        )
        return int(cursor.fetchone()[0])


def enterprise(name: str, serial: int, industry: str = "C36"):
    from chanrong.core.codes import make_uscc
    from chanrong.registry.models import Enterprise

    return Enterprise.objects.create(
        uscc=make_uscc(f"91{JIASHAN}{serial:09d}"),
        name=name,
        region_id=JIASHAN,
        industry_id=industry,
        size="medium",
    )


def world(banks: int):
    """(supplier user, core user, [bank users]); every bank authorised by the supplier."""
    from django.contrib.auth.hashers import make_password

    from chanrong.accounts.models import Role, User
    from chanrong.finance.models import FinancialInstitution, InstitutionKind
    from chanrong.registry.models import DataAuthorisation

    supplier = enterprise("嘉善精工机械有限公司", 1, "C34")
    core = enterprise("嘉善新能源汽车股份有限公司", 2)
    password = make_password(None)
    supplier_user = User.objects.create(
        username="supplier", role=Role.ENTERPRISE_USER, enterprise=supplier, password=password
    )
    core_user = User.objects.create(
        username="core", role=Role.ENTERPRISE_USER, enterprise=core, password=password
    )
    institutions = FinancialInstitution.objects.bulk_create(
        FinancialInstitution(
            name=f"基准测试银行{i:03d}", kind=InstitutionKind.BANK, region_id=JIASHAN
        )
        for i in range(banks)
    )
    User.objects.bulk_create(
        User(username=f"bank{i:03d}", role=Role.INSTITUTION_STAFF, institution=b, password=password)
        for i, b in enumerate(institutions)
    )
    DataAuthorisation.objects.bulk_create(
        DataAuthorisation(enterprise=supplier, institution=b) for b in institutions
    )
    bank_users = list(
        User.objects.filter(username__startswith="bank")
        .select_related("institution")
        .order_by("pk")
    )
    return supplier_user, core_user, bank_users


def confirmed_receivable(supplier_user, core_user, amount: Decimal):
    from datetime import timedelta

    from django.utils import timezone

    from chanrong.supplychain import services

    today = timezone.localdate()
    n = next_number()
    receivable = services.register_receivable(
        supplier_user,
        {
            "debtor_uscc": core_user.enterprise.uscc,
            "contract_no": f"HT-{n:06d}",
            "amount": str(amount),
            "issued_on": today - timedelta(days=10),
            "due_on": today + timedelta(days=90),
            "invoices": [f"2633{n:016d}"],
        },
    )
    return services.confirm(core_user, receivable)


def next_number() -> int:
    with _numbers_lock:
        return next(_numbers)


def attempt(user, receivable, backing: Decimal):
    from chanrong.supplychain import services

    n = next_number()
    return services.finance(
        user,
        receivable,
        {
            "mode": "factoring_recourse",
            "advance_ratio": "80",
            "backing": str(backing),
            "amount": str((backing * Decimal("0.8")).quantize(Decimal("0.01"))),
            "registration_no": f"0693{n:016d}",
            "contract_no": f"BL-{n:06d}",
        },
    )


def run(plans: list[list[tuple]]) -> tuple[float, list[float], dict[str, int]]:
    """One thread per plan (a list of (user, receivable, backing)), released
    together; returns wall time, per-attempt latencies and outcome counts."""
    from django.db import connection

    from chanrong.core.errors import Conflict

    barrier = threading.Barrier(len(plans) + 1)
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def work(plan):
        mine, counts = [], {}
        try:
            barrier.wait(timeout=120)
            for user, receivable, backing in plan:
                started = time.perf_counter()
                try:
                    attempt(user, receivable, backing)
                    key = "financed"
                except Conflict as exc:
                    key = f"409 {exc.code}"
                except Exception as exc:  # noqa: BLE001 - reported, not hidden
                    key = f"error {type(exc).__name__}: {str(exc)[:60]}"
                mine.append(time.perf_counter() - started)
                counts[key] = counts.get(key, 0) + 1
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)
                for key, value in counts.items():
                    outcomes[key] = outcomes.get(key, 0) + value

    threads = [threading.Thread(target=work, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=120)
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, outcomes


def invariant(receivable_ids) -> str:
    """Backings sum to `financed`, which never exceeds the confirmed amount."""
    from django.db.models import Sum

    from chanrong.supplychain.models import Financing, Receivable

    bad = 0
    total = Decimal(0)
    for receivable in Receivable.objects.filter(pk__in=list(receivable_ids)):
        backed = Financing.objects.filter(receivable=receivable).aggregate(s=Sum("backing"))["s"]
        backed = backed or Decimal(0)
        total += backed
        if backed != receivable.financed or receivable.financed > receivable.confirmed_amount:
            bad += 1
    return f"{'holds' if not bad else f'BROKEN on {bad} receivables'} (financed {total:,.2f} 元)"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def report(name: str, wall: float, latencies: list[float], outcomes: dict, check: str) -> None:
    n = len(latencies)
    print(
        f"{name:10} {n:7,} {n / wall:10.1f} {statistics.median(latencies) * 1000:9.1f}"
        f" {percentile(latencies, 99) * 1000:9.1f}   {check}",
        flush=True,
    )
    for key, value in sorted(outcomes.items()):
        print(f"{'':10}   {value:7,} {key}")


def main() -> None:
    args = parse_args()
    setup(args.database_url)
    from django.db import connection

    from bench._machine import machine_info

    threads = min(args.threads, free_connections() - SPARE_CONNECTIONS)
    if threads < 2:
        sys.exit("not enough free PostgreSQL connections")
    supplier_user, core_user, banks = world(threads)
    per = args.attempts
    slice_ = Decimal(args.slice)

    print()
    for line in machine_info(connection):
        print(line)
    print(
        f"threads (banks, connections): {threads}; attempts per thread: {per}; "
        f"burst rounds: {args.rounds}"
    )
    print()

    # Warm up (imports, first queries) outside the figures.
    warm = confirmed_receivable(supplier_user, core_user, Decimal("1000"))
    attempt(banks[0], warm, Decimal("10"))

    contended = confirmed_receivable(supplier_user, core_user, slice_ * threads * per)
    distinct = [
        confirmed_receivable(supplier_user, core_user, slice_ * per) for _ in range(threads)
    ]
    bursts = [
        confirmed_receivable(supplier_user, core_user, Decimal("1000000"))
        for _ in range(args.rounds)
    ]
    connection.close()

    print(f"{'scenario':10} {'attempts':>7} {'per s':>10} {'p50 ms':>9} {'p99 ms':>9}   invariant")
    wall, lat, out = run([[(bank, contended, slice_)] * per for bank in banks])
    report("contended", wall, lat, out, invariant([contended.pk]))
    wall, lat, out = run(
        [
            [(bank, receivable, slice_)] * per
            for bank, receivable in zip(banks, distinct, strict=True)
        ]
    )
    report("distinct", wall, lat, out, invariant(r.pk for r in distinct))
    walls, lats, outs = 0.0, [], {}
    for receivable in bursts:
        wall, lat, out = run([[(bank, receivable, Decimal("1000000"))] for bank in banks])
        walls += wall
        lats += lat
        for key, value in out.items():
            outs[key] = outs.get(key, 0) + value
    report("burst", walls, lats, outs, invariant(r.pk for r in bursts))
    connection.close()


if __name__ == "__main__":
    main()
