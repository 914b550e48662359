#!/usr/bin/env python
"""Pushing a month's aggregates for N enterprises (issue 19: 30,000 ≤ 5 s),
beside a baseline measured in the same run.

Builds N enterprises over the counties of 嘉兴市 (bulk), each with a
financing demand published in the month (60 % of them granted) and, for 40 %,
a disbursed financing record; then times, for this deployment as 嘉兴市's
platform reporting to a parent:

  build      the month's financing_stats and indicator_actuals payloads
             (exchange.services.collect: GROUP BY queries, any N);
  sign       canonical JSON + Ed25519 signature + the outbound row
             (exchange.services.outbox.create_batch), both batches;
  receive    the parent's side of the push, in-process: parse, every check,
             verify, store the batch and its figures (exchange.services.inbox);
  push       build + sign + receive (what the target is about).

Baselines in the same run:
  naive      the financing figures built per row in Python (every demand and
             financing record fetched and summed one by one);
  unsigned   the same payloads serialised without canonical sorting or signing.

Loopback: the deployment is registered as its own parent and child (one
database holds one identity), so both ends run their real code; the HTTP
hop itself is measured by tests/exchange/test_two_servers.py, not here.
Asserts nothing about time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_exchange \\
        .venv/bin/python bench/exchange_push.py --enterprises 30000

The database (its name must start with "bench") is dropped, created, and
dropped again at the end unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_exchange"
JIAXING = "330400"
PERIOD = "2026-10"
SECTIONS = ["C", "C", "C", "F", "G", "I", "M", "E", "A", "L"]
DIVISIONS = {
    "C": "C39",
    "F": "F51",
    "G": "G54",
    "I": "I65",
    "M": "M73",
    "E": "E48",
    "A": "A01",
    "L": "L72",
}
SIZES = ["micro", "small", "small", "medium", "large"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--enterprises", type=int, default=30_000)
    p.add_argument(
        "--repeat", type=int, default=3, help="timed runs of each step (best and median)"
    )
    p.add_argument("--seed", type=int, default=19)
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    return p.parse_args()


def _admin_url(url: str) -> tuple[str, str]:
    name = url.rsplit("/", 1)[1].split("?")[0]
    if not name.startswith("bench"):
        sys.exit("refusing to recreate a database whose name does not start with 'bench'")
    return url.rsplit("/", 1)[0] + "/postgres", name


def recreate_database(url: str) -> None:
    import psycopg

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup(url: str) -> None:
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("exchange_push: needs PostgreSQL (set DATABASE_URL or --database-url)")
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    # The audit anchors of this throw-away database go to a temporary file,
    # not beside the checkout's own database.
    os.environ["CHANRONG_AUDIT_ANCHORS"] = os.path.join(tempfile.mkdtemp(), "anchors.jsonl")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from chanrong.core import refdata

    refdata.load_all()


def generate(n: int, seed: int) -> None:
    """N enterprises, N demands, 0.4 N financing records, in bulk."""
    from django.utils import timezone

    from chanrong.core.codes import make_uscc
    from chanrong.core.models import Region
    from chanrong.demands.models import Demand, DemandState
    from chanrong.finance.models import FinancialInstitution
    from chanrong.insights.models import FinancingRecord
    from chanrong.registry.models import Enterprise

    rng = random.Random(seed)
    counties = list(
        Region.objects.filter(code__startswith="3304", level="county").values_list(
            "code", flat=True
        )
    )
    bank = FinancialInstitution.objects.create(name="基准银行", kind="bank", region_id=JIAXING)
    enterprises = []
    for i in range(n):
        region = rng.choice(counties)
        section = rng.choice(SECTIONS)
        enterprises.append(
            Enterprise(
                uscc=make_uscc(f"91{region}{i:09d}"),
                name=f"基准企业{i:06d}",
                region_id=region,
                industry_id=DIVISIONS[section],
                size=rng.choice(SIZES),
            )
        )
    Enterprise.objects.bulk_create(enterprises, batch_size=2000)
    start = timezone.make_aware(datetime(2026, 10, 1, 9, 0))
    demands, records = [], []
    for e in enterprises:
        amount = Decimal(rng.randrange(50, 5000)) * 10_000
        granted = rng.random() < 0.6
        demands.append(
            Demand(
                enterprise=e,
                kind="debt",
                amount=amount,
                term_months=12,
                purpose="流动资金",
                state=DemandState.GRANTED if granted else DemandState.PUBLISHED,
                published_at=start + timedelta(hours=rng.randrange(0, 30 * 24)),
                granted_amount=amount * Decimal("0.8") if granted else None,
            )
        )
        if rng.random() < 0.4:
            records.append(
                FinancingRecord(
                    region_id=e.region_id,
                    section=e.industry_id[0],
                    institution=bank,
                    enterprise=e,
                    date=date(2026, 10, rng.randrange(1, 32)),
                    amount=amount * Decimal("0.7"),
                )
            )
    Demand.objects.bulk_create(demands, batch_size=2000)
    FinancingRecord.objects.bulk_create(records, batch_size=2000)


def loopback():
    from chanrong.exchange.models import Peer, PeerRole
    from chanrong.exchange.services import identity

    me = identity.ensure(name="嘉兴市产融合作平台", region_code=JIAXING)
    common = {
        "deployment_id": me.deployment_id,
        "name": me.name,
        "region_code": JIAXING,
        "public_key": me.public_key,
    }
    parent = Peer.objects.create(role=PeerRole.PARENT, base_url="http://127.0.0.1", **common)
    Peer.objects.create(role=PeerRole.CHILD, **common)
    return me, parent


def naive_financing(prefix: str, start: date, end: date) -> dict:
    """Baseline: every row fetched and summed in Python."""
    from chanrong.demands.models import Demand
    from chanrong.insights.models import FinancingRecord

    cells: dict = defaultdict(lambda: defaultdict(Decimal))
    for d in Demand.objects.filter(
        enterprise__region__code__startswith=prefix,
        published_at__date__gte=start,
        published_at__date__lte=end,
    ).select_related("enterprise"):
        cell = cells[(d.enterprise.region_id, d.enterprise.industry_id[0], d.enterprise.size)]
        cell["demands"] += 1
        cell["demand_amount"] += d.amount
        if d.granted_amount is not None:
            cell["granted"] += 1
            cell["granted_amount"] += d.granted_amount
    for r in FinancingRecord.objects.filter(
        region__code__startswith=prefix, date__gte=start, date__lte=end
    ).select_related("enterprise"):
        cell = cells[(r.region_id, r.section, r.enterprise.size if r.enterprise else "")]
        cell["financings"] += 1
        cell["financing_amount"] += r.amount
    return {key: dict(value) for key, value in cells.items()}


def timed(fn, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    times.sort()
    return times[0], times[len(times) // 2], result


def main() -> None:
    args = parse_args()
    setup(args.database_url)
    from django.db import connection, transaction

    from bench._machine import machine_info
    from chanrong.exchange.models import InboundBatch, OutboundBatch, Peer
    from chanrong.exchange.services import collect, envelope, inbox, outbox

    for line in machine_info(connection):
        print(line)
    began = time.perf_counter()
    generate(args.enterprises, args.seed)
    print(
        f"generated {args.enterprises:,} enterprises, demands and financing records in {time.perf_counter() - began:.1f} s"
    )
    _me, parent = loopback()
    start, end = collect.month_bounds(PERIOD)
    prefix = collect.prefix_of(JIAXING)

    def build():
        return collect.financing_stats(JIAXING, PERIOD), collect.indicator_actuals(JIAXING, PERIOD)

    counter = iter(range(1, 10_000))

    def sign(payloads):
        stats, actuals = payloads
        n = next(counter)
        return [
            outbox.create_batch(
                parent, kind="financing_stats", period=PERIOD, payload=stats, source_ref=f"s{n}"
            ),
            outbox.create_batch(
                parent, kind="indicator_actuals", period=PERIOD, payload=actuals, source_ref=f"a{n}"
            ),
        ]

    def receive(batches):
        return [inbox.receive(b.body.encode("utf-8")) for b in batches]

    def reset():
        with transaction.atomic():
            InboundBatch.objects.all().delete()
            OutboundBatch.objects.all().delete()
            Peer.objects.update(last_sequence=0)

    rows = {}
    results = {}
    for name in ("build", "sign", "receive", "push"):
        times = []
        for _ in range(args.repeat):
            reset()
            t0 = time.perf_counter()
            payloads = build()
            t1 = time.perf_counter()
            batches = sign(payloads)
            t2 = time.perf_counter()
            acks = receive(batches)
            t3 = time.perf_counter()
            times.append(
                {"build": t1 - t0, "sign": t2 - t1, "receive": t3 - t2, "push": t3 - t0}[name]
            )
            assert all(a["status"] == "accepted" for a in acks)
            rows["payload rows"] = len(payloads[0]["rows"])
            rows["bytes"] = sum(len(b.body.encode()) for b in batches)
        times.sort()
        results[name] = (times[0], times[len(times) // 2])
    naive_best, naive_median, naive = timed(
        lambda: naive_financing(prefix, start, end), args.repeat
    )
    payloads = build()
    unsigned_best, unsigned_median, _ = timed(
        lambda: [json.dumps(p, ensure_ascii=False).encode() for p in payloads], args.repeat
    )
    canonical_best, canonical_median, _ = timed(
        lambda: [envelope.canonical(p) for p in payloads], args.repeat
    )
    grouped = {
        (r["region"], r["section"], r["size"]): r["demands"]
        for r in payloads[0]["rows"]
        if r["demands"]
    }
    assert grouped == {k: int(v.get("demands", 0)) for k, v in naive.items() if v.get("demands")}, (
        "naive ≠ grouped"
    )

    print(
        f"\nmonth {PERIOD}, region {JIAXING} (嘉兴市), {args.enterprises:,} enterprises; best / median of {args.repeat}"
    )
    print(
        f"payload: {rows['payload rows']} financing rows (county × section × size), {rows['bytes']:,} bytes signed"
    )
    for name in ("build", "sign", "receive", "push"):
        best, median = results[name]
        print(f"  {name:<9} {best:7.3f} s  {median:7.3f} s")
    print("baselines:")
    print(f"  naive per-row build          {naive_best:7.3f} s  {naive_median:7.3f} s")
    print(f"  serialise without signing    {unsigned_best:7.4f} s  {unsigned_median:7.4f} s")
    print(f"  canonical encoding only      {canonical_best:7.4f} s  {canonical_median:7.4f} s")
    print(
        f"target: push ≤ 5 s at 30,000 enterprises -> {'met' if results['push'][1] <= 5 else 'NOT met'} (median)"
    )
    if not args.keep:
        drop_database(args.database_url)


if __name__ == "__main__":
    main()
