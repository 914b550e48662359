#!/usr/bin/env python
"""财政复核 approvals per second with the budget ledger, concurrent approvers on PostgreSQL.

Each scenario has its own 贴息 programme and N applications already verified
(初审) on their own loans; every application asks for 1,000.00 元, the
appropriation fits --fit of them (default 75 %) and the annual cap per
enterprise is 2,000.00 (enterprises hold 1 to 4 applications, so some are
refused by the cap, the rest of the refusals by the budget). Threads, each
with its own connection and its own 财政 official, take the applications
from one queue as fast as they can:

  ledger × A     policy.services.approve by A approvers at once (default 50):
                 the application row, the programme-year and enterprise-year
                 rows locked, the amount recomputed, committed or refused
                 with 409, the ledger entry, the audit entry, the 公示 dates;
  ledger × 1     the same, one approver (how much the lock serialises);
  no ledger × A  the same transition without the ledger: the application row
                 locked and moved to 公示 through the workflow (audit and
                 notification) — what the budget check adds to it.

After each scenario the invariants are read back (committed = what was
approved ≤ appropriation, every enterprise within its cap, nothing written
for the refused) and printed. Prints figures; asserts nothing about time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_policy_approvals \\
        .venv/bin/python bench/policy_approvals.py --applications 2000 --approvers 50

The database is created and migrated when missing; the benchmark's own rows
(programmes, users, enterprises named 基准测试…) are replaced on each run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_policy_approvals"
CHANRONG = [str(ROOT / ".venv" / "bin" / "chanrong")]
REGION = "330421"
PREFIX = "基准测试·"
AMOUNT = Decimal("1000.00")
PARAMS = {
    "method": "fixed",
    "rate": "1.0",
    "day_count": "act360",
    "cap_per_enterprise_year": str(2 * AMOUNT),
}
PERIOD = (date(2026, 3, 1), date(2026, 6, 8))  # 360,000 × 1 % × 100 / 360 = 1,000.00
DECIDED_ON = date(2026, 7, 6)
SHAPE = (1, 2, 3, 4)  # applications per enterprise, in turn


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--applications", type=int, default=2000, help="per concurrent scenario")
    p.add_argument("--single-applications", type=int, default=500, help="for ledger × 1")
    p.add_argument("--approvers", type=int, default=50)
    p.add_argument("--fit", type=float, default=0.75, help="share the appropriation fits")
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    return p.parse_args()


def prepare(url: str) -> None:
    import psycopg

    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("policy_approvals: needs PostgreSQL (set DATABASE_URL or --database-url)")
    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            if not name.startswith("bench"):
                sys.exit("refusing to create a database whose name does not start with 'bench'")
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([*CHANRONG, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()
    from chanrong.core import refdata

    if not refdata.is_loaded():
        refdata.load_all()


class World:
    """The benchmark's agencies, officials, bank; created once per run."""

    def __init__(self, approvers: int):
        from chanrong.accounts.models import (
            AgencyFunction,
            AgencyLevel,
            GovernmentAgency,
            Role,
            User,
        )
        from chanrong.finance.models import FinancialInstitution, InstitutionKind

        self.finance, _ = GovernmentAgency.objects.get_or_create(
            name=f"{PREFIX}嘉善县财政局",
            defaults={
                "level": AgencyLevel.COUNTY,
                "function": AgencyFunction.FINANCE,
                "region_id": REGION,
            },
        )
        industry, _ = GovernmentAgency.objects.get_or_create(
            name=f"{PREFIX}嘉善县经信局",
            defaults={
                "level": AgencyLevel.COUNTY,
                "function": AgencyFunction.INDUSTRY,
                "region_id": REGION,
            },
        )
        self.bank, _ = FinancialInstitution.objects.get_or_create(
            name=f"{PREFIX}银行", defaults={"kind": InstitutionKind.BANK, "region_id": REGION}
        )

        def user(username, role, agency):
            found = User.objects.filter(username=username).first()
            if found is None:
                found = User(username=username, role=role, agency=agency, display_name=username)
                found.set_unusable_password()
                found.save()
            return found

        self.admin = user("bench_fin_admin", Role.GOV_ADMIN, self.finance)
        self.verifier = user("bench_verifier", Role.GOV_STAFF, industry)
        self.approvers = [
            user(f"bench_fin_{i:02d}", Role.GOV_STAFF, self.finance) for i in range(approvers)
        ]


def clean() -> None:
    """Remove what an earlier run left (its programmes and everything on them)."""
    from chanrong.core.models import Notification
    from chanrong.policy.models import (
        Application,
        BudgetYear,
        EnterpriseYear,
        LedgerEntry,
        Loan,
        Programme,
    )
    from chanrong.registry.models import Enterprise

    old = Programme.objects.filter(name__startswith=PREFIX)
    LedgerEntry.objects.filter(budget__programme__in=old).delete()
    Application.objects.filter(programme__in=old).delete()
    EnterpriseYear.objects.filter(programme__in=old).delete()
    BudgetYear.objects.filter(programme__in=old).delete()
    old.delete()
    Loan.objects.filter(contract_no__startswith="BENCH-").delete()
    Enterprise.objects.filter(name__startswith=PREFIX).delete()
    Notification.objects.filter(recipient__username__startswith="bench_").delete()


def scenario_data(world: World, label: str, n: int, fit: float):
    """A published programme and n verified applications; returns (programme, ids)."""
    from chanrong.core.codes import make_uscc
    from chanrong.policy import params
    from chanrong.policy.models import (
        Application,
        ApplicationState,
        BudgetYear,
        Loan,
        LoanSource,
        Programme,
        ProgrammeKind,
        ProgrammeState,
    )
    from chanrong.registry.models import Enterprise

    fits = int(n * fit)
    programme = Programme.objects.create(
        agency=world.finance,
        region_id=REGION,
        kind=ProgrammeKind.INTEREST,
        name=f"{PREFIX}{label}",
        basis="基准测试",
        starts_on=date(2025, 1, 1),
        ends_on=date(2027, 12, 31),
        state=ProgrammeState.PUBLISHED,
        params=params.dump(params.parse(ProgrammeKind.INTEREST, PARAMS)),
        requires_bank_confirmation=False,
    )
    BudgetYear.objects.create(programme=programme, year=2026, appropriation=AMOUNT * fits)
    # Enterprises holding 1, 2, 3, 4, 1, 2 … applications.
    sizes, total = [], 0
    while total < n:
        size = min(SHAPE[len(sizes) % len(SHAPE)], n - total)
        sizes.append(size)
        total += size
    base = Enterprise.objects.count() + 1
    enterprises = Enterprise.objects.bulk_create(
        Enterprise(
            uscc=make_uscc(f"91{REGION}{base + i:09d}"),
            name=f"{PREFIX}{label}{i:05d}",
            region_id=REGION,
            industry_id="C34",
            size="small",
        )
        for i in range(len(sizes))
    )
    owners = [e for e, size in zip(enterprises, sizes, strict=True) for _ in range(size)]
    loans = Loan.objects.bulk_create(
        Loan(
            enterprise=owner,
            institution=world.bank,
            source=LoanSource.OFF_PLATFORM,
            contract_no=f"BENCH-{programme.pk}-{i:06d}",
            principal=Decimal("360000"),
            rate=Decimal("3.45"),
            loan_date=date(2026, 1, 10),
            maturity_date=date(2027, 1, 10),
        )
        for i, owner in enumerate(owners)
    )
    apps = Application.objects.bulk_create(
        Application(
            programme=programme,
            enterprise=loan.enterprise,
            institution=world.bank,
            loan=loan,
            year=2026,
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            paid_cost=Decimal("5000"),
            amount=AMOUNT,
            state=ApplicationState.VERIFIED,
            verified_by=world.verifier,
        )
        for loan in loans
    )
    cap_limited = sum(min(size, 2) for size in sizes)
    return programme, [a.pk for a in apps], min(fits, cap_limited)


def run(ids: list[int], approvers: list, call) -> tuple[float, list, list[float]]:
    """Every id through `call(user, id)` on len(approvers) threads, each with
    its own connection; returns (wall seconds, outcomes, latencies)."""
    from django.db import connection

    queue = list(ids)
    lock = threading.Lock()
    outcomes: list = []
    latencies: list[float] = []
    barrier = threading.Barrier(len(approvers) + 1)

    def worker(user):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=120)
            while True:
                with lock:
                    if not queue:
                        return
                    pk = queue.pop()
                started = time.perf_counter()
                try:
                    result = call(user, pk)
                except Exception as exc:  # noqa: BLE001 - the outcome is what we count
                    result = exc
                elapsed = time.perf_counter() - started
                with lock:
                    outcomes.append(result)
                    latencies.append(elapsed)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(u,)) for u in approvers]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=120)
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, outcomes, latencies


def approve_with_ledger(user, pk: int):
    from chanrong.policy import services
    from chanrong.policy.models import Application

    return services.approve(user, Application.objects.get(pk=pk), today=DECIDED_ON)


def approve_without_ledger(user, pk: int):
    """The approval's workflow step alone: lock the row, move it to 公示
    (audit, notification), no budget, no recomputation, no ledger entry."""
    from django.db import transaction

    from chanrong.core.workdays import add_workdays
    from chanrong.core.workflow import apply_transition
    from chanrong.policy.models import Application
    from chanrong.policy.workflows import APPLICATION

    with transaction.atomic():
        current = Application.objects.select_for_update().select_related("programme").get(pk=pk)
        return apply_transition(
            APPLICATION,
            current,
            "approve",
            user,
            changes={
                "approved_by": user,
                "notice_starts_on": DECIDED_ON,
                "notice_ends_on": add_workdays(DECIDED_ON, current.programme.notice_days),
            },
        )


def invariants(programme, expected: int | None) -> str:
    from django.db.models import Sum

    from chanrong.policy.models import (
        Application,
        ApplicationState,
        BudgetYear,
        EnterpriseYear,
        LedgerEntry,
    )

    budget = BudgetYear.objects.get(programme=programme, year=2026)
    approved = Application.objects.filter(programme=programme, state=ApplicationState.NOTICE)
    total = approved.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    refused = Application.objects.filter(programme=programme, state=ApplicationState.VERIFIED)
    checks = {
        "committed = approved": budget.committed == total,
        "≤ appropriation": budget.committed + budget.paid <= budget.appropriation,
        "caps": not EnterpriseYear.objects.filter(
            programme=programme, committed__gt=2 * AMOUNT
        ).exists(),
        "nothing for the refused": not LedgerEntry.objects.filter(application__in=refused).exists(),
    }
    if expected is not None:
        checks["as many as fit"] = approved.count() == expected
    bad = [name for name, ok in checks.items() if not ok]
    return "held" if not bad else "BROKEN: " + ", ".join(bad)


def report(label: str, seconds: float, outcomes: list, latencies: list[float], held: str) -> None:
    from chanrong.core.errors import Conflict
    from chanrong.policy.models import Application

    approved = sum(isinstance(o, Application) for o in outcomes)
    refused = sum(isinstance(o, Conflict) for o in outcomes)
    errors = [o for o in outcomes if not isinstance(o, Application | Conflict)]
    p50 = statistics.median(latencies) * 1000
    p99 = sorted(latencies)[max(0, round(0.99 * (len(latencies) - 1)))] * 1000
    print(
        f"  {label:<18} {len(outcomes):>6,} calls in {seconds:7.2f} s = "
        f"{len(outcomes) / seconds:7.1f} calls/s ({approved / seconds:6.1f} approved/s); "
        f"approved {approved:,}, 409 {refused:,}, errors {len(errors)}; "
        f"p50 {p50:6.1f} ms, p99 {p99:7.1f} ms; invariants {held}"
    )
    if errors:
        print(f"    first error: {errors[0]!r}")


def main() -> None:
    args = parse_args()
    prepare(args.database_url)
    from django.db import connection

    from bench._machine import machine_info

    for line in machine_info(connection):
        print(line)
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        limit = int(cursor.fetchone()[0])
        cursor.execute("SELECT count(*) FROM pg_stat_activity")
        busy = cursor.fetchone()[0]
    print(f"connections: {busy} in use of {limit} before the run")
    clean()
    world = World(args.approvers)
    n, fit = args.applications, args.fit
    scenarios = [
        (f"ledger × {args.approvers}", n, world.approvers, approve_with_ledger, True),
        ("ledger × 1", args.single_applications, world.approvers[:1], approve_with_ledger, True),
        (f"no ledger × {args.approvers}", n, world.approvers, approve_without_ledger, False),
    ]
    print(
        f"{n:,} verified applications of 1,000.00 元 per concurrent scenario, "
        f"{args.single_applications:,} for one approver; appropriation fits {fit:.0%}, "
        f"enterprise cap 2,000.00 (1–4 applications each)"
    )
    print()
    for label, count, approvers, call, ledger in scenarios:
        programme, ids, expected = scenario_data(world, label, count, fit)
        connection.close()
        seconds, outcomes, latencies = run(ids, approvers, call)
        held = invariants(programme, expected) if ledger else "n/a (no ledger)"
        report(label, seconds, outcomes, latencies, held)
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"\nload average at end: {load}")
    except OSError:
        pass


if __name__ == "__main__":
    main()
