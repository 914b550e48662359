#!/usr/bin/env python
"""The 定量指标表 of every county of a province, computed from the platform's
records, beside summing the base tables directly.

Generates, in bulk (bulk_create, no demo run), a province's worth of
records at scale-100 volume: --enterprises enterprises (default 300,000)
spread over the province's counties, ~1.5 loans each (disbursed 2019–2023,
1–5 years, about half repaid in one or two instalments before the last plan
year end, 3 % falling 次级/可疑 with their LoanEvents, a few renewed),
high-tech certificates for 14 % of them and a published 绿色库 with 8 %.
Then times:

  table     insights.services.regional.county_table: every indicator of the
            catalogue for every county, for 2021–2023 (plus 2020 for growth)
            — the loan-book balances rebuilt from each loan's history at each
            year end, the 时点 counts at each date, rates per county;
  baseline  the naive sums in one GROUP BY per table: today's `outstanding`
            by county (no history, no 口径), qualifications by county — what
            a report "straight from the tables" would cost.

Prints figures; asserts nothing about time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h21a_bench \\
        .venv/bin/python bench/indicators_compute.py --enterprises 300000

The database is created and migrated when missing; benchmark rows (USCC
starting 91BENCH) are reused when their count matches (--regenerate to redo).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/h21a_bench"
PROVINCE = "330000"
YEARS = [2021, 2022, 2023]
USCC = "91BENCH"
BATCH = 5000


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--enterprises", type=int, default=300_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--regenerate", action="store_true")
    p.add_argument(
        "--per-source",
        action="store_true",
        help="also time each computed source alone over the windows the table asks",
    )
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    return p.parse_args()


def setup(url: str) -> None:
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = url.rsplit("/", 1)[1].split("?")[0]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from chanrong.core import refdata
    from chanrong.insights.catalogue import sync_catalogue
    from chanrong.insights.models import IndicatorDefinition

    if not refdata.is_loaded():
        refdata.load_all()
    sync_catalogue(IndicatorDefinition)


def generate(n: int, regenerate: bool) -> None:
    from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency
    from chanrong.core.models import Region
    from chanrong.finance.models import FinancialInstitution, InstitutionKind
    from chanrong.registry.models import (
        Enterprise,
        EnterpriseList,
        EntryChange,
        ListEntry,
        ListType,
        ListVersion,
        Qualification,
        QualificationKind,
        VersionStatus,
    )
    from chanrong.risk.models import LoanAccount, LoanEvent, Repayment

    ours = Enterprise.objects.filter(uscc__startswith=USCC)
    if ours.count() == n and not regenerate:
        print(f"reusing {n:,} enterprises and their loans")
        return
    t0 = time.perf_counter()
    Repayment.objects.filter(loan__enterprise__in=ours).delete()
    LoanEvent.objects.filter(loan__enterprise__in=ours).delete()
    LoanAccount.objects.filter(enterprise__in=ours).update(renewed_from=None)
    LoanAccount.objects.filter(enterprise__in=ours).delete()
    ListEntry.objects.filter(enterprise__in=ours).delete()
    Qualification.objects.filter(enterprise__in=ours).delete()
    ours.delete()
    rng = random.Random(100)
    counties = list(
        Region.objects.filter(code__startswith="33", level="county").values_list("code", flat=True)
    )
    industries = ["C34", "C26", "C39", "C38", "C13", "F51", "I65", "E47", "M73"]
    sizes = ["micro"] * 5 + ["small"] * 3 + ["medium", "large"]
    banks = list(
        FinancialInstitution.objects.filter(name__startswith="基准银行").values_list(
            "pk", flat=True
        )
    )
    if not banks:
        FinancialInstitution.objects.bulk_create(
            FinancialInstitution(
                name=f"基准银行{i:02d}", short_name=f"基准{i:02d}", kind=InstitutionKind.BANK,
                region_id="330100",
            )
            for i in range(30)
        )  # fmt: skip
        banks = list(
            FinancialInstitution.objects.filter(name__startswith="基准银行").values_list(
                "pk", flat=True
            )
        )
    for start in range(0, n, BATCH):
        Enterprise.objects.bulk_create(
            Enterprise(
                uscc=f"{USCC}{i:011d}", name=f"基准企业{i}", region_id=rng.choice(counties),
                industry_id=rng.choice(industries), size=rng.choice(sizes),
            )
            for i in range(start, min(n, start + BATCH))
        )  # fmt: skip
    ids = list(ours.values_list("pk", flat=True))
    print(f"enterprises: {len(ids):,} in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    loans: list[LoanAccount] = []
    fates: list[str] = []
    for pk in ids:
        for _ in range(rng.choice((1, 1, 2, 2))):
            on = date(2019, 1, 1) + timedelta(days=rng.randrange(5 * 365))
            years = rng.choice((1, 1, 2, 3, 5))
            principal = Decimal(rng.randrange(50, 3000)) * 10_000
            loans.append(
                LoanAccount(
                    enterprise_id=pk, institution_id=rng.choice(banks), source="reported",
                    principal=principal, outstanding=principal, rate=Decimal(rng.randrange(350, 650)) / 100,
                    disbursed_on=on, maturity_on=date(on.year + years, on.month, min(on.day, 28)),
                )
            )  # fmt: skip
            fates.append("bad" if rng.random() < 0.03 else "good")
    for start in range(0, len(loans), BATCH):
        LoanAccount.objects.bulk_create(loans[start : start + BATCH])
    repayments, events = [], []
    for loan, fate in zip(loans, fates, strict=True):
        events.append(
            LoanEvent(loan=loan, kind="opened", on=loan.disbursed_on, classification="normal",
                      outstanding=loan.principal)
        )  # fmt: skip
        if fate == "bad":
            events.append(
                LoanEvent(loan=loan, kind="status", on=loan.disbursed_on + timedelta(days=200),
                          classification=rng.choice(("substandard", "doubtful")),
                          previous_classification="normal", outstanding=loan.principal)
            )  # fmt: skip
        elif rng.random() < 0.5:
            half = (loan.principal / 2).quantize(Decimal("0.01"))
            repayments.append(
                Repayment(
                    loan=loan, paid_on=loan.disbursed_on + timedelta(days=180), principal=half
                )
            )
            if loan.maturity_on < date(2023, 12, 31):
                repayments.append(
                    Repayment(loan=loan, paid_on=loan.maturity_on, principal=loan.principal - half)
                )
    for rows, model in ((repayments, Repayment), (events, LoanEvent)):
        for start in range(0, len(rows), BATCH):
            model.objects.bulk_create(rows[start : start + BATCH])
    print(
        f"loans: {len(loans):,}, repayments: {len(repayments):,}, events: {len(events):,} "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    quals = [
        Qualification(
            enterprise_id=pk, kind=QualificationKind.HIGH_TECH, issuer="浙江省科技厅",
            valid_from=date(rng.randint(2018, 2023), 6, 1), valid_until=None, status="verified",
        )
        for pk in ids
        if rng.random() < 0.14
    ]  # fmt: skip
    Qualification.objects.bulk_create(quals, batch_size=BATCH)
    agency, _ = GovernmentAgency.objects.get_or_create(
        name="基准测试省人民银行", defaults={"level": AgencyLevel.PROVINCIAL,
                                    "function": AgencyFunction.INDUSTRY, "region_id": PROVINCE},
    )  # fmt: skip
    green, _ = EnterpriseList.objects.get_or_create(
        agency=agency, name="基准测试绿色库",
        defaults={"list_type": ListType.GREEN, "region_id": PROVINCE},
    )  # fmt: skip
    version = ListVersion.objects.bulk_create(
        [ListVersion(list=green, number=ListVersion.objects.filter(list=green).count() + 1,
                     status=VersionStatus.PUBLISHED, effective_from=date(2020, 1, 1))]
    )[0]  # fmt: skip
    ListEntry.objects.bulk_create(
        (ListEntry(version=version, enterprise_id=pk, change=EntryChange.ADDED)
         for pk in ids if rng.random() < 0.08),
        batch_size=BATCH,
    )  # fmt: skip


def per_source(prefix: str) -> None:
    """Each computed source alone, over every window the table asks of it
    (a batch once for all its sources, a `by_region_many` once, else
    `by_region` per window), slowest first: where the table's time goes."""
    from chanrong.insights.models import IndicatorDefinition
    from chanrong.insights.services.definitions import is_computed
    from chanrong.insights.services.regional import _windows
    from chanrong.insights.sources import batches, get_source

    asked = sorted({*YEARS, *(y - 1 for y in YEARS)})
    wanted: dict[str, set] = {}
    for d in IndicatorDefinition.objects.all():
        if is_computed(d):
            for key, start, end in _windows(d, asked if d.second_kind == "growth" else YEARS):
                wanted.setdefault(key, set()).add((start, end))
    times = []
    for name, batch in batches().items():
        t0 = time.perf_counter()
        answered = batch(
            prefix, {k: sorted(w, key=lambda w: (w[1], w[0] or w[1])) for k, w in wanted.items()}
        )
        how = f"one pass for {len(answered)} sources"
        times.append((time.perf_counter() - t0, name, sum(len(wanted[k]) for k in answered), how))
        for key in answered:
            wanted.pop(key)
    for key, windows in wanted.items():
        source = get_source(key)
        if source is None or (source.by_region is None and source.by_region_many is None):
            continue
        t0 = time.perf_counter()
        if source.by_region_many is not None:
            source.by_region_many(prefix, sorted(windows, key=lambda w: (w[1], w[0] or w[1])))
            how = "one statement"
        else:
            for start, end in windows:
                source.by_region(prefix, start, end)
            how = f"{len(windows)} statements"
        times.append((time.perf_counter() - t0, key, len(windows), how))
    for seconds, key, n, how in sorted(times, reverse=True):
        print(f"  {seconds:6.2f} s  {key} ({n} windows, {how})")


def main() -> None:
    args = parse_args()
    setup(args.database_url)
    generate(args.enterprises, args.regenerate)
    from django.db import connection
    from django.db.models import Count, Sum

    from chanrong.core.models import Region
    from chanrong.insights.services.regional import county_table
    from chanrong.registry.models import Qualification
    from chanrong.risk.models import LoanAccount

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE") if connection.vendor == "postgresql" else None
    province = Region.objects.get(code=PROVINCE)
    counties = Region.objects.filter(code__startswith="33", level="county").count()
    loans = LoanAccount.objects.filter(enterprise__region__code__startswith="33").count()
    print(f"{connection.vendor}: {counties} counties, {loans:,} loans in the province")
    table_times, base_times = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        table = county_table(province, YEARS)
        table_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        list(
            LoanAccount.objects.filter(enterprise__region__code__startswith="33")
            .values("enterprise__region_id").order_by()
            .annotate(s=Sum("outstanding"), n=Count("pk"))
        )  # fmt: skip
        list(
            Qualification.objects.filter(enterprise__region__code__startswith="33", kind="high_tech")
            .values("enterprise__region_id").order_by().annotate(n=Count("pk"))
        )  # fmt: skip
        base_times.append(time.perf_counter() - t0)
    cells = sum(len(years) for rows in table.values() for years in rows.values())
    print(f"table:    {min(table_times):7.2f} s best of {args.repeat} "
          f"({counties} counties × {len(YEARS)} years, {cells:,} cells; target ≤ 10 s)")  # fmt: skip
    print(f"baseline: {min(base_times):7.2f} s best of {args.repeat} "
          "(today's outstanding and qualification counts by county, one GROUP BY each)")  # fmt: skip
    if args.per_source:
        per_source(province.prefix)
    sample = next(c for c in sorted(table) if table[c]["manufacturing-loans"][2023][0])
    print(f"e.g. {sample} 2023: 制造业贷款余额 {table[sample]['manufacturing-loans'][2023][0]:.2f} 亿元, "
          f"不良贷款率 {table[sample]['npl-ratio'][2023][0]:.2f} %")  # fmt: skip


if __name__ == "__main__":
    main()
