#!/usr/bin/env python
"""Import of a large enterprise workbook: chanrong's importer vs a naive baseline.

Generates an N-row .xlsx of enterprises (valid USCCs from make_uscc, with the
mess real files have: full-width digits, amounts written with 万元 / 亿元,
dates as text in five spellings, stray spaces), then, each in a fresh
process so that peak memory is its own:

  chanrong   the import service end to end: upload checks, calamine read,
             header mapping, cell parsing, the registry services' checks,
             bulk upsert in one transaction, one audit entry;
  again      the same file once more (every row unchanged: the idempotent path);
  baseline   pandas.read_excel (openpyxl engine) + one ORM update_or_create per
             row (the same cell parsers, autocommit, no audit).

Prints wall time and peak RSS side by side; asserts nothing (target for the
chanrong import: <= 60 s and <= 1 GiB at 100,000 rows on the 2-core machine).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chanrong_bench_import \\
        .venv/bin/python bench/registry_import.py --rows 100000

The database is created if missing and migrated; the enterprise table is
emptied before each run (use a dedicated database).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/chanrong_bench_import"
HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "所在地区代码",
    "行业代码",
    "从业人员（人）",
    "营业收入（万元）",
    "资产总额（万元）",
    "成立日期",
    "注册资本（万元）",
    "法定代表人",
    "联系电话",
    "地址",
]
DIVISIONS = [
    "C13",
    "C17",
    "C18",
    "C26",
    "C29",
    "C30",
    "C33",
    "C34",
    "C35",
    "C36",
    "C38",
    "C39",
    "C40",
    "F51",
    "F52",
    "G54",
    "I65",
    "M73",
    "E48",
    "K70",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建国志文斌宇浩凯健俊帆"
FULL = str.maketrans("0123456789.", "０１２３４５６７８９．")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--rows", type=int, default=100_000, help="rows in the workbook (default 100,000)"
    )
    p.add_argument(
        "--baseline-rows", type=int, default=None, help="rows for the baseline (default: --rows)"
    )
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--phase", choices=["chanrong", "baseline", "export"], help=argparse.SUPPRESS)
    p.add_argument("--file", help=argparse.SUPPRESS)
    return p.parse_args()


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()


def prepare(url: str):
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("registry_import: needs PostgreSQL (set DATABASE_URL or --database-url)")
    ensure_database(url)
    django_setup(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from chanrong.core import refdata

    if not refdata.is_loaded():
        refdata.load_all()


def empty_registry() -> None:
    """Enterprises gone (and, through CASCADE, whatever references them,
    users included: this database is the benchmark's own); then the actor."""
    from django.db import connection

    from chanrong.accounts.models import Role, User

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE registry_enterprise CASCADE")
    User.objects.get_or_create(
        username="bench_admin", defaults={"role": Role.PLATFORM_ADMIN, "is_staff": True}
    )


def counties(limit: int = 60) -> list[str]:
    from chanrong.core.models import Region

    codes = list(Region.objects.filter(level="county").values_list("code", flat=True))
    random.Random(7).shuffle(codes)
    return sorted(codes[:limit])


def generate(path: Path, rows: int, seed: int) -> None:
    import xlsxwriter

    from bench._names import enterprise_name
    from chanrong.core.codes import make_uscc

    rng = random.Random(seed)
    regions = counties()
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("企业")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADERS)
    for i in range(1, rows + 1):
        region = rng.choice(regions)
        code = make_uscc(f"91{region}{i:09d}")
        name = enterprise_name(rng)
        if i % 13 == 0:
            name = f"  {name[:4]}  {name[4:]} "
        employees: object = rng.randint(3, 2000)
        if i % 7 == 0:
            employees = f"{employees}".translate(FULL) + "人"
        revenue: object = round(rng.lognormvariate(7, 1.5), 2)
        if i % 5 == 0:
            revenue = f"{revenue}万元"
        assets: object = round(rng.lognormvariate(7.5, 1.5), 2)
        if i % 11 == 0:
            assets = f"{assets / 10000:.4f}亿元"
        founded = date(1990, 1, 1) + timedelta(days=rng.randint(0, 12000))
        spelled = [
            founded,
            f"{founded.year}-{founded.month}-{founded.day}",
            founded.strftime("%Y/%m/%d"),
            f"{founded.year}年{founded.month}月{founded.day}日",
            founded.strftime("%Y%m%d"),
        ][i % 5]
        capital = (
            f"{rng.choice([50, 100, 200, 500, 1000, 3000])}万元" if i % 3 else rng.choice([50, 500])
        )
        person = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if i % 2 else "")
        phone = f"1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}"
        values = [code, name, region, rng.choice(DIVISIONS), employees, revenue, assets]
        sheet.write_row(i, 0, values)
        if isinstance(spelled, date):
            sheet.write_datetime(i, 7, spelled, date_format)
        else:
            sheet.write_string(i, 7, spelled)
        sheet.write_row(i, 8, [capital, person, phone, f"{name[:2]}市示例路{i % 999 + 1}号"])
    workbook.close()


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def phase_chanrong(path: Path) -> dict:
    from chanrong.accounts.models import User
    from chanrong.core.importing import services
    from chanrong.core.models import ImportJob
    from chanrong.registry.models import Enterprise

    actor = User.objects.get(username="bench_admin")
    stages: dict[str, float] = {}
    real = services._ProgressWriter.__call__

    def timed(self, stage, processed, total, *, force=False):
        stages.setdefault(stage, time.perf_counter())
        return real(self, stage, processed, total, force=force)

    services._ProgressWriter.__call__ = timed
    runs = []
    for label in ("chanrong", "again"):
        start, cpu = time.perf_counter(), cpu_seconds()
        data = path.read_bytes()
        job = services.create_job(actor, "enterprises", filename=path.name, data=data, run=False)
        services.run_job(job.pk)
        elapsed = time.perf_counter() - start
        job = ImportJob.objects.get(pk=job.pk)
        split = {k: round(v - start, 2) for k, v in sorted(stages.items(), key=lambda kv: kv[1])}
        runs.append(
            {
                "label": label,
                "seconds": elapsed,
                "cpu": cpu_seconds() - cpu,
                "status": job.status,
                "rows": job.total_rows,
                "created": job.created_count,
                "updated": job.updated_count,
                "errors": job.error_rows,
                "message": job.message,
                "stages": split,
                "peak_rss_mib": peak_rss_mib(),
            }
        )
        stages.clear()
    runs.append({"label": "count", "enterprises": Enterprise.objects.count()})
    return {"runs": runs}


def phase_baseline(path: Path) -> dict:
    import pandas as pd

    from chanrong.core.importing.cells import Amount, Date, Integer, Text, Uscc
    from chanrong.registry.models import Enterprise
    from chanrong.registry.services import compute_size

    start, cpu = time.perf_counter(), cpu_seconds()
    frame = pd.read_excel(path, dtype=object, engine="openpyxl")  # pandas' default engine
    read = time.perf_counter() - start
    uscc, text, integer, amount, day = Uscc(), Text(), Integer(suffixes=("人",)), Amount(), Date()
    failed = 0
    for row in frame.itertuples(index=False):
        values = [None if (isinstance(v, float) and v != v) else v for v in row]
        try:
            enterprise = Enterprise(
                uscc=uscc.parse(values[0]),
                name=text.parse(values[1]),
                region_id=str(values[2]),
                industry_id=str(values[3]),
                employees=integer.parse(values[4]),
                revenue=(amount.parse(values[5]) or 0) * 10000,
                assets=(amount.parse(values[6]) or 0) * 10000,
                founded_on=day.parse(values[7]),
                registered_capital=(amount.parse(values[8]) or 0) * 10000,
                legal_representative=text.parse(values[9]) or "",
                contact_phone=text.parse(values[10]) or "",
                address=text.parse(values[11]) or "",
            )
            enterprise.size = compute_size(enterprise)
        except Exception:
            failed += 1
            continue
        fields = {
            f.attname: getattr(enterprise, f.attname)
            for f in Enterprise._meta.concrete_fields
            if f.attname not in ("id", "uscc", "created_at", "updated_at")
        }
        Enterprise.objects.update_or_create(uscc=enterprise.uscc, defaults=fields)
    elapsed = time.perf_counter() - start
    return {
        "runs": [
            {
                "label": "baseline",
                "seconds": elapsed,
                "cpu": cpu_seconds() - cpu,
                "read_seconds": read,
                "rows": len(frame),
                "failed": failed,
                "enterprises": Enterprise.objects.count(),
                "peak_rss_mib": peak_rss_mib(),
            }
        ]
    }


def phase_export() -> dict:
    """The whole table through the list page's export (xlsxwriter constant_memory)."""
    from chanrong.accounts.models import User
    from chanrong.registry.imports import export_enterprises

    actor = User.objects.get(username="bench_admin")
    start, cpu = time.perf_counter(), cpu_seconds()
    handle, rows = export_enterprises(actor, {})
    size = handle.seek(0, 2)
    handle.close()
    return {
        "runs": [
            {
                "label": "export",
                "seconds": time.perf_counter() - start,
                "cpu": cpu_seconds() - cpu,
                "rows": rows,
                "bytes": size,
                "peak_rss_mib": peak_rss_mib(),
            }
        ]
    }


def child(args: argparse.Namespace) -> None:
    django_setup(args.database_url)
    phases = {
        "chanrong": lambda: phase_chanrong(Path(args.file)),
        "baseline": lambda: phase_baseline(Path(args.file)),
        "export": phase_export,
    }
    result = phases[args.phase]()
    print("RESULT " + json.dumps(result, ensure_ascii=False))


def run_child(args: argparse.Namespace, phase: str, path: Path) -> dict:
    command = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--file",
        str(path),
        "--database-url",
        args.database_url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    sys.exit(f"{phase} failed:\n{done.stdout}\n{done.stderr}")


def main() -> None:
    args = parse_args()
    if args.phase:
        child(args)
        return
    prepare(args.database_url)
    from django.db import connection

    from bench._machine import machine_info

    print("registry_import: enterprise workbook import (chanrong vs pandas + ORM per row)")
    for line in machine_info(connection):
        print("  " + line)
    workdir = Path(tempfile.mkdtemp(prefix="chanrong-bench-"))
    path = workdir / f"enterprises-{args.rows}.xlsx"
    start = time.perf_counter()
    generate(path, args.rows, args.seed)
    print(
        f"  workbook: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB "
        f"(generated in {time.perf_counter() - start:.1f} s, not counted)"
    )
    empty_registry()
    connection.close()
    ours = run_child(args, "chanrong", path)["runs"]
    results = [r for r in ours if r["label"] != "count"]
    count = next(r for r in ours if r["label"] == "count")["enterprises"]
    exported = run_child(args, "export", path)["runs"][0]
    baseline = None
    if not args.skip_baseline:
        base_rows = args.baseline_rows or args.rows
        base_path = path
        if base_rows != args.rows:
            base_path = workdir / f"enterprises-{base_rows}.xlsx"
            generate(base_path, base_rows, args.seed)
        prepare(args.database_url)
        empty_registry()
        connection.close()
        baseline = run_child(args, "baseline", base_path)["runs"][0]
    print()
    print(
        f"  {'run':<30} {'rows':>9} {'wall s':>9} {'rows/s':>9} {'Python CPU s':>13} {'peak RSS MiB':>13}"
    )
    for r in results:
        label = "chanrong import" if r["label"] == "chanrong" else "chanrong re-import (unchanged)"
        print(
            f"  {label:<30} {r['rows']:>9,} {r['seconds']:>9.1f} {r['rows'] / r['seconds']:>9,.0f} "
            f"{r['cpu']:>13.1f} {r['peak_rss_mib']:>13,.0f}"
        )
    print(
        f"  {'export to .xlsx (streaming)':<30} {exported['rows']:>9,} {exported['seconds']:>9.1f} "
        f"{exported['rows'] / exported['seconds']:>9,.0f} {exported['cpu']:>13.1f} "
        f"{exported['peak_rss_mib']:>13,.0f}"
    )
    if baseline:
        print(
            f"  {'baseline pandas + ORM/row':<30} {baseline['rows']:>9,} {baseline['seconds']:>9.1f} "
            f"{baseline['rows'] / baseline['seconds']:>9,.0f} {baseline['cpu']:>13.1f} "
            f"{baseline['peak_rss_mib']:>13,.0f}"
        )
    print()
    first = results[0]
    print(f"  chanrong: {first['status']}; {first['message']}")
    print(f"  chanrong stages (s from upload): {first['stages']}")
    print(f"  enterprises in the database after both chanrong runs: {count:,}")
    if baseline:
        print(
            f"  baseline: read_excel {baseline['read_seconds']:.1f} s; {baseline['failed']} rows failed; "
            f"{baseline['enterprises']:,} enterprises written"
        )
        if baseline["rows"] != first["rows"]:
            factor = first["rows"] / baseline["rows"]
            print(
                f"  baseline scaled to {first['rows']:,} rows (linear): about "
                f"{baseline['seconds'] * factor:.0f} s"
            )
    print(
        "  (Python CPU s: the importing process only; the database server's work and waiting"
        " for a busy machine make up the rest of the wall time)"
    )
    peak_gib = first["peak_rss_mib"] / 1024
    print(
        f"  target: <= 60 s and <= 1 GiB -> chanrong {first['seconds']:.1f} s, {peak_gib:.2f} GiB peak RSS"
    )


if __name__ == "__main__":
    main()
