"""The loan book by file: a bank imports its off-platform loans and its status
reports (.xlsx or .csv) through the import framework — errors by row and
column, all or nothing, another bank's loan a row error (never a 500), one
warning evaluation for the whole file; the template and the page's links."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from chanrong.core.importing.services import create_job
from chanrong.risk.models import Alert, LoanAccount, LoanEvent
from chanrong.risk.services import warnings
from tests.imports.conftest import csv_bytes, xlsx

from .conftest import reported

pytestmark = pytest.mark.django_db

LOAN_HEADER = [
    "借款企业统一社会信用代码",
    "借款企业名称",
    "借款合同编号",
    "贷款金额（万元）",
    "年利率",
    "放款日期",
    "到期日期",
]
STATUS_HEADER = [
    "借款合同编号",
    "报送日期",
    "五级分类",
    "逾期天数",
    "逾期金额（元）",
    "贷款余额（元）",
]


def _errors(job):
    return {(i["row"], i["column"]) for i in job.issues if i["level"] == "error"}


def test_loans_import_all_or_nothing(world):
    bank = world.user("bank_staff")
    today = timezone.localdate()
    start, end = today - timedelta(days=100), today + timedelta(days=265)
    good = [world.ent.uscc, world.ent.name, "JS-IMP-1", 100, "3.85%", start, end]
    rows = [
        LOAN_HEADER,
        good,
        [world.ent2.uscc, "别的公司", "JS-IMP-2", 50, None, start, end],  # name mismatch
        [world.ent.uscc, None, "JS-IMP-3", -5, None, start, end],  # negative amount
        [world.ent.uscc, None, "JS-IMP-4", 10, None, end, start],  # matures before it starts
        [world.ent.uscc, None, "JS-IMP-1", 10, None, start, end],  # repeats row 2
    ]
    job = create_job(bank, "risk_loans", filename="loans.xlsx", data=xlsx(rows))
    assert job.status == "rejected"
    assert _errors(job) == {(2, "C"), (3, "B"), (4, "D"), (5, "F"), (5, "G"), (6, "C")}
    assert not LoanAccount.objects.exists()
    job = create_job(bank, "risk_loans", filename="loans.xlsx", data=xlsx([LOAN_HEADER, good]))
    assert (job.status, job.created_count) == ("done", 1), job.issues
    loan = LoanAccount.objects.get()
    assert (loan.principal, loan.institution_id, loan.rate) == (
        1_000_000,
        world.bank.pk,
        Decimal("3.85"),
    )
    # The same file again: the contract number is taken — a row error, nothing doubled.
    again = create_job(bank, "risk_loans", filename="loans.xlsx", data=xlsx([LOAN_HEADER, good]))
    assert again.status == "rejected" and _errors(again) == {(2, "C")}
    assert LoanAccount.objects.count() == 1


def test_status_import_own_loans_only_and_one_evaluation(world, django_capture_on_commit_callbacks):
    mine = reported(world)
    theirs = reported(world, user="bank2_staff", contract_no="ICBC-1")
    warnings.create_rule(
        world.user("gov_jiashan"),
        {"name": "逾期", "kind": "overdue", "severity": "red", "params": {"days": 30}},
    )
    as_of = timezone.localdate().isoformat()
    bank = world.user("bank_staff")
    rows = [
        STATUS_HEADER,
        [mine.contract_no, as_of, "关注", 45, "20000", "1000000"],
        ["ICBC-1", as_of, "正常", 0, None, None],  # another bank's loan
        [mine.contract_no, "2999-01-01", "正常", 0, None, "999"],  # future date, wrong balance
    ]
    job = create_job(bank, "risk_loan_status", filename="s.csv", data=csv_bytes(rows))
    assert job.status == "rejected"
    assert _errors(job) == {(3, "A"), (4, "B"), (4, "F")}
    assert not LoanEvent.objects.filter(kind="status").exists()
    with django_capture_on_commit_callbacks(execute=True):
        job = create_job(bank, "risk_loan_status", filename="s.csv", data=csv_bytes(rows[:2]))
    assert job.status == "done", job.issues
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.classification, mine.days_overdue, mine.overdue_amount) == (
        "special_mention",
        45,
        20000,
    )
    assert theirs.classification == "normal"
    assert Alert.objects.filter(enterprise=world.ent).count() == 1
    # The other bank may not even name it: its own file names ICBC-1 only.
    job = create_job(
        world.user("bank2_staff"),
        "risk_loan_status",
        filename="s.csv",
        data=csv_bytes([STATUS_HEADER, [mine.contract_no, as_of, "正常", 0, None, None]]),
    )
    assert job.status == "rejected" and _errors(job) == {(2, "A")}


def test_pages_template_and_who_may_import(world):
    client = Client()
    client.force_login(world.user("bank_staff"))
    page = client.get("/risk/loans/").content.decode()
    assert "kind=risk_loans" in page and "kind=risk_loan_status" in page
    for kind in ("risk_loans", "risk_loan_status"):
        response = client.get(f"/imports/templates/{kind}/")
        assert response.status_code == 200
    assert "risk_loans" in client.get("/imports/new/?kind=risk_loans").content.decode()
    client.force_login(world.user("gov_jiashan"))
    assert "kind=risk_loans" not in client.get("/risk/loans/").content.decode()
    assert client.get("/imports/templates/risk_loans/").status_code == 403
    client.force_login(world.user("ent_user"))
    assert client.get("/imports/templates/risk_loan_status/").status_code == 403


def test_a_bank_uploads_on_the_page_and_sees_its_job(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    today = timezone.localdate()
    rows = [
        LOAN_HEADER,
        [
            world.ent.uscc,
            None,
            "JS-WEB-1",
            80,
            None,
            today - timedelta(days=30),
            today + timedelta(days=335),
        ],
    ]
    client = Client()
    client.force_login(world.user("bank_staff"))
    response = client.post(
        "/imports/new/",
        {"kind": "risk_loans", "mode": "all", "file": SimpleUploadedFile("loans.xlsx", xlsx(rows))},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert LoanAccount.objects.get().contract_no == "JS-WEB-1"
    client.force_login(world.user("bank2_staff"))
    assert client.get(response["Location"]).status_code == 404
