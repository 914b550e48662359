"""A loan's green category against the loaded 绿色产业指导目录: a code of the
right form that no loaded edition has is a field error (service, API, the
loan page's 绿色贷款 form, the import by row and column), nothing written;
codes of every level of the 2019 edition pass; with no edition loaded (no
provider) only the form is checked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chanrong.core.errors import ValidationFailed
from chanrong.finance import green_catalogue
from chanrong.green.models import CatalogueEdition
from chanrong.green.services import catalogue
from chanrong.risk.models import LoanAccount
from chanrong.risk.services import pledges
from tests.risk.conftest import reported


@pytest.fixture(autouse=True)
def edition_2019(db):
    """Loaded by the migration; again if a transactional test flushed it."""
    if not CatalogueEdition.objects.filter(code="2019").exists():
        catalogue.load_edition()


def _check(code: str) -> list:
    errors: list = []
    pledges.parse_green_category({"green_category": code}, errors)
    return errors


def test_codes_of_the_loaded_edition_pass_others_are_field_errors():
    for code in ("3", "3.2", "3.2.6", "3.2.10", "5.2.5", "6.5.8"):
        assert _check(code) == [], code
    for code in ("3.2.11", "6.6", "4.2.6", "1.1.16"):
        (error,) = _check(code)
        assert error.field == "green_category"
        assert code in error.message


def test_without_an_edition_only_the_form_is_checked(monkeypatch):
    monkeypatch.setattr(green_catalogue, "_provider", None)
    assert _check("6.6") == []
    assert len(_check("7.1")) == 1


def test_service_refuses_an_unknown_category_and_writes_nothing(world):
    with pytest.raises(ValidationFailed) as exc:
        reported(world, green_category="3.2.11")
    assert {e.field for e in exc.value.errors} == {"green_category"}
    assert not LoanAccount.objects.exists()
    loan = reported(world, green_category="3.2.6")
    assert loan.green_category == "3.2.6"


def test_api_and_page_name_the_field(world):
    loan = reported(world)
    bank = Client()
    bank.force_login(world.user("bank_staff"))
    url = f"/api/v1/risk/loans/{loan.pk}/green"
    bad = bank.post(url, {"green_category": "6.6"}, content_type="application/json")
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["green_category"]
    response = bank.post(f"/risk/loans/{loan.pk}/green/", {"green_category": "6.6"})
    assert response.status_code == 422 and "green-green_category-error" in response.text
    assert "绿色产业指导目录中没有类别 6.6" in response.text
    loan.refresh_from_db()
    assert loan.green_category == ""


def test_import_names_the_row_and_column(world):
    from chanrong.core.importing.services import create_job
    from tests.imports.conftest import xlsx

    today = timezone.localdate()
    start, end = today - timedelta(days=30), today + timedelta(days=335)
    header = [
        "借款企业统一社会信用代码", "借款合同编号", "贷款金额（万元）", "放款日期", "到期日期",
        "绿色产业指导目录类别",
    ]  # fmt: skip
    good = [world.ent.uscc, "IMP-C1", 100, start, end, "5.2.2"]
    unknown = [world.ent.uscc, "IMP-C2", 100, start, end, "5.2.11"]
    bank = world.user("bank_staff")
    job = create_job(bank, "risk_loans", filename="c.xlsx", data=xlsx([header, good, unknown]))
    assert job.status == "rejected"
    assert {(i["row"], i["column"]) for i in job.issues if i["level"] == "error"} == {(3, "F")}
    assert not LoanAccount.objects.exists()
    job = create_job(bank, "risk_loans", filename="c.xlsx", data=xlsx([header, good]))
    assert job.status == "done", job.issues
    assert LoanAccount.objects.get().green_category == "5.2.2"
