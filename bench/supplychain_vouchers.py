#!/usr/bin/env python
"""A digital payables voucher tree of 10,000 splits created concurrently,
then its sum verified (the voucher tree invariant: docs/supplychain.md).

A core enterprise on a 应收账款核心企业名单 issues one voucher (face --face
元) to its supplier; C threads — each its own database connection — then
split it down the chain through `supplychain.services.transfer_voucher` (the
whole service: the node's row lock, two children, the transition through the
VOUCHER table, the audit entry, the notification) until exactly --splits
splits have succeeded. Each thread picks a random held leaf from a shared
pool of known leaves, without taking it out, so two threads sometimes pick
the same node: one splits it, the other is refused with 409 and picks again.
Each split transfers a random 10–90 % to another of --holders enterprises and
leaves the remainder with the holder.

Baseline in the same run: --baseline splits of a second tree by one thread
(no contention, no waiting).

Then it verifies the tree twice: `services.check_tree` (leaves sum to the
face, every split node's children sum to it) and one plain SQL sum of the
leaves, and prints both with their times. Asserts nothing about time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_supplychain \\
        .venv/bin/python bench/supplychain_vouchers.py --threads 16 --splits 10000

The database (its name must start with "bench") is dropped and created.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.supplychain_financing import (  # noqa: E402
    DEFAULT_URL,
    JIASHAN,
    SPARE_CONNECTIONS,
    enterprise,
    free_connections,
    percentile,
    setup,
)

CENT = Decimal("0.01")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--threads", type=int, default=16, help="concurrent connections")
    p.add_argument("--splits", type=int, default=10_000, help="successful concurrent splits")
    p.add_argument("--baseline", type=int, default=1_000, help="splits by one thread")
    p.add_argument("--holders", type=int, default=20, help="enterprises down the chain")
    p.add_argument("--face", default="100000000.00", help="face amount of each voucher (元)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    return p.parse_args()


def world(holders: int):
    """(core user, {enterprise id: user}, [enterprise ids]): the core enterprise
    on a core-enterprise list in force, and the holders down its chain."""
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency, Role, User
    from chanrong.registry.models import (
        EnterpriseList,
        EntryChange,
        ListEntry,
        ListType,
        ListVersion,
        VersionStatus,
    )

    password = make_password(None)
    core = enterprise("嘉善新能源汽车股份有限公司", 2)
    core_user = User.objects.create(
        username="core", role=Role.ENTERPRISE_USER, enterprise=core, password=password
    )
    agency = GovernmentAgency.objects.create(
        name="嘉善县经济和信息化局",
        level=AgencyLevel.COUNTY,
        function=AgencyFunction.INDUSTRY,
        region_id=JIASHAN,
    )
    lst = EnterpriseList.objects.create(
        list_type=ListType.RECEIVABLES_CORE, name="应收账款核心企业名单", agency=agency,
        region_id=JIASHAN,
    )  # fmt: skip
    version = ListVersion.objects.create(list=lst, number=1)
    ListEntry.objects.create(version=version, enterprise=core, change=EntryChange.ADDED)
    ListVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.PUBLISHED,
        effective_from=timezone.localdate() - timedelta(days=30),
        published_at=timezone.now(),
    )
    users = {}
    for i in range(holders):
        e = enterprise(f"嘉善配套企业{i:02d}有限公司", 100 + i, "C34")
        users[e.pk] = User.objects.create(
            username=f"holder{i:02d}", role=Role.ENTERPRISE_USER, enterprise=e, password=password
        )
    for user in users.values():
        user.enterprise  # noqa: B018 - loaded once, read by every thread
    return core_user, users, list(users)


def issue(core_user, supplier_user, face: Decimal, serial: int):
    from datetime import timedelta

    from django.utils import timezone

    from chanrong.supplychain import services

    today = timezone.localdate()
    receivable = services.register_receivable(
        supplier_user,
        {
            "debtor_uscc": core_user.enterprise.uscc,
            "contract_no": f"HT-{serial:06d}",
            "amount": str(face),
            "issued_on": today - timedelta(days=10),
            "due_on": today + timedelta(days=180),
            "invoices": [f"2633{serial:016d}"],
        },
    )
    services.confirm(core_user, receivable)
    return services.issue_voucher(core_user, receivable, {})


class Pool:
    """Leaves known to be held: threads pick at random without taking them out."""

    def __init__(self, first: int, target: int) -> None:
        self.ids = [first]
        self.index = {first: 0}
        self.lock = threading.Lock()
        self.reserved = 0
        self.target = target

    def reserve(self) -> bool:
        with self.lock:
            if self.reserved >= self.target:
                return False
            self.reserved += 1
            return True

    def unreserve(self) -> None:
        with self.lock:
            self.reserved -= 1

    def pick(self, rng: random.Random) -> int | None:
        """A random known leaf; None for the moment between a node leaving
        the pool (split) and its children joining it."""
        with self.lock:
            return self.ids[rng.randrange(len(self.ids))] if self.ids else None

    def replace(self, parent: int, children: list[int]) -> None:
        with self.lock:
            self._drop(parent)
            for child in children:
                self.index[child] = len(self.ids)
                self.ids.append(child)

    def drop(self, pk: int) -> None:
        with self.lock:
            self._drop(pk)

    def _drop(self, pk: int) -> None:
        at = self.index.pop(pk, None)
        if at is None:
            return
        last = self.ids.pop()
        if last != pk:
            self.ids[at] = last
            self.index[last] = at


def split_once(pool: Pool, rng: random.Random, users: dict, holders: list[int]):
    """One attempt: ('split', latency of the service call), ('409', …), or
    ('wait', 0) when no leaf is known at this instant."""
    from chanrong.core.errors import Conflict
    from chanrong.supplychain import services
    from chanrong.supplychain.models import Voucher

    pk = pool.pick(rng)
    if pk is None:
        time.sleep(0.005)
        return "wait", 0.0
    node = Voucher.objects.get(pk=pk)
    share = Decimal(rng.uniform(0.1, 0.9))
    part = min(max((node.amount * share).quantize(CENT), CENT), node.amount - CENT)
    to = rng.choice([h for h in holders if h != node.holder_id])
    started = time.perf_counter()
    try:
        child = services.transfer_voucher(users[node.holder_id], node, to, str(part))
    except Conflict:
        pool.drop(pk)  # split by someone else a moment ago
        return "409", time.perf_counter() - started
    elapsed = time.perf_counter() - started
    children = list(
        Voucher.objects.filter(parent_id=pk, amount__gte=2 * CENT).values_list("pk", flat=True)
    )
    assert child.parent_id == pk
    pool.replace(pk, children)
    return "split", elapsed


def grow(root_id: int, splits: int, threads: int, users, holders, seed: int):
    """Split the tree from `threads` threads until `splits` splits succeeded."""
    from django.db import connection

    pool = Pool(root_id, splits)
    barrier = threading.Barrier(threads + 1)
    latencies: list[float] = []
    refused = 0
    errors: list[str] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        nonlocal refused
        rng = random.Random(seed * 1000 + n)
        mine, conflicts = [], 0
        try:
            barrier.wait(timeout=120)
            while pool.reserve():
                try:
                    outcome, elapsed = split_once(pool, rng, users, holders)
                except Exception as exc:  # noqa: BLE001 - reported, not hidden
                    pool.unreserve()
                    with lock:
                        errors.append(f"{type(exc).__name__}: {str(exc)[:80]}")
                    if len(errors) > 20:
                        return
                    continue
                if outcome == "wait":
                    pool.unreserve()
                elif outcome == "409":
                    pool.unreserve()
                    conflicts += 1
                else:
                    mine.append(elapsed)
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)
                refused += conflicts

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=120)
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started, latencies, refused, errors


def verify(root_id: int, face: Decimal) -> None:
    from django.db import connection

    from chanrong.supplychain import services

    started = time.perf_counter()
    check = services.check_tree(root_id)
    took = time.perf_counter() - started
    print(
        f"  check_tree: {check.nodes:,} nodes, {check.leaf_count:,} leaves summing to "
        f"{check.leaves:,.2f} 元 of face {check.face:,.2f} 元; unbalanced split nodes: "
        f"{len(check.unbalanced)} -> {'HOLDS' if check.holds else 'BROKEN'} ({took * 1000:.0f} ms)"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(amount) FROM supplychain_voucher"
            " WHERE (id = %s OR root_id = %s) AND state <> 'transferred'",
            [root_id, root_id],
        )
        leaves, total = cursor.fetchone()
        cursor.execute("SELECT max(depth) FROM supplychain_voucher WHERE root_id = %s", [root_id])
        depth = cursor.fetchone()[0]
    took = time.perf_counter() - started
    print(
        f"  plain SQL: {leaves:,} leaves sum to {total:,.2f} 元 "
        f"({'equal to' if total == face else 'DIFFERENT FROM'} the face; {took * 1000:.0f} ms);"
        f" deepest node at level {depth}"
    )


def report(name: str, wall: float, latencies: list[float], refused: int, errors: list[str]) -> None:
    n = len(latencies)
    print(
        f"{name:11} {n:7,} {n / wall:9.1f} {statistics.median(latencies) * 1000:9.1f}"
        f" {percentile(latencies, 99) * 1000:9.1f} {refused:7,} {wall:8.1f}",
        flush=True,
    )
    for line in errors[:5]:
        print(f"  error: {line}")


def main() -> None:
    args = parse_args()
    setup(args.database_url)
    from django.db import connection

    from bench._machine import machine_info

    threads = min(args.threads, free_connections() - SPARE_CONNECTIONS)
    if threads < 2:
        sys.exit("not enough free PostgreSQL connections")
    core_user, users, holders = world(args.holders)
    face = Decimal(args.face)
    supplier = users[holders[0]]
    concurrent_root = issue(core_user, supplier, face, 1)
    baseline_root = issue(core_user, supplier, face, 2)
    warm_root = issue(core_user, supplier, face, 3)
    connection.close()

    print()
    for line in machine_info(connection):
        print(line)
    print(f"face {face:,.2f} 元; holders {args.holders}; concurrent threads {threads}")
    print()
    grow(warm_root.pk, 20, 1, users, holders, args.seed)  # warm-up, not reported
    print(
        f"{'run':11} {'splits':>7} {'per s':>9} {'p50 ms':>9} {'p99 ms':>9} {'409s':>7} {'wall s':>8}"
    )
    wall, lat, refused, errors = grow(baseline_root.pk, args.baseline, 1, users, holders, args.seed)
    report("1 thread", wall, lat, refused, errors)
    wall, lat, refused, errors = grow(
        concurrent_root.pk, args.splits, threads, users, holders, args.seed
    )
    report(f"{threads} threads", wall, lat, refused, errors)
    print()
    print(f"tree of {args.splits:,} concurrent splits:")
    verify(concurrent_root.pk, face)
    print(f"baseline tree of {args.baseline:,} splits:")
    verify(baseline_root.pk, face)
    connection.close()


if __name__ == "__main__":
    main()
