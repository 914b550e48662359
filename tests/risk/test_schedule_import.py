"""Schedules and repayments by file: a loan's rows replace its schedule as
set_schedule does (the instalments must add up to the principal), repayments
are recorded row by row as record_repayment does (never above the balance),
errors by row and column, all or nothing, another bank's loan a row error."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from chanrong.core.importing.services import create_job
from chanrong.risk.models import LoanStatus, Repayment
from chanrong.risk.services import repayments
from tests.imports.conftest import csv_bytes, xlsx

from .conftest import reported
from .test_loan_import import _errors

pytestmark = pytest.mark.django_db

SCHEDULE_HEADER = ["借款合同编号", "应还日期", "应还本金（元）", "应还利息（元）"]
REPAYMENT_HEADER = ["借款合同编号", "还款日期", "归还本金（元）", "归还利息（元）", "还款流水号"]


def _messages(job):
    return {(i["row"], i["column"]): i["message"] for i in job.issues if i["level"] == "error"}


def test_schedule_import_replaces_each_loans_schedule(world):

    mine = reported(world)
    reported(world, user="bank2_staff", contract_no="ICBC-1")
    bank = world.user("bank_staff")
    end = mine.maturity_on
    mid = mine.disbursed_on + (end - mine.disbursed_on) / 2
    repayments.set_schedule(bank, mine, [{"due_on": end, "principal_due": "1000000"}])
    no = mine.contract_no
    bad = [
        SCHEDULE_HEADER,
        [no, mid, 400000, 5000],
        [no, end + timedelta(days=1), 600000, 0],  # after maturity
        ["ICBC-1", mid, 100, 0],  # another bank's loan
        [no, mid - timedelta(days=1), -1, None],  # negative
    ]
    job = create_job(bank, "risk_schedule", filename="s.xlsx", data=xlsx(bad))
    assert job.status == "rejected"
    assert _errors(job) == {(3, "B"), (4, "A"), (5, "C")}
    assert _messages(job)[(4, "A")] == "贷款不存在或不属于本机构"
    # The rows check one by one, but together they miss 100,000 元: the loan's last row says so.
    short = [SCHEDULE_HEADER, [no, mid, 400000, 5000], [no, end, 500000, 3000]]
    job = create_job(bank, "risk_schedule", filename="s.csv", data=csv_bytes(short))
    assert job.status == "rejected" and _errors(job) == {(3, "C")}
    assert "应等于贷款金额" in _messages(job)[(3, "C")]
    assert list(mine.schedule.values_list("due_on", flat=True)) == [end]
    good = [SCHEDULE_HEADER, [no, end, "60万元", 3000], [no, mid, 400000, 5000]]
    job = create_job(bank, "risk_schedule", filename="s.xlsx", data=xlsx(good))
    assert (job.status, job.created_count) == ("done", 2), job.issues
    assert list(mine.schedule.values_list("due_on", "principal_due", "interest_due")) == [
        (mid, Decimal("400000"), Decimal("5000")),
        (end, Decimal("600000"), Decimal("3000")),
    ]


def test_schedule_valid_rows_only_leaves_a_loan_with_a_bad_row_alone(world):

    mine, other = reported(world), reported(world, contract_no="JS-2026-0002")
    end = mine.maturity_on
    rows = [
        SCHEDULE_HEADER,
        [mine.contract_no, end, 1000000, 0],
        [mine.contract_no, end + timedelta(days=9), 0, 0],  # bad: this loan is left alone
        [other.contract_no, end, 1000000, 0],
    ]
    job = create_job(
        world.user("bank_staff"),
        "risk_schedule",
        filename="s.xlsx",
        data=xlsx(rows),
        mode="valid_only",
    )
    assert job.status == "done" and job.created_count == 1, job.issues
    assert _errors(job) == {(2, "A"), (3, "B")}
    assert not mine.schedule.exists() and other.schedule.count() == 1


def test_repayments_import_row_by_row_within_the_balance(world):

    mine = reported(world)
    reported(world, user="bank2_staff", contract_no="ICBC-1")
    bank = world.user("bank_staff")
    today, no = timezone.localdate(), mine.contract_no
    first = [no, today, 400000, 3000, "R1"]
    bad = [
        REPAYMENT_HEADER,
        first,
        ["ICBC-1", today, 1, 0, "R3"],  # another bank's loan
        [no, mine.disbursed_on - timedelta(days=1), 0, 0, "R4"],  # before disbursement, nothing
        [no, today, 1, 0, "R1"],  # repeats row 2's reference
    ]
    job = create_job(bank, "risk_repayments", filename="r.csv", data=csv_bytes(bad))
    assert job.status == "rejected"
    assert _errors(job) == {(2, "A"), (3, "A"), (4, "B"), (4, "C"), (5, "A")}
    # Each row alone is within the balance; the second is not after the first.
    over = [REPAYMENT_HEADER, first, [no, today, 700000, 0, "R2"]]
    job = create_job(bank, "risk_repayments", filename="r.xlsx", data=xlsx(over))
    assert job.status == "rejected" and _errors(job) == {(3, "C")}
    assert not Repayment.objects.exists()
    settle = [REPAYMENT_HEADER, first, [no, today, 600000, 0, None]]
    job = create_job(bank, "risk_repayments", filename="r.xlsx", data=xlsx(settle))
    assert (job.status, job.created_count) == ("done", 2), job.issues
    mine.refresh_from_db()
    assert (mine.status, mine.outstanding) == (LoanStatus.SETTLED, 0)
    assert Repayment.objects.filter(loan=mine).count() == 2
    # A settled loan takes no more repayments.
    job = create_job(bank, "risk_repayments", filename="r.xlsx", data=xlsx(settle[:2]))
    assert job.status == "rejected" and _errors(job) == {(2, "A")}


def test_buttons_and_templates(world):
    client = Client()
    client.force_login(world.user("bank_staff"))
    page = client.get("/risk/loans/").content.decode()
    assert "kind=risk_schedule" in page and "kind=risk_repayments" in page
    for kind, header in (("risk_schedule", SCHEDULE_HEADER), ("risk_repayments", REPAYMENT_HEADER)):
        response = client.get(f"/imports/templates/{kind}/")
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
        texts = [str(c.value or "") for c in sheet[1]]
        assert all(any(h in t for t in texts) for h in header), texts
    client.force_login(world.user("gov_jiashan"))
    assert "kind=risk_schedule" not in client.get("/risk/loans/").content.decode()
    assert client.get("/imports/templates/risk_repayments/").status_code == 403


def test_a_repayment_reported_again_with_its_transaction_number_is_recorded_once(world):
    mine = reported(world)
    bank = world.user("bank_staff")
    today, no = timezone.localdate(), mine.contract_no
    once = [REPAYMENT_HEADER, [no, today, 100000, 500, "HK-1"], [no, today, 0, 300, None]]
    for _ in range(2):  # the same file twice: HK-1 once, the row without a number twice
        job = create_job(bank, "risk_repayments", filename="r.xlsx", data=xlsx(once))
        assert job.status == "done", job.issues
    assert Repayment.objects.filter(loan=mine, reference="HK-1").count() == 1
    assert Repayment.objects.filter(loan=mine, reference="").count() == 2
    mine.refresh_from_db()
    assert mine.outstanding == Decimal("900000.00")
    # The same number with other facts is refused on its cell, nothing written.
    other = [REPAYMENT_HEADER, [no, today, 200000, 0, "HK-1"]]
    job = create_job(bank, "risk_repayments", filename="r.xlsx", data=xlsx(other))
    assert job.status == "rejected" and _errors(job) == {(2, "E")}
    # The API: a retry returns the recorded repayment; other facts are a 422 on the field.
    client = Client()
    client.force_login(bank)
    path = f"/api/v1/risk/loans/{mine.pk}/repayments"
    body = {
        "paid_on": today.isoformat(),
        "principal": "100000",
        "interest": "500",
        "reference": "HK-2",
    }
    first = client.post(path, body, content_type="application/json")
    again = client.post(path, body, content_type="application/json")
    assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert again.json()["reference"] == "HK-2"
    clash = client.post(path, {**body, "principal": "1"}, content_type="application/json")
    assert clash.status_code == 422 and "reference" in clash.content.decode()
    mine.refresh_from_db()
    assert mine.outstanding == Decimal("800000.00")
