#!/usr/bin/env python
"""Early-warning rules after a large operating-data import.

Builds, in its own PostgreSQL database, N enterprises of one county with
24 months of operating data each (N x 24 rows: 4,200 enterprises give
100,800 rows, the issue's "100,000-row operating-data import"), two years
of tax grades, a loan book with some loans overdue, and the demo county's
seven rules (overdue 90 / 30 days, downgrade, blacklist, tax-grade drop,
revenue collapse, electricity drop). Then times, in the same run:

  set-based   services.warnings.evaluate(): every rule over every enterprise,
              a few queries per rule (what the nightly job and an import do)
  one by one  evaluate(enterprise_ids=[e]) for a sample of enterprises —
              what evaluating "as each row arrives" would cost — scaled to N

Issue target: rule evaluation after a 100,000-row import <= 60 s. Prints
figures; asserts nothing about time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chanrong_bench_warnings \\
        .venv/bin/python bench/risk_warnings.py --enterprises 4200
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
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/chanrong_bench_warnings"
COUNTY = "330421"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--enterprises", type=int, default=4200)
    p.add_argument("--sample", type=int, default=200, help="enterprises evaluated one by one")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    return p.parse_args()


def prepare(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from chanrong.core import refdata

    if not refdata.is_loaded():
        refdata.load_all()


def months_back(first: date, n: int) -> date:
    index = first.year * 12 + first.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def build(n: int, seed: int) -> float:
    """The world; returns the seconds the operating-data insert took."""
    from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency
    from chanrong.core.codes import make_uscc
    from chanrong.finance.models import FinancialInstitution, InstitutionKind
    from chanrong.registry.models import Enterprise, OperatingRecord, TaxCreditGrade
    from chanrong.risk.models import LoanAccount, RuleKind, WarningRule

    rng = random.Random(seed)
    today = date.today()
    first = today.replace(day=1)
    agency = GovernmentAgency.objects.create(
        name="嘉善县经济和信息化局",
        level=AgencyLevel.COUNTY,
        function=AgencyFunction.INDUSTRY,
        region_id=COUNTY,
    )
    bank = FinancialInstitution.objects.create(
        name="基准测试银行", kind=InstitutionKind.BANK, region_id=COUNTY
    )
    enterprises = Enterprise.objects.bulk_create(
        Enterprise(
            uscc=make_uscc(f"91{COUNTY}{i:09d}"), name=f"基准企业{i:05d}有限公司", region_id=COUNTY,
            industry_id="C34", employees=100, revenue=Decimal(30_000_000), assets=Decimal(40_000_000), size="small",
        )
        for i in range(n)
    )  # fmt: skip
    grades = []
    for e in enterprises:
        before = rng.choice("AABBBC")
        after = before if rng.random() < 0.85 else rng.choice("BCD")
        grades += [
            TaxCreditGrade(enterprise=e, year=today.year - 2, grade=before),
            TaxCreditGrade(enterprise=e, year=today.year - 1, grade=after),
        ]
    TaxCreditGrade.objects.bulk_create(grades, batch_size=5000)
    loans = []
    for e in enterprises:
        if rng.random() < 0.3:
            overdue = rng.choice([0] * 8 + [35, 120])
            loans.append(
                LoanAccount(
                    enterprise=e, institution=bank, source="reported", contract_no=f"B-{e.pk}",
                    principal=Decimal(1_000_000), outstanding=Decimal(1_000_000), disbursed_on=today - timedelta(days=200),
                    maturity_on=today + timedelta(days=165), days_overdue=overdue,
                    overdue_amount=Decimal(100_000) if overdue else Decimal(0),
                    classification="substandard" if overdue > 90 else "normal",
                )
            )  # fmt: skip
    LoanAccount.objects.bulk_create(loans, batch_size=5000)
    rows = []
    for e in enterprises:
        base = rng.uniform(100, 1000)
        trend = rng.choice([1.0] * 9 + [0.5])
        for back in range(1, 25):
            recent = back <= 12
            revenue = base * (trend if recent else 1.0) * rng.uniform(0.9, 1.1)
            rows.append(
                OperatingRecord(
                    enterprise=e, period_type="month", period_start=months_back(first, back),
                    revenue=Decimal(f"{revenue:.2f}"), electricity_kwh=Decimal(round(revenue * 300)),
                )
            )  # fmt: skip
    started = time.perf_counter()
    OperatingRecord.objects.bulk_create(rows, batch_size=5000)
    inserted = time.perf_counter() - started
    rules = [
        ("逾期 90 天", RuleKind.OVERDUE, "red", {"days": 90}),
        ("逾期 30 天", RuleKind.OVERDUE, "orange", {"days": 30}),
        ("分类下调", RuleKind.DOWNGRADE, "orange", {"within_days": 180}),
        ("黑名单", RuleKind.BLACKLISTED, "red", {}),
        ("纳税等级下降", RuleKind.TAX_GRADE_DROP, "yellow", {}),
        ("营收下滑", RuleKind.REVENUE_COLLAPSE, "yellow", {"drop_percent": 30}),
        ("用电下降", RuleKind.ELECTRICITY_DROP, "yellow", {"drop_percent": 40, "months": 3}),
    ]
    WarningRule.objects.bulk_create(
        WarningRule(
            agency=agency,
            region_prefix=COUNTY,
            name=name,
            kind=kind,
            severity=severity,
            params=params,
        )
        for name, kind, severity, params in rules
    )
    print(
        f"built: {n:,} enterprises, {len(rows):,} operating rows, {len(loans):,} loans, {len(rules)} rules"
    )
    return inserted


def main() -> None:
    args = parse_args()
    prepare(args.database_url)
    from django.db import connection

    from bench._machine import machine_info

    for line in machine_info(connection):
        print(line)
    inserted = build(args.enterprises, args.seed)
    from chanrong.registry.models import Enterprise
    from chanrong.risk.models import Alert
    from chanrong.risk.services import warnings

    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    sample = random.Random(args.seed).sample(ids, min(args.sample, len(ids)))
    started = time.perf_counter()
    for pk in sample:
        warnings.evaluate(enterprise_ids=[pk], notify_users=False)
    one_by_one = (time.perf_counter() - started) / len(sample) * len(ids)
    Alert.objects.all().delete()
    started = time.perf_counter()
    opened = warnings.evaluate(notify_users=False)
    set_based = time.perf_counter() - started
    print(f"operating rows inserted (bulk_create, for scale): {inserted:.2f} s")
    print(
        f"set-based evaluate(), all rules x all enterprises: {set_based:.2f} s, {opened:,} alerts opened"
    )
    print(f"one by one, {len(sample)} sampled and scaled to {len(ids):,}: {one_by_one:.1f} s")
    print("target: <= 60 s after a 100,000-row import")


if __name__ == "__main__":
    main()
