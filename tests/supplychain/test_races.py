"""The double-financing guard and the voucher tree under real concurrency:
threads released together, each on its own PostgreSQL connection.
(SQLite serialises every writer on the whole file, so it cannot show these races.)

PostgreSQL's default max_connections is 100, and this test's own connection,
the superuser reserve and whoever else uses the server take some: the 100
attempts by 100 different banks run on as many concurrent connections as the
server has free (at most `MAX_THREADS`), each thread making its
share of the attempts back to back. The number used is printed."""

from __future__ import annotations

import random
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection

from chanrong.accounts.models import Role, User
from chanrong.core.errors import Conflict
from chanrong.finance.models import FinancialInstitution, InstitutionKind
from chanrong.registry.models import DataAuthorisation
from chanrong.supplychain import services
from chanrong.supplychain.models import Financing, Receivable, Voucher, VoucherState
from tests.conftest import JIASHAN, _enterprise

from .conftest import TODAY, confirmed, finance_data, issued

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres("real row locks and concurrent connections"),
    pytest.mark.many_connections,
]

BANKS = 100
#: At most 40 threads: 100 threads once exhausted the server ("too many
#: clients") in CI while the other xdist worker ran the budget ledger's race.
#: Races are now marked `many_connections` and run one at a time
#: (tests/conftest.py); the 100 banks' attempts are shared among the threads.
MAX_THREADS = 40
#: Connections left for everyone else on a shared server.
SPARE_CONNECTIONS = 12


def free_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
            " - (SELECT count(*) FROM pg_stat_activity)"
        )
        return int(cursor.fetchone()[0])


def thread_count(wanted: int) -> int:
    threads = min(wanted, MAX_THREADS, free_connections() - SPARE_CONNECTIONS)
    if threads < 2:
        pytest.fail("the PostgreSQL server has no free connections for a race")
    return threads


def run_together(jobs_per_thread: list[list], work) -> list:
    """One thread per list of jobs, released together by a barrier; each runs
    `work(job)` for its jobs in turn on its own connection, which it closes.
    Returns every job's result or the exception it raised."""
    barrier = threading.Barrier(len(jobs_per_thread))
    outcomes: list = []
    lock = threading.Lock()

    def run(jobs):
        try:
            barrier.wait(timeout=60)
            for job in jobs:
                try:
                    result = work(job)
                except Exception as exc:  # noqa: BLE001 - the outcome is what we check
                    result = exc
                with lock:
                    outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(jobs,)) for jobs in jobs_per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def deal(jobs: list, hands: int) -> list[list]:
    return [jobs[i::hands] for i in range(hands)]


def make_banks(world, count: int) -> list[User]:
    """`count` banks, each with one staff user, all authorised by `world.ent`."""
    banks = FinancialInstitution.objects.bulk_create(
        FinancialInstitution(
            name=f"竞速测试银行{i:03d}", kind=InstitutionKind.BANK, region_id=JIASHAN
        )
        for i in range(count)
    )
    password = make_password(None)  # unusable: these users never sign in
    users = User.objects.bulk_create(
        User(
            username=f"race_bank_{i:03d}",
            role=Role.INSTITUTION_STAFF,
            institution=bank,
            password=password,
        )
        for i, bank in enumerate(banks)
    )
    DataAuthorisation.objects.bulk_create(
        DataAuthorisation(enterprise=world.ent, institution=bank) for bank in banks
    )
    return list(User.objects.filter(pk__in=[u.pk for u in users]).select_related("institution"))


def test_one_hundred_banks_finance_one_receivable_at_once(sc, world):
    """Each of 100 banks asks for the full confirmed amount: exactly one
    succeeds, the other 99 are refused with 409, and what is financed equals
    what was confirmed."""
    receivable = confirmed(sc, amount="1000000.00")
    users = make_banks(world, BANKS)
    threads = thread_count(BANKS)
    print(f"\n{BANKS} financing attempts on {threads} concurrent connections")

    def attempt(user):
        return services.finance(
            user,
            receivable,
            finance_data(backing="1000000.00", amount="800000.00"),
            today=TODAY,
        )

    outcomes = run_together(deal(users, threads), attempt)

    assert len(outcomes) == BANKS
    won = [o for o in outcomes if isinstance(o, Financing)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(won) == 1 and len(refused) == BANKS - 1, [
        o for o in outcomes if not isinstance(o, Financing | Conflict)
    ][:3]
    assert {o.status for o in refused} == {409}
    assert {o.code for o in refused} <= {"exceeds_unfinanced", "fully_financed"}
    receivable = Receivable.objects.get(pk=receivable.pk)
    assert receivable.financed == receivable.confirmed_amount == Decimal("1000000.00")
    assert Financing.objects.filter(receivable=receivable).count() == 1
    assert Financing.objects.get().backing == receivable.confirmed_amount


def test_concurrent_splits_transfers_and_discounts_keep_the_tree_whole(sc, world):
    """Threads split, transfer and discount nodes of one voucher tree at once:
    first all of them on the root (exactly one wins), then on whatever leaves
    they find held. The leaves still sum exactly to the face amount, every
    split node's children to it, and every refusal is a 409."""
    root = issued(sc, "1000000.00")
    holders = [world.ent, world.ent2] + [
        _enterprise(f"嘉善配套企业{i}有限公司", JIASHAN, "C36", 60 + i) for i in range(4)
    ]
    password = make_password(None)
    for enterprise in holders[2:]:
        User.objects.create(
            username=f"holder_{enterprise.pk}",
            role=Role.ENTERPRISE_USER,
            enterprise=enterprise,
            password=password,
        )
    for enterprise in holders:
        for bank in (world.bank, world.bank2):
            DataAuthorisation.objects.get_or_create(
                enterprise=enterprise, institution=bank, revoked_at=None
            )
    user_of = {
        u.enterprise_id: u
        for u in User.objects.filter(enterprise__in=holders).select_related("enterprise")
    }
    banks = list(
        User.objects.filter(username__in=["bank_staff", "bank2_staff"]).select_related(
            "institution"
        )
    )
    threads = thread_count(24)
    print(f"\nvoucher operations on {threads} concurrent connections")

    def operate(job):
        seed, node_id = job
        rng = random.Random(seed)
        if node_id is None:
            node = (
                Voucher.objects.tree(root.pk)
                .filter(state=VoucherState.HELD, amount__gte=Decimal("0.02"))
                .order_by("?")
                .first()
            )
            if node is None:
                return "none held"
        else:
            node = Voucher.objects.get(pk=node_id)
        part = (node.amount * Decimal(rng.uniform(0.1, 0.9))).quantize(Decimal("0.01"))
        part = min(max(part, Decimal("0.01")), node.amount - Decimal("0.01"))
        kind = rng.choices(["split", "transfer", "discount", "discount_all"], [8, 8, 3, 1])[0]
        if kind == "discount_all" and not (
            Voucher.objects.tree(root.pk)
            .filter(state=VoucherState.HELD)
            .exclude(pk=node.pk)
            .exists()
        ):
            # Discounting the last held node whole would leave nothing to work
            # on: whichever thread won a race decided whether round 2 split at
            # all (CI under load saw round 2 find nothing held). Take a part.
            kind = "discount"
        holder = user_of[node.holder_id]
        if kind == "split" and part >= Decimal("0.02"):
            # Two parts (one to another holder, one kept) and the remainder.
            given = (part / 2).quantize(Decimal("0.01"))
            others = [e for e in holders if e.pk != node.holder_id]
            return services.split_voucher(
                holder,
                node,
                [{"holder": rng.choice(others).pk, "amount": str(given)},
                 {"holder": node.holder_id, "amount": str(part - given)}],
                today=TODAY,
            )  # fmt: skip
        if kind in ("split", "transfer"):
            to = rng.choice([e for e in holders if e.pk != node.holder_id])
            return services.transfer_voucher(holder, node, to.pk, str(part), today=TODAY)
        data = {"discount_rate": "3.5", "contract_no": f"TX-{seed}"}
        if kind == "discount":
            data["amount"] = str(part)
        return services.discount_voucher(rng.choice(banks), node, data, today=TODAY)

    # Round 1: everyone on the root at once.
    first = run_together([[(i, root.pk)] for i in range(threads)], operate)
    assert sum(not isinstance(o, Exception) for o in first) == 1, first
    refused = [o for o in first if isinstance(o, Exception)]
    assert all(isinstance(o, Conflict) and o.status == 409 for o in refused), refused

    # Round 2: each thread works on leaves it finds held, many times over.
    jobs = [[(1000 + t * 100 + k, None) for k in range(15)] for t in range(threads)]
    rest = run_together(jobs, operate)
    print(Counter(getattr(o, "code", type(o).__name__) for o in rest))
    unexpected = [o for o in rest if isinstance(o, Exception) and not isinstance(o, Conflict)]
    assert not unexpected, unexpected[:3]
    assert all(o.status == 409 for o in rest if isinstance(o, Conflict))

    check = services.check_tree(root.pk)
    assert check.holds, check
    assert check.leaves == check.face == Decimal("1000000.00")
    assert check.nodes > 1 + 2 * len(first)  # round 2 split more than round 1 did
    outstanding = Voucher.objects.tree(root.pk).filter(
        state__in=[VoucherState.HELD, VoucherState.DISCOUNTED]
    )
    assert sum(v.amount for v in outstanding) == Decimal("1000000.00")


def test_a_voucher_split_does_not_wait_for_its_payables_lock(sc, world):
    """While a financing holds the payable's row lock, a split of a voucher
    issued against it goes ahead: the lock is FOR NO KEY UPDATE, and a child
    row's reference to the payable takes only a KEY SHARE lock (with FOR
    UPDATE the split would wait, and time out here)."""
    from django.db import transaction

    from chanrong.supplychain.services.common import lock_receivable

    root = issued(sc, "1000.00")
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                lock_receivable(root.receivable_id)
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            children = services.transfer_voucher(
                world.user("ent_user"), root, world.ent2.pk, "400", today=TODAY
            )
        assert children.amount == Decimal("400")
    finally:
        release.set()
        thread.join(30)
