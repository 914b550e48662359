"""The paid-in ceiling under real concurrency: threads released together,
each on its own PostgreSQL connection, all recording investments into one
fund; the fund's row lock lets exactly as many through as the paid-in size
holds. (SQLite serialises every writer, so it cannot show the race.)"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from chanrong.core.errors import ValidationFailed
from chanrong.funds.models import FundInvestment
from chanrong.funds.services import funds as fund_service

from .conftest import TODAY, fund_data, invest

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres("real row locks and concurrent connections"),
]

THREADS = 8


def test_concurrent_investments_never_exceed_paid_in(world, fund_co):
    actor = world.user("fund_staff")
    # 100 million paid in; eight attempts of 30 million: three fit.
    fund = fund_service.create_fund(actor, fund_data(fund_co), today=TODAY)
    barrier = threading.Barrier(THREADS)
    outcomes: list = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=60)
            try:
                result = invest(actor, fund, world.ent, "30000000")
            except Exception as exc:  # noqa: BLE001 - the outcome is what we check
                result = exc
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = [o for o in outcomes if isinstance(o, FundInvestment)]
    refused = [o for o in outcomes if isinstance(o, ValidationFailed)]
    assert len(made) == 3 and len(refused) == THREADS - 3, outcomes
    assert all(e.errors[0].field == "amount" for e in refused)
    total = sum(i.amount for i in FundInvestment.objects.filter(fund=fund))
    assert total == Decimal("90000000.00")
