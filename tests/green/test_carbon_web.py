"""Carbon pages and API through the Django test client: an enterprise reports
a year and reads its result line by line; bad input comes back beside its
field (web) or by field (API, 422) with nothing written; a bank sees a
report and grade only with the enterprise's authorisation, government only
in its region; the factor page refuses a factor without a source."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chanrong.green.models import CarbonGrade, CarbonReport, EmissionFactor
from chanrong.green.services import carbon

pytestmark = pytest.mark.django_db

LINES = [
    {"item": "raw_coal", "quantity": "100", "unit": "t"},
    {"item": "grid_electricity", "quantity": "1000", "unit": "MWh"},
]


def _form(**extra) -> dict:
    data = {"year": "2022", "month": ""}
    for i, line in enumerate(LINES):
        for key, value in line.items():
            data[f"line_{i}_{key}"] = value
    data.update(extra)
    return data


def test_enterprise_reports_and_reads_the_explanation(client, world):
    client.force_login(world.user("ent_user"))
    assert client.get(reverse("green:carbon_report_new")).status_code == 200
    refused = client.post(
        reverse("green:carbon_report_new"), _form(line_1_unit="t", line_2_item="uranium")
    )
    assert refused.status_code == 422
    form = refused.context["form"]
    assert "line_1_unit" in form.errors and "line_2_item" in form.errors
    assert not CarbonReport.objects.exists()
    done = client.post(reverse("green:carbon_report_new"), _form())
    report = CarbonReport.objects.get(enterprise=world.ent)
    assert done.status_code == 302 and done["Location"] == reverse(
        "green:carbon_report", args=[report.pk]
    )
    page = client.get(done["Location"]).content.decode()
    assert "100 t × 20.908 GJ/t × 0.0261 tC/GJ × 93% × 44/12" in page
    assert "186.0833" in page and "536.6000" in page and "722.6833" in page
    listing = client.get(reverse("green:carbon_reports")).content.decode()
    assert f'data-report="{report.pk}"' in listing
    # Another enterprise neither sees it nor reports for it.
    client.force_login(world.user("ent2_user"))
    assert client.get(reverse("green:carbon_report", args=[report.pk])).status_code == 404
    assert client.get(reverse("green:carbon_overview")).status_code == 404


def test_visibility_bank_by_authorisation_government_by_region(client, world):
    report = carbon.save_report(world.user("ent_user"), world.ent, {"year": 2022, "lines": LINES})
    bench = {"division": "C34", "bound1": "0.1", "bound2": "0.2", "bound3": "0.3", "bound4": "0.4"}
    put = "/api/v1/green/carbon/benchmarks"
    client.force_login(world.user("gov_national"))
    assert (
        client.put(put, {**bench, "source": "测试"}, content_type="application/json").status_code
        == 403
    )
    client.force_login(world.user("admin"))
    refused = client.put(put, {**bench, "bound4": "0.05"}, content_type="application/json")
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"bound4", "source"}
    assert (
        client.put(put, {**bench, "source": "测试"}, content_type="application/json").status_code
        == 200
    )
    url = reverse("green:carbon_report", args=[report.pk])
    for name, status in [
        ("bank_staff", 200),
        ("bank2_staff", 404),
        ("gov_jiashan", 200),
        ("gov_jiangsu", 404),
        ("gov_national", 200),
    ]:
        client.force_login(world.user(name))
        assert client.get(url).status_code == status, name
        api = client.get("/api/v1/green/carbon/grades").json()
        assert api["count"] == (1 if status == 200 else 0), name
    # The bank sees the grade on the registry's enterprise page.
    client.force_login(world.user("bank_staff"))
    page = client.get(reverse("registry:detail", args=[world.ent.pk])).content.decode()
    assert 'data-testid="carbon-grade"' in page and "3 级" in page
    client.force_login(world.user("gov_jiashan"))
    overview = client.get(reverse("green:carbon_overview"), {"year": 2022}).content.decode()
    assert 'data-division="C34"' in overview


def test_api_report_and_bad_input(client, world):
    client.force_login(world.user("ent_user"))
    url = "/api/v1/green/carbon/reports"
    bad = client.post(
        url,
        {"year": 2022, "lines": [{"item": "natural_gas", "quantity": "-1", "unit": "t"}]},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"lines[0].quantity", "lines[0].unit"}
    assert not CarbonReport.objects.exists()
    made = client.post(url, {"year": 2022, "lines": LINES}, content_type="application/json")
    assert made.status_code == 201
    body = made.json()
    assert body["total"] == "722.6833" and body["lines"][0]["co2"] == "186.0833"
    assert "GB/T 32150-2015" in body["lines"][0]["source"]
    assert client.get(f"{url}/{body['id']}").status_code == 200
    assert client.get("/api/v1/green/carbon/items").status_code == 200
    assert client.get(url, {"year": "99999999999"}).status_code == 422
    huge = {"item": "raw_coal", "quantity": "9999999999999999", "unit": "万t"}
    refused = client.post(url, {"year": 2022, "lines": [huge]}, content_type="application/json")
    assert refused.status_code == 422
    client.force_login(world.user("bank2_staff"))
    assert client.get(f"{url}/{body['id']}").status_code == 404
    assert client.get(url).json()["count"] == 0
    # A bank reports for nobody; government not outside its region.
    assert client.post(
        url,
        {"year": 2022, "enterprise": world.ent.pk, "lines": LINES},
        content_type="application/json",
    ).status_code in (403, 404)
    client.force_login(world.user("gov_jiangsu"))
    assert (
        client.post(
            url,
            {"year": 2022, "enterprise": world.ent.pk, "lines": LINES},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert CarbonReport.objects.count() == 1 and not CarbonGrade.objects.exists()


def test_factor_page_refuses_a_factor_without_source(client, world):
    client.force_login(world.user("admin"))
    url = reverse("green:carbon_factors")
    data = {"code": "grid_electricity", "year": "2024", "factor": "0.55", "source": ""}
    refused = client.post(url, data)
    assert refused.status_code == 422 and "source" in refused.context["form"].errors
    assert client.post(url, {**data, "source": "某公告"}).status_code == 302
    assert EmissionFactor.objects.filter(year=2024).count() == 1
    client.force_login(world.user("gov_jiashan"))
    assert client.post(url, {**data, "year": "2025", "source": "x"}).status_code == 404
    api = client.post(
        "/api/v1/green/carbon/factors",
        {**data, "year": 2025, "source": "x"},
        content_type="application/json",
    )
    assert api.status_code == 403
