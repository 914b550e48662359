"""Green loans and green-rights pledges on the loan book (issue 18): the
registration number's checks, the live-loan rule, renewal carrying the
pledge on, the API and the loan page, and the old 排污权/碳排放权 key's
mapping to the three kinds."""

from __future__ import annotations

from django.apps import apps as django_apps
from django.test import Client
from django.utils import timezone

from chanrong.core.errors import ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.risk.models import GreenPledge, LoanAccount, LoanStatus
from chanrong.risk.services import loanbook, pledges
from tests.risk.conftest import reported

PLEDGE = {
    "kind": "carbon_rights",
    "registration_no": "CEA-ZJ-2025-0001",
    "authority": "浙江省碳排放权登记中心",
}


def _fields(exc) -> set[str]:
    return {e.field for e in exc.errors}


def test_a_loan_carries_its_green_category_and_pledges(world):
    loan = reported(
        world, green_category="3.2.1", pledges=[PLEDGE, {**PLEDGE, "kind": "pollutant_rights"}]
    )
    assert loan.green_category == "3.2.1"
    assert sorted(loan.green_pledges.values_list("kind", flat=True)) == [
        "carbon_rights",
        "pollutant_rights",
    ]
    assert (
        AuditEntry.objects.filter(action="risk.loan.green_pledge", object_id=str(loan.pk)).count()
        == 2
    )


def test_bad_pledges_are_refused_by_field_and_nothing_is_written(world):
    bad = [
        {"kind": "water_rights", "registration_no": "", "authority": ""},
        {**PLEDGE, "registration_no": "X" * 65},
        {**PLEDGE, "registration_no": "CEA 0001;"},
    ]
    try:
        reported(world, green_category="7.1", pledges=bad)
    except ValidationFailed as exc:
        assert _fields(exc) == {
            "green_category",
            "pledges.0.kind",
            "pledges.0.registration_no",
            "pledges.0.authority",
            "pledges.1.registration_no",
            "pledges.2.registration_no",
        }
    else:
        raise AssertionError("accepted")
    assert not LoanAccount.objects.exists() and not GreenPledge.objects.exists()


def test_a_number_secures_one_live_loan_at_a_time(world):
    first = reported(world, pledges=[PLEDGE])
    try:
        reported(world, contract_no="JS-2026-0002", pledges=[PLEDGE])
    except ValidationFailed as exc:
        assert _fields(exc) == {"pledges.0.registration_no"}
    else:
        raise AssertionError("double pledge accepted")
    # the same number under another kind is another registry's number
    reported(world, contract_no="JS-2026-0003", pledges=[{**PLEDGE, "kind": "energy_rights"}])
    # renewal carries the pledge on to the new loan; the old one is no longer live
    today = timezone.localdate()
    new = loanbook.renew(
        world.user("bank_staff"),
        first,
        {
            "contract_no": "JS-2026-0001-R",
            "on": today.isoformat(),
            "maturity_on": today.replace(year=today.year + 1).isoformat(),
        },
    )
    assert list(new.green_pledges.values_list("registration_no", flat=True)) == [
        PLEDGE["registration_no"]
    ]
    # once no live loan holds it, the number is free again
    LoanAccount.objects.filter(pk=new.pk).update(status=LoanStatus.SETTLED)
    reported(world, contract_no="JS-2026-0004", pledges=[PLEDGE])


def test_bulk_rows_naming_one_number_twice(world):
    today = timezone.localdate()
    row = {
        "uscc": world.ent.uscc, "principal": "500000", "disbursed_on": today.isoformat(),
        "maturity_on": today.replace(year=today.year + 1).isoformat(), "pledges": [PLEDGE],
    }  # fmt: skip
    try:
        loanbook.report_loans(
            world.user("bank_staff"), [{**row, "contract_no": "A-1"}, {**row, "contract_no": "A-2"}]
        )
    except ValidationFailed as exc:
        assert _fields(exc) == {"rows.1.pledges.0.registration_no"}
    else:
        raise AssertionError("accepted")
    assert not LoanAccount.objects.exists()


def test_api_and_page(world):
    loan = reported(world)
    bank, other, gov = Client(), Client(), Client()
    bank.force_login(world.user("bank_staff"))
    other.force_login(world.user("bank2_staff"))
    gov.force_login(world.user("gov_jiashan"))
    url = f"/api/v1/risk/loans/{loan.pk}"
    bad = bank.post(
        f"{url}/pledges", {**PLEDGE, "registration_no": ""}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert other.post(f"{url}/pledges", PLEDGE, content_type="application/json").status_code == 404
    assert gov.post(f"{url}/pledges", PLEDGE, content_type="application/json").status_code == 403
    ok = bank.post(f"{url}/pledges", PLEDGE, content_type="application/json")
    assert ok.status_code == 201
    assert ok.json()["pledges"][0]["registration_no"] == PLEDGE["registration_no"]
    assert (
        bank.post(
            f"{url}/green", {"green_category": "1.1"}, content_type="application/json"
        ).json()["green_category"]
        == "1.1"
    )
    # the page: the pledge is shown; a bad category is refused next to the field
    page = gov.get(f"/risk/loans/{loan.pk}/")
    assert page.status_code == 200 and PLEDGE["registration_no"] in page.text
    response = bank.post(f"/risk/loans/{loan.pk}/green/", {"green_category": "abc"})
    assert response.status_code == 422 and "green-green_category-error" in response.text
    response = bank.post(f"/risk/loans/{loan.pk}/pledge/", {**PLEDGE, "kind": "energy_rights"})
    assert response.status_code == 302
    assert loan.green_pledges.count() == 2


def test_old_emission_rights_key_maps_to_the_two_rights(world, bank_products, make_demand):
    from importlib import import_module

    product = bank_products[0]
    product.__class__.objects.filter(pk=product.pk).update(
        collateral_options=["emission_rights", "deposit"], pledge_kind="emission_rights"
    )
    demand = make_demand()
    demand.__class__.objects.filter(pk=demand.pk).update(collateral_offered=["emission_rights"])
    import_module("chanrong.finance.migrations.0006_green_rights_collateral").forwards(
        django_apps, None
    )
    import_module("chanrong.demands.migrations.0004_green_rights_collateral").forwards(
        django_apps, None
    )
    product.refresh_from_db()
    demand.refresh_from_db()
    assert product.collateral_options == ["pollutant_rights", "carbon_rights", "deposit"]
    assert product.pledge_kind == "pollutant_rights"
    assert demand.collateral_offered == ["pollutant_rights", "carbon_rights"]
    pledges.parse_green_category({"green_category": "6.1.2"}, errors := [])
    assert not errors


def test_import_rows_carry_a_pledge_and_name_a_bad_cell(world):
    from datetime import timedelta

    from chanrong.core.importing.services import create_job
    from tests.imports.conftest import xlsx

    today = timezone.localdate()
    start, end = today - timedelta(days=30), today + timedelta(days=335)
    header = [
        "借款企业统一社会信用代码", "借款合同编号", "贷款金额（万元）", "放款日期", "到期日期",
        "绿色产业指导目录类别", "绿色权益质押类型", "质押登记编号", "质押登记机构",
    ]  # fmt: skip
    row = [
        world.ent.uscc,
        "IMP-G1",
        100,
        start,
        end,
        "3.2",
        "排污权",
        "ZJPW2026000001",
        "浙江省排污权储备和交易中心",
    ]
    bad = [
        world.ent.uscc,
        "IMP-G2",
        100,
        start,
        end,
        "9.9",
        "排污权",
        None,
        "浙江省排污权储备和交易中心",
    ]
    bank = world.user("bank_staff")
    job = create_job(bank, "risk_loans", filename="g.xlsx", data=xlsx([header, row, bad]))
    assert job.status == "rejected"
    assert {(i["row"], i["column"]) for i in job.issues if i["level"] == "error"} == {
        (3, "F"),
        (3, "H"),
    }
    assert not LoanAccount.objects.exists()
    job = create_job(bank, "risk_loans", filename="g.xlsx", data=xlsx([header, row]))
    assert job.status == "done", job.issues
    loan = LoanAccount.objects.get()
    assert loan.green_category == "3.2"
    assert list(loan.green_pledges.values_list("kind", "registration_no")) == [
        ("pollutant_rights", "ZJPW2026000001")
    ]
