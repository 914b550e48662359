#!/usr/bin/env python
"""政策找人 for one programme over the demo: set-based vs one enterprise at a time.

On a PostgreSQL database holding `chanrong demo --scale S` (3,000 × S
enterprises, 1,200 × S demands; scale 100 is the issue's 300,000
enterprises), adds two 贴息 programmes of 嘉兴市 (the whole demo county and
city) and times, for each:

  set-based   policy.services.outreach.find: the programme's conditions as
              one query over policy loans and one over disbursed demands, then
              the exact loan checks on what they return (median of --repeat);
  estimate    outreach.estimate over everything found (the page's total);
  naive       outreach.find_one_by_one: for each enterprise of the region its
              loans, then services.evaluate(programme, enterprise, loan) —
              timed on a random sample of --sample enterprises and
              extrapolated to all of them (or over all with --naive-all);

and checks that both give the same answer on the sample. Prints figures;
asserts nothing about time (target: set-based ≤ 5 s at 300,000 enterprises).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_policy_s10 \\
        .venv/bin/python bench/policy_outreach.py --scale 10

The database is created, migrated and filled with the demo when it does not
hold the demo at that scale already (building scale 100 takes a long time;
an existing one is reused). The benchmark's programmes are replaced on each run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHANRONG = [str(ROOT / ".venv" / "bin" / "chanrong")]
PREFIX = "基准测试·"
CITY = "330400"  # 嘉兴市: every demo enterprise is registered in it

PROGRAMMES = {
    "broad": {
        "label": "无企业条件（仅地区、黑名单）",
        "eligibility": {"regions": [CITY]},
    },
    "typical": {
        "label": "中小微、纳税 B 级以上、债权、36 个月内、2025 年起放款",
        "eligibility": {
            "regions": [CITY],
            "sizes": ["medium", "small", "micro"],
            "min_tax_grade": "B",
            "loan_kinds": ["debt"],
            "term_max_months": 36,
            "loan_date_from": "2025-01-01",
        },
    },
}
PARAMS = {
    "method": "lpr_share",
    "lpr_tenor": "1y",
    "lpr_share": "50",
    "day_count": "act360",
    "cap_per_loan": "200000",
    "cap_per_enterprise_year": "500000",
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scale", type=float, default=10, help="demo scale (100 = 300,000 enterprises)")
    p.add_argument("--repeat", type=int, default=5, help="set-based runs per programme")
    p.add_argument(
        "--sample", type=int, default=2000, help="enterprises in the naive loop's sample"
    )
    p.add_argument("--naive-all", action="store_true", help="run the naive loop over everyone")
    p.add_argument("--database-url", default=None)
    return p.parse_args()


def database_url(args) -> str:
    url = args.database_url or os.environ.get("DATABASE_URL")
    if not url:
        url = f"postgres://postgres@127.0.0.1:5432/bench_policy_s{args.scale:g}"
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("policy_outreach: needs PostgreSQL (set DATABASE_URL or --database-url)")
    return url


def ensure_database(url: str) -> bool:
    """True when the database had to be created."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        if not name.startswith("bench"):
            sys.exit("refusing to create a database whose name does not start with 'bench'")
        conn.execute(f'CREATE DATABASE "{name}"')
    return True


def demo_enterprises(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        try:
            return conn.execute("SELECT count(*) FROM registry_enterprise").fetchone()[0]
        except psycopg.errors.UndefinedTable:
            return 0


def prepare(url: str, scale: float) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    ensure_database(url)
    subprocess.run([*CHANRONG, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    expected = round(3000 * scale)
    have = demo_enterprises(url)
    if have != expected:
        if have:
            sys.exit(
                f"the database holds {have:,} enterprises, not the {expected:,} of scale "
                f"{scale:g}: use another database (or drop this one)"
            )
        print(f"building the demo at scale {scale:g} (this takes a while) ...", flush=True)
        started = time.perf_counter()
        subprocess.run([*CHANRONG, "refdata", "load"], env=env, check=True)
        subprocess.run([*CHANRONG, "demo", "--scale", f"{scale:g}"], env=env, check=True)
        print(f"demo built in {time.perf_counter() - started:.0f} s", flush=True)
    # Planner statistics, as autovacuum keeps them on a database in service: a
    # freshly built demo has none, and without them PostgreSQL nests the
    # 黑名单 anti-join inside the loop over demands (15 s instead of 0.2 s at scale 10).
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()


def make_programmes(today: date) -> dict:
    """The benchmark's programmes, replaced on each run."""
    from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency
    from chanrong.policy import params
    from chanrong.policy.models import (
        Application,
        BudgetYear,
        Programme,
        ProgrammeKind,
        ProgrammeState,
    )

    old = Programme.objects.filter(name__startswith=PREFIX)
    Application.objects.filter(programme__in=old).delete()
    BudgetYear.objects.filter(programme__in=old).delete()
    old.delete()
    agency, _ = GovernmentAgency.objects.get_or_create(
        name="基准测试嘉兴市财政局",
        defaults={
            "level": AgencyLevel.MUNICIPAL,
            "function": AgencyFunction.FINANCE,
            "region_id": CITY,
        },
    )
    out = {}
    for key, spec in PROGRAMMES.items():
        programme = Programme.objects.create(
            agency=agency,
            region_id=CITY,
            kind=ProgrammeKind.INTEREST,
            name=f"{PREFIX}{spec['label']}",
            basis="基准测试",
            starts_on=date(2025, 1, 1),
            ends_on=date(2027, 12, 31),
            state=ProgrammeState.PUBLISHED,
            params=params.dump(params.parse(ProgrammeKind.INTEREST, PARAMS)),
            eligibility=spec["eligibility"],
        )
        BudgetYear.objects.create(programme=programme, year=today.year, appropriation=10**9)
        out[key] = programme
    return out


def timed(call):
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main() -> None:
    args = parse_args()
    url = database_url(args)
    prepare(url, args.scale)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench._machine import machine_info
    from chanrong.demands.models import Demand, DemandState
    from chanrong.policy.models import Loan
    from chanrong.policy.services import outreach
    from chanrong.registry.models import Enterprise

    today = timezone.localdate()
    for line in machine_info(connection):
        print(line)
    enterprises = Enterprise.objects.filter(region__code__startswith=CITY[:4]).count()
    disbursed = Demand.objects.filter(state=DemandState.DISBURSED).count()
    print(
        f"demo scale {args.scale:g}: {Enterprise.objects.count():,} enterprises "
        f"({enterprises:,} in 嘉兴市), {Demand.objects.count():,} demands, {disbursed:,} "
        f"disbursed, {Loan.objects.count():,} policy loans; day {today}"
    )
    programmes = make_programmes(today)
    rng = random.Random(2026)
    ids = list(
        Enterprise.objects.filter(region__code__startswith=CITY[:4]).values_list("pk", flat=True)
    )
    sample_ids = ids if args.naive_all else sorted(rng.sample(ids, min(args.sample, len(ids))))
    print()
    for programme in programmes.values():
        print(f"programme「{programme.name}」")
        runs, found = [], None
        for _ in range(args.repeat):
            seconds, found = timed(lambda p=programme: outreach.find(p, today=today))
            runs.append(seconds)
        with CaptureQueriesContext(connection) as queries:
            outreach.find(programme, today=today)
        estimate_s, _ = timed(lambda f=found: outreach.estimate(f))
        print(
            f"  set-based  find: median {statistics.median(runs):7.3f} s "
            f"(min {min(runs):.3f}, max {max(runs):.3f}, {args.repeat} runs, "
            f"{len(queries)} queries) -> {found.count:,} enterprises, {found.loan_count:,} loans"
        )
        print(
            f"             estimate over all found: {estimate_s:7.3f} s "
            f"(total {found.estimated_total:,.2f} 元)"
        )
        sample = (
            Enterprise.objects.filter(pk__in=sample_ids)
            .select_related("region", "industry")
            .order_by("pk")
        )
        naive_s, slow = timed(
            lambda p=programme, s=sample: outreach.find_one_by_one(
                p, today=today, enterprises=s.iterator(chunk_size=500)
            )
        )
        per = naive_s / len(sample_ids)
        wanted = set(sample_ids)
        fast_pairs = {pair for pair in found.pairs() if pair[0] in wanted}
        agree = fast_pairs == slow.pairs()
        scope = f"all {len(ids):,}" if args.naive_all else f"a sample of {len(sample_ids):,}"
        print(
            f"  naive      one by one over {scope}: {naive_s:7.2f} s = {per * 1000:.2f} ms "
            f"per enterprise -> {per * len(ids):8.1f} s for all {len(ids):,} "
            f"({'measured' if args.naive_all else 'extrapolated'}); "
            f"same answer on the sample: {'yes' if agree else 'NO'}"
        )
        print(f"  ratio      naive / set-based: {per * len(ids) / statistics.median(runs):,.0f} ×")
        print()
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average at end: {load}")
    except OSError:
        pass


if __name__ == "__main__":
    main()
