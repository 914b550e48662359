"""The loan book over the API as a bank's own system uses it: report loans
one by one and in bulk, a schedule, repayments, status; another bank gets
404, the borrower and the agency read but may not write (403), bad reports
are 422 by field and write nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chanrong.accounts.services import create_token
from chanrong.risk.models import LoanAccount, LoanEvent, LoanStatus

pytestmark = pytest.mark.django_db

API = "/api/v1/risk"


class Caller:
    def __init__(self, user):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {create_token(None, user, 'test').raw}"}

    def get(self, path: str, params=None):
        return self.client.get(API + path, query_params=params, headers=self.headers)

    def post(self, path: str, data):
        return self.client.post(
            API + path, data, content_type="application/json", headers=self.headers
        )

    def put(self, path: str, data):
        return self.client.put(
            API + path, data, content_type="application/json", headers=self.headers
        )


def loan_body(world, **fields):
    today = timezone.localdate()
    return {
        "uscc": world.ent.uscc,
        "contract_no": "JS-API-1",
        "principal": "1000000.00",
        "rate": "3.85",
        "disbursed_on": (today - timedelta(days=200)).isoformat(),
        "maturity_on": (today + timedelta(days=165)).isoformat(),
        **fields,
    }


def error_fields(response) -> set[str]:
    body = response.json()
    assert set(body) == {"code", "message", "errors"}
    return {e["field"] for e in body["errors"]}


def test_a_bank_reports_and_follows_its_loan(world):
    bank = Caller(world.user("bank_staff"))
    created = bank.post("/loans", loan_body(world))
    assert created.status_code == 201, created.content
    loan = created.json()
    assert loan["principal"] == "1000000.00" and loan["status"] == "active"
    assert loan["enterprise_uscc"] == world.ent.uscc
    path = f"/loans/{loan['id']}"
    maturity = loan["maturity_on"]
    schedule = bank.put(
        f"{path}/schedule", {"items": [{"due_on": maturity, "principal_due": "1000000"}]}
    )
    assert schedule.status_code == 200 and schedule.json()[0]["principal_due"] == "1000000.00"
    today = timezone.localdate().isoformat()
    status = bank.post(
        f"{path}/status",
        {
            "as_of": today,
            "classification": "special_mention",
            "days_overdue": 35,
            "overdue_amount": "50000",
        },
    )
    assert status.status_code == 200 and status.json()["classification"] == "special_mention"
    paid = bank.post(
        f"{path}/repayments", {"paid_on": today, "principal": "1000000", "interest": "2000"}
    )
    assert paid.status_code == 201
    assert bank.get(path).json()["status"] == LoanStatus.SETTLED
    events = bank.get(f"{path}/events").json()
    assert [e["kind"] for e in events["results"]] == [
        "opened",
        "schedule",
        "status",
        "repayment",
        "settled",
    ]


def test_bulk_report_is_all_or_nothing_with_row_errors(world):
    bank = Caller(world.user("bank_staff"))
    rows = [
        loan_body(world, contract_no="B-1"),
        loan_body(world, contract_no="B-2", principal="-3"),
        loan_body(world, contract_no="B-3", uscc="91330421MA0000000X"),
    ]
    refused = bank.post("/loans/bulk", {"rows": rows})
    assert refused.status_code == 422
    assert error_fields(refused) == {"rows.1.principal"}  # the schema refuses it first
    assert not LoanAccount.objects.exists()
    # Schema-valid rows that the service refuses are named by row as well.
    refused = bank.post("/loans/bulk", {"rows": [rows[0], rows[2]]})
    assert refused.status_code == 422 and error_fields(refused) == {"rows.1.uscc"}
    assert not LoanAccount.objects.exists()
    done = bank.post("/loans/bulk", {"rows": [rows[0], loan_body(world, contract_no="B-4")]})
    assert done.status_code == 201 and done.json()["created"] == 2
    assert bank.post("/loans", loan_body(world, contract_no="B-1")).status_code == 409


def test_impossible_reports_are_field_errors(world):
    bank = Caller(world.user("bank_staff"))
    loan = bank.post("/loans", loan_body(world)).json()
    path = f"/loans/{loan['id']}"
    today = timezone.localdate().isoformat()
    too_much = bank.post(f"{path}/repayments", {"paid_on": today, "principal": "1000000.01"})
    assert too_much.status_code == 422 and error_fields(too_much) == {"principal"}
    short = bank.put(
        f"{path}/schedule", {"items": [{"due_on": loan["maturity_on"], "principal_due": "10"}]}
    )
    assert short.status_code == 422 and error_fields(short) == {"items"}
    negative = bank.put(
        f"{path}/schedule", {"items": [{"due_on": loan["maturity_on"], "principal_due": "-1"}]}
    )
    assert negative.status_code == 422
    backwards = bank.post("/loans", loan_body(world, contract_no="X", maturity_on="2001-01-01"))
    assert backwards.status_code == 422 and error_fields(backwards) == {"maturity_on"}
    assert LoanEvent.objects.filter(loan_id=loan["id"]).count() == 1  # only "opened"


def test_other_banks_get_404_and_readers_may_not_write(world):
    loan = Caller(world.user("bank_staff")).post("/loans", loan_body(world)).json()
    path = f"/loans/{loan['id']}"
    today = timezone.localdate().isoformat()
    status = {"as_of": today, "classification": "loss"}
    other = Caller(world.user("bank2_staff"))
    assert other.get(path).status_code == 404
    assert other.post(f"{path}/status", status).status_code == 404
    assert other.get("/loans").json()["count"] == 0
    for reader in ("ent_user", "gov_jiashan"):
        caller = Caller(world.user(reader))
        assert caller.get(path).status_code == 200
        assert caller.post(f"{path}/status", status).status_code == 403
        assert caller.post("/loans", loan_body(world, contract_no="E-1")).status_code == 403
    assert Caller(world.user("gov_jiangsu")).get(path).status_code == 404
    assert Caller(world.user("ent2_user")).get(path).status_code == 404
    assert Client().get(API + path).status_code == 401
    assert LoanAccount.objects.get().classification == "normal"


def test_filters(world):
    bank = Caller(world.user("bank_staff"))
    first = bank.post("/loans", loan_body(world, contract_no="F-1")).json()
    bank.post("/loans", loan_body(world, contract_no="F-2", uscc=world.ent2.uscc))
    today = timezone.localdate().isoformat()
    bank.post(
        f"/loans/{first['id']}/status",
        {
            "as_of": today,
            "classification": "substandard",
            "days_overdue": 95,
            "overdue_amount": "1000",
        },
    )
    assert [
        r["contract_no"] for r in bank.get("/loans", {"non_performing": "true"}).json()["results"]
    ] == ["F-1"]
    assert [
        r["contract_no"] for r in bank.get("/loans", {"non_performing": "false"}).json()["results"]
    ] == ["F-2"]
    assert bank.get("/loans", {"uscc": world.ent2.uscc}).json()["count"] == 1
    assert bank.get("/loans", {"classification": "doubtful"}).json()["count"] == 0
    assert bank.get("/loans", {"status": "nonsense"}).status_code == 422
