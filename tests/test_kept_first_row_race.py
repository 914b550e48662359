"""Two requests to refresh kept figures on a database that has no snapshot
row yet: the second waits on the first's uncommitted row and then uses it,
instead of failing on the unique key. Both kinds of kept figures
(`core.kept`): risk's group sums (one row, key "all"), insights' figures
(one row per plan region), 风险监测's and the 督办看板's figures kept per
scope (one row, key "all").

The first request is played by a connection that creates the row and holds
its transaction open; the service call in a second thread must be seen
waiting on a lock before that transaction commits, so the race is exercised
every time rather than by luck."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from chanrong.core.models import AuditEntry, Region
from chanrong.demands import stats_kept
from chanrong.demands.models import SupervisionSnapshot
from chanrong.insights.models import FigureSnapshot
from chanrong.insights.services import snapshots
from chanrong.risk.models import BookSnapshot, GroupSplitSnapshot
from chanrong.risk.services import book_kept, group_sums
from tests.conftest import JIASHAN

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres("a unique index and row locks seen from two connections"),
]


def _waiting_on_a_lock(limit: float = 60.0) -> bool:
    """True once another connection waits on a lock (polls pg_locks)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


def _race(create_first_row, ask) -> dict:
    created, release = threading.Event(), threading.Event()
    answer: dict = {}

    def first() -> None:
        try:
            with transaction.atomic():
                create_first_row()
                created.set()
                release.wait(120)
        finally:
            connection.close()

    def second() -> None:
        try:
            answer["value"] = ask()
        except Exception as exc:  # noqa: BLE001 (the test reports what went wrong)
            answer["error"] = exc
        finally:
            connection.close()

    holder = threading.Thread(target=first)
    holder.start()
    assert created.wait(60)
    asker = threading.Thread(target=second)
    asker.start()
    try:
        answer["waited"] = _waiting_on_a_lock()
    finally:
        release.set()
        holder.join()
        asker.join()
    return answer


def test_group_sums_request_waits_for_the_row_being_created(world):
    gov = world.user("gov_jiashan")
    answer = _race(
        lambda: GroupSplitSnapshot.objects.create(key=group_sums.KEY),
        lambda: group_sums.request_refresh(gov),
    )
    assert answer == {"waited": True, "value": True}
    snapshot = GroupSplitSnapshot.objects.get()
    assert snapshot.requested_by == gov
    assert AuditEntry.objects.filter(action="risk.group_sums.request").count() == 1


def test_figures_request_waits_for_the_row_being_created(world):
    gov = world.user("gov_jiashan")
    region = Region.objects.get(code=JIASHAN)
    answer = _race(
        lambda: FigureSnapshot.objects.create(region_prefix=region.prefix),
        lambda: snapshots.request_refresh(gov, [region]),
    )
    assert answer == {"waited": True, "value": [region.prefix]}
    snapshot = FigureSnapshot.objects.get()
    assert snapshot.requested_by == gov
    assert AuditEntry.objects.filter(action="insights.snapshot.request").count() == 1


@pytest.mark.parametrize(
    "model, service, action",
    [
        (BookSnapshot, book_kept, "risk.book_figures.request"),
        (SupervisionSnapshot, stats_kept, "demands.supervision_stats.request"),
    ],
    ids=["risk_book_figures", "supervision_stats"],
)
def test_per_scope_kinds_wait_for_the_row_being_created(world, model, service, action):
    """The kinds kept per scope ask through `core.kept.request_on` as well."""
    gov = world.user("gov_zhejiang")
    answer = _race(
        lambda: model.objects.create(key=service.KEY),
        lambda: service.request_refresh(gov),
    )
    assert answer == {"waited": True, "value": True}
    assert model.objects.get().requested_by == gov
    assert AuditEntry.objects.filter(action=action).count() == 1
