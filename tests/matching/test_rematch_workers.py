"""`chanrong matching_rematch --workers 2` on real rows: more open demands
than one block (256), so the batch really goes to a pool of processes. The
pool's processes (from a forkserver, see chanrong/matching/pool.py) store
exactly the matches one process stores, while this process has another
thread running; fork() is never called here, and this process's own
ranking function is not used (the work happened in the pool)."""

from __future__ import annotations

import os
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from chanrong.demands import services as demands
from chanrong.demands.models import Demand
from chanrong.matching import adapter, batch
from chanrong.matching.models import DemandMatch

from .surface_fixtures import demand_data, publish

OPEN_DEMANDS = 300  # > one block of 256 rows


@pytest.fixture
def open_demands(world):
    bank, bank2 = world.user("bank_staff"), world.user("bank2_staff")
    publish(bank, name="善企信用贷")
    publish(bank, name="善企快贷", amount_max_wan=300, rate_min="4.2")
    publish(bank, name="善企微贷", amount_max_wan=50)
    publish(bank2, name="工行经营快贷", amount_max_wan=1000)
    owner = world.user("ent_user")
    first = demands.publish_demand(owner, demands.create_demand(owner, demand_data()))
    fields = [f for f in Demand._meta.concrete_fields if not f.primary_key]
    copies = []
    for i in range(OPEN_DEMANDS - 1):
        copy = Demand(**{f.attname: getattr(first, f.attname) for f in fields})
        copy.amount = Decimal(10_000 * (1 + i % 150))  # 1 万 to 150 万: rankings differ
        copies.append(copy)
    Demand.objects.bulk_create(copies)
    adapter.clear_cache()
    yield
    adapter.clear_cache()


def stored() -> list[tuple]:
    return sorted(
        DemandMatch.objects.values_list(
            "demand_id", "rank", "product_id", "institution_id", "score"
        )
    )


def test_two_worker_processes_store_what_one_process_stores(open_demands, monkeypatch):
    call_command("matching_rematch", "--all", "--workers", "1", stdout=StringIO())
    one = stored()
    assert len({row[0] for row in one}) > 256  # matches in both blocks
    DemandMatch.objects.all().delete()

    def forbidden(*args, **kwargs):
        raise AssertionError("called in the parent process")

    monkeypatch.setattr(os, "fork", forbidden)
    monkeypatch.setattr(batch, "rank_rows", forbidden)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, name="another thread", daemon=True)
    other.start()
    out = StringIO()
    try:
        call_command("matching_rematch", "--all", "--workers", "2", stdout=out)
    finally:
        stop.set()
        other.join()
    assert f"re-matched {OPEN_DEMANDS}" in out.getvalue()
    assert stored() == one
