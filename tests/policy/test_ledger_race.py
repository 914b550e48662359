"""The budget ledger under 200 concurrent approvals on PostgreSQL, each on its
own real connection: exactly as many succeed as fit the appropriation and
the enterprises' annual caps, the rest get 409 and nothing is written for
them. (SQLite serialises every writer on the whole file: nothing to race.)

Every application asks for the same 1,000.00 元 (360,000 × 1 % × 100 days
÷ 360); the annual cap per enterprise is 2,000.00, so an enterprise's third
application would get nothing. 40 enterprises hold 4 verified applications
each and 40 hold one: the caps let 40 × 2 + 40 = 120 through, the budget
decides the rest.

The calls run on CONNECTIONS threads, each with its own connection, released
together by a barrier and each taking its share of the 200 in turn: the
shared PostgreSQL allows 100 connections in all, and other test runs use
some of them.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from chanrong.accounts.services import create_token
from chanrong.core.errors import Conflict
from chanrong.core.models import AuditEntry
from chanrong.finance.models import FinancialInstitution
from chanrong.policy import services
from chanrong.policy.models import (
    Application,
    ApplicationState,
    BudgetYear,
    EnterpriseYear,
    LedgerEntry,
    LedgerKind,
    Loan,
    LoanSource,
)
from tests.conftest import JIASHAN, _enterprise

from .conftest import make_programme

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres("real row locks and concurrent connections"),
    pytest.mark.many_connections,
]

CONNECTIONS = 40
#: Django's live server queues 10 pending connections (WSGIServer.request_queue_size);
#: on a loaded CI machine 10 clients saw connections reset before they reached
#: it, so the HTTP race keeps well under the queue.
HTTP_CLIENTS = 5
AMOUNT = Decimal("1000.00")
CAP = 2 * AMOUNT
PARAMS = {
    "method": "fixed",
    "rate": "1.0",
    "day_count": "act360",
    "cap_per_enterprise_year": str(CAP),
}
PERIOD = (date(2026, 3, 1), date(2026, 6, 8))  # 100 days
DECIDED_ON = date(2026, 7, 6)


def verified_applications(pw, programme, *, many: int = 40, single: int = 40) -> list:
    """`many` enterprises with 4 verified applications, `single` with one, each
    on its own loan, as 初审 (经信局) left them: 4 × 40 + 40 = 200."""
    bank: FinancialInstitution = pw.world.bank
    verifier = pw.user("gov_jiashan")
    apps = []
    serial = 0
    for i in range(many + single):
        enterprise = _enterprise(f"并发企业{i:03d}有限公司", JIASHAN, "C34", 500 + i)
        for _ in range(4 if i < many else 1):
            serial += 1
            loan = Loan.objects.create(
                enterprise=enterprise,
                institution=bank,
                source=LoanSource.OFF_PLATFORM,
                contract_no=f"RACE-{serial:04d}",
                principal=Decimal("360000"),
                rate=Decimal("3.45"),
                loan_date=date(2026, 1, 10),
                maturity_date=date(2027, 1, 10),
            )
            apps.append(
                Application(
                    programme=programme,
                    enterprise=enterprise,
                    institution=bank,
                    loan=loan,
                    year=2026,
                    period_start=PERIOD[0],
                    period_end=PERIOD[1],
                    paid_cost=Decimal("5000"),
                    amount=AMOUNT,
                    state=ApplicationState.VERIFIED,
                    verified_by=verifier,
                )
            )
    Application.objects.bulk_create(apps)
    return list(Application.objects.filter(programme=programme).order_by("pk"))


def race(calls, connections: int = CONNECTIONS) -> list:
    """Run every call on `connections` threads released together; each thread
    takes the next call until none is left, on its own connection. Returns
    each call's result or the exception it raised."""
    outcomes: list = [None] * len(calls)
    lock = threading.Lock()
    queue = list(enumerate(calls))
    barrier = threading.Barrier(connections)

    def worker():
        try:
            barrier.wait(timeout=60)
            while True:
                with lock:
                    if not queue:
                        return
                    index, call = queue.pop(0)
                try:
                    outcomes[index] = call()
                except Exception as exc:  # noqa: BLE001 - the outcome is what we check
                    outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def check_ledger(programme, apps, approved_ids: set[int], appropriation: Decimal) -> None:
    """What must hold after the race, read back from the database."""
    budget = BudgetYear.objects.get(programme=programme, year=2026)
    approved = Application.objects.filter(pk__in=approved_ids)
    assert approved.count() == len(approved_ids)
    assert set(approved.values_list("state", flat=True)) == {ApplicationState.NOTICE}
    total = approved.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    assert budget.committed == total == AMOUNT * len(approved_ids)
    assert budget.committed + budget.paid <= budget.appropriation == appropriation
    # Nothing written for the refused: still verified, no ledger entry, no audit of approval.
    refused = Application.objects.filter(programme=programme).exclude(pk__in=approved_ids)
    assert refused.count() == len(apps) - len(approved_ids)
    assert set(refused.values_list("state", flat=True)) == {ApplicationState.VERIFIED}
    assert not refused.exclude(amount=AMOUNT).exists()
    assert not refused.filter(approved_by__isnull=False).exists()
    assert not LedgerEntry.objects.filter(application__in=refused).exists()
    commits = LedgerEntry.objects.filter(budget=budget, kind=LedgerKind.COMMIT)
    assert set(commits.values_list("application_id", flat=True)) == approved_ids
    assert commits.count() == len(approved_ids)
    approvals = AuditEntry.objects.filter(action="policy.application.approve")
    assert {int(x) for x in approvals.values_list("object_id", flat=True)} == approved_ids
    # Every enterprise within its cap, its holding equal to what it was granted.
    granted = {
        row["enterprise_id"]: row["s"]
        for row in approved.values("enterprise_id").annotate(s=Sum("amount"))
    }
    for holding in EnterpriseYear.objects.filter(programme=programme, year=2026):
        assert holding.committed <= CAP
        assert holding.committed == granted.get(holding.enterprise_id, Decimal(0))


def _split(outcomes):
    approved = [o for o in outcomes if isinstance(o, Application)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    others = [o for o in outcomes if not isinstance(o, Application | Conflict)]
    assert not others, others[:3]  # no check-constraint violation, no deadlock, no 500
    return approved, refused


def test_budget_for_100_of_200_concurrent_approvals(policy_world):
    pw = policy_world
    appropriation = 100 * AMOUNT
    programme = make_programme(
        pw, params=PARAMS, appropriation=appropriation, requires_bank_confirmation=False
    )
    apps = verified_applications(pw, programme)
    assert len(apps) == 200
    approver = pw.user("fin_admin")
    outcomes = race([lambda a=a: services.approve(approver, a, today=DECIDED_ON) for a in apps])
    approved, refused = _split(outcomes)
    assert len(approved) == 100 and len(refused) == 100
    assert all(r.status == 409 for r in refused)
    assert {r.code for r in refused} <= {"budget_exhausted", "cap_reached"}
    assert "budget_exhausted" in {r.code for r in refused}
    check_ledger(programme, apps, {a.pk for a in approved}, appropriation)


def test_enterprise_caps_under_200_concurrent_approvals(policy_world):
    """The budget has room for all; the annual caps let exactly 120 through:
    two of each four-application enterprise, every single one."""
    pw = policy_world
    appropriation = 1000 * AMOUNT
    programme = make_programme(
        pw, params=PARAMS, appropriation=appropriation, requires_bank_confirmation=False
    )
    apps = verified_applications(pw, programme)
    approver = pw.user("fin_staff")
    outcomes = race([lambda a=a: services.approve(approver, a, today=DECIDED_ON) for a in apps])
    approved, refused = _split(outcomes)
    assert len(approved) == 120 and len(refused) == 80
    assert {r.code for r in refused} == {"cap_reached"}
    per_enterprise: dict[int, int] = {}
    for app in approved:
        per_enterprise[app.enterprise_id] = per_enterprise.get(app.enterprise_id, 0) + 1
    assert len(per_enterprise) == 80 and set(per_enterprise.values()) <= {1, 2}
    assert sum(per_enterprise.values()) == 120
    check_ledger(programme, apps, {a.pk for a in approved}, appropriation)


def test_200_concurrent_approvals_over_http(policy_world, live_server):
    """The same race through POST /api/v1/policy/applications/{id}/approve
    from HTTP_CLIENTS clients at once, each request on the live server's own
    thread and connection: 200 for those that fit, 409 with the error shape
    for the others."""
    pw = policy_world
    appropriation = 100 * AMOUNT
    programme = make_programme(
        pw, params=PARAMS, appropriation=appropriation, requires_bank_confirmation=False
    )
    apps = verified_applications(pw, programme)
    token = create_token(None, pw.user("fin_admin"), "race").raw
    connection.close()  # the live server's threads and ours: keep the count low

    def post(app_id: int):
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/policy/applications/{app_id}/approve",
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            data=b"{}",
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    # Django's live server accepts 10 pending connections (its listen queue);
    # more at once are reset before they reach it.
    outcomes = race([lambda i=a.pk: post(i) for a in apps], connections=HTTP_CLIENTS)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes[:3]
    statuses = [status for status, _body in outcomes]
    assert statuses.count(200) == 100 and statuses.count(409) == 100, sorted(set(statuses))
    refusals = [body for status, body in outcomes if status == 409]
    assert all(b["code"] in ("budget_exhausted", "cap_reached") and b["message"] for b in refusals)
    approved_ids = {body["id"] for status, body in outcomes if status == 200}
    check_ledger(programme, apps, approved_ids, appropriation)
