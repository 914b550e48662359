#!/usr/bin/env python
"""A 100,000-row credit-record import (issue 19's figure), end to end.

Builds, in its own PostgreSQL database, N enterprises of one county, a
county government user and the two event rules (行政处罚, 涉诉); writes a
.csv of R credit records (penalties, judgments, tax, social insurance …
spread over the enterprises) and times, in the same run:

  import     the import framework on the file, as the upload page runs it
             (read, map headers, parse cells, check every row, write in one
             transaction with an audit entry per record), then the event
             rules evaluated for the enterprises concerned (after commit)
  re-import  the same file again: every row unchanged, nothing written

Issue 19 target: a 100,000-row credit-data import <= 60 s. Prints figures;
asserts nothing about time.

    CHANRONG_VAR_DIR=/tmp/bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/h3 \\
        .venv/bin/python bench/credit_import.py --enterprises 5000 --rows 100000
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/h3"
COUNTY = "330421"
KINDS = ["行政处罚"] * 3 + ["司法判决"] * 2 + ["纳税", "社保", "公积金", "水电气", "海关"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--enterprises", type=int, default=5000)
    p.add_argument("--rows", type=int, default=100_000)
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
    # Whatever its size, the file is imported in this process, as one job.
    os.environ["CHANRONG_IMPORT_INLINE_ROWS"] = "100000000"
    os.environ["CHANRONG_IMPORT_MAX_BYTES"] = str(500 * 1024 * 1024)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from chanrong.core import refdata

    if not refdata.is_loaded():
        refdata.load_all()


def build(n: int, rows: int, seed: int):
    """The world and the file; returns (government user, csv bytes)."""
    from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency, Role, User
    from chanrong.core.codes import make_uscc
    from chanrong.registry.models import Enterprise
    from chanrong.risk.models import RuleKind, WarningRule

    rng = random.Random(seed)
    agency = GovernmentAgency.objects.create(
        name="嘉善县经济和信息化局",
        level=AgencyLevel.COUNTY,
        function=AgencyFunction.INDUSTRY,
        region_id=COUNTY,
    )
    user = User.objects.create(username="bench_gov", role=Role.GOV_ADMIN, agency=agency)
    enterprises = Enterprise.objects.bulk_create(
        Enterprise(
            uscc=make_uscc(f"91{COUNTY}{i:09d}"), name=f"基准企业{i:05d}有限公司", region_id=COUNTY,
            industry_id="C34", employees=100, revenue=Decimal(30_000_000), assets=Decimal(40_000_000), size="small",
        )
        for i in range(n)
    )  # fmt: skip
    WarningRule.objects.bulk_create(
        [
            WarningRule(agency=agency, region_prefix=COUNTY, name="行政处罚", severity="yellow",
                        kind=RuleKind.PENALTY_EVENT, params={"within_days": 365, "min_amount": 10000}),
            WarningRule(agency=agency, region_prefix=COUNTY, name="涉诉", severity="orange",
                        kind=RuleKind.JUDGMENT_EVENT, params={"within_days": 365, "min_amount": 0}),
        ]
    )  # fmt: skip
    today = date.today()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "统一社会信用代码",
            "信息类别",
            "发生日期",
            "来源机构",
            "文书/记录编号",
            "内容摘要",
            "金额（元）",
        ]
    )
    for i in range(rows):
        e = enterprises[rng.randrange(n)]
        kind = rng.choice(KINDS)
        on = today - timedelta(days=rng.randint(1, 3 * 365))
        writer.writerow(
            [e.uscc, kind, on.isoformat(), f"{kind}来源机构{i % 7}", f"B{i:08d}", "基准记录",
             rng.randint(100, 500_000)]
        )  # fmt: skip
    data = out.getvalue().encode("utf-8-sig")
    print(f"built: {n:,} enterprises, a .csv of {rows:,} credit records ({len(data) / 1e6:.1f} MB)")
    return user, data


def main() -> None:
    args = parse_args()
    prepare(args.database_url)
    from django.db import connection

    from bench._machine import machine_info

    for line in machine_info(connection):
        print(line)
    user, data = build(args.enterprises, args.rows, args.seed)
    from chanrong.core.importing.services import create_job
    from chanrong.registry.models import CreditRecord
    from chanrong.risk.models import Alert

    started = time.perf_counter()
    job = create_job(user, "credit_records", filename="bench.csv", data=data)
    first = time.perf_counter() - started
    print(
        f"import: {first:.1f} s ({job.status}; {job.created_count:,} created, "
        f"{CreditRecord.objects.count():,} stored; {Alert.objects.count():,} alerts opened "
        "by the event rules after commit, included)"
    )
    started = time.perf_counter()
    job = create_job(user, "credit_records", filename="bench.csv", data=data)
    again = time.perf_counter() - started
    print(
        f"re-import of the same file: {again:.1f} s ({job.status}; "
        f"{job.created_count:,} created, {job.updated_count:,} updated)"
    )
    print("target: <= 60 s for a 100,000-row credit-data import")


if __name__ == "__main__":
    main()
