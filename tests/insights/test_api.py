"""/indicators, /stats and /events over the API (mounted on a test API here)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from chanrong.core.models import Region
from chanrong.insights import catalogue, services

API = "/api/v1"


@pytest.fixture(autouse=True)
def test_urls(settings):
    settings.ROOT_URLCONF = "tests.insights.api_urls"


def _client(world, name):
    client = Client()
    client.force_login(world.user(name))
    return client


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "errors"}
    return body


def test_indicators_and_plans(world):
    gov = _client(world, "gov_jiashan")
    listing = gov.get(f"{API}/indicators", {"page_size": 100}).json()
    # the 32 printed + catalogue.PLATFORM (policy, supplychain, green)
    assert listing["count"] == 32 + len(catalogue.PLATFORM)
    kinds = {i["code"]: i["kind"] for i in listing["results"]}
    assert kinds["manufacturing-loans"] == "stock" and kinds["gdp"] == "period"
    _error(_client(world, "ent_user").get(f"{API}/indicators"), 404)

    created = gov.post(
        f"{API}/indicators/plans",
        {"region_code": "330421", "title": "API 计划", "start_year": 2021, "end_year": 2023},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    plan_id = created.json()["id"]
    put = gov.put(
        f"{API}/indicators/plans/{plan_id}/targets",
        {
            "targets": [
                {"indicator": "inclusive-sme-loan-rate", "year": 2021, "value": "4.90"},
                {"indicator": "gdp", "year": 2021, "value": "714", "second_value": "9"},
            ]
        },
        content_type="application/json",
    )
    assert put.status_code == 200, put.content
    rows = {r["code"]: r for r in put.json()["rows"]}
    assert rows["inclusive-sme-loan-rate"]["cells"][0]["value"] == "4.90"
    assert rows["gdp"]["cells"][0] == {"year": 2021, "value": "714", "second": "9"}
    bad = gov.put(
        f"{API}/indicators/plans/{plan_id}/targets",
        {"targets": [{"indicator": "gdp", "year": 2030, "value": "1"}]},
        content_type="application/json",
    )
    assert _error(bad, 422)["errors"][0]["field"] == "targets.0.year"
    _error(_client(world, "gov_jiangsu").get(f"{API}/indicators/plans/{plan_id}"), 404)
    _error(
        _client(world, "gov_jiangsu").post(
            f"{API}/indicators/plans",
            {"region_code": "330421", "title": "x", "start_year": 2021, "end_year": 2023},
            content_type="application/json",
        ),
        404,
    )

    actual = gov.post(
        f"{API}/indicators/actuals",
        {
            "region_code": "330421",
            "indicator": "gdp",
            "period_type": "year",
            "year": 2021,
            "value": "720",
            "source_body": "嘉善县统计局",
            "source_document": "嘉善县2021年国民经济和社会发展统计公报",
            "source_date": "2022-03-15",
        },
        content_type="application/json",
    )
    assert actual.status_code == 201, actual.content
    assert actual.json()["source_document"] == "嘉善县2021年国民经济和社会发展统计公报"
    completion = gov.get(f"{API}/indicators/plans/{plan_id}/completion", {"year": 2021}).json()
    gdp = next(r for r in completion if r["code"] == "gdp")
    assert gdp["actual"] == "720" and gdp["status"] == "met"
    value = (
        _client(world, "gov_zhejiang")
        .get(
            f"{API}/indicators/gdp/value",
            {"region": "330400", "start": "2021-01-01", "end": "2021-12-31"},
        )
        .json()
    )
    assert value.get("value") == "720", value
    _error(
        gov.get(
            f"{API}/indicators/gdp/value",
            {"region": "320508", "start": "2021-01-01", "end": "2021-12-31"},
        ),
        404,
    )


def test_stats(world):
    services.record_financing(
        region=Region.objects.get(code="330421"),
        institution=world.bank,
        amount="20000000",
        on=date(2024, 1, 5),
    )
    gov = _client(world, "gov_zhejiang")
    summary = gov.get(f"{API}/stats/summary").json()
    assert summary["region_code"] == "330000"
    assert summary["financing_count"] == 1 and summary["financing_amount_wan"] == 2000
    assert summary["enterprises"] == 2
    by_region = gov.get(f"{API}/stats/financing", {"by": "region"}).json()
    assert by_region[0]["label"] == "嘉兴市" and by_region[0]["amount_yi"] == 0.2
    _error(gov.get(f"{API}/stats/summary", {"region": "320508"}), 404)
    _error(gov.get(f"{API}/stats/financing", {"by": "nope"}), 422)
    national = _client(world, "gov_national").get(f"{API}/stats/summary").json()
    assert national["region_code"] == "" and national["region_name"] == "全国"


def test_events_api(world):
    gov = _client(world, "gov_jiashan")
    created = gov.post(
        f"{API}/events",
        {
            "kind": "matchmaking",
            "title": "银企对接会",
            "date": "2024-03-01",
            "place": "嘉善",
            "region_code": "330421",
            "is_open": True,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    event_id = created.json()["id"]
    assert gov.post(f"{API}/events/{event_id}/publish").json()["status"] == "published"
    _error(gov.post(f"{API}/events/{event_id}/publish"), 409)
    deal = gov.post(
        f"{API}/events/{event_id}/deals",
        {"enterprise_id": world.ent.pk, "institution_id": world.bank.pk, "amount_wan": 500},
        content_type="application/json",
    )
    assert deal.status_code == 201, deal.content
    assert deal.json()["amount_wan"] == 500
    _error(
        gov.post(
            f"{API}/events/{event_id}/deals",
            {"enterprise_id": world.ent.pk, "institution_id": world.bank.pk, "amount_wan": "500"},
            content_type="application/json",
        ),
        422,
    )
    ent2 = _client(world, "ent2_user")
    assert (
        ent2.post(
            f"{API}/events/{event_id}/registrations", {}, content_type="application/json"
        ).status_code
        == 201
    )
    _error(
        ent2.post(f"{API}/events/{event_id}/registrations", {}, content_type="application/json"),
        409,
    )
    assert ent2.delete(f"{API}/events/{event_id}/registrations").status_code == 204
    assert ent2.get(f"{API}/events").json()["count"] == 1
    _error(ent2.post(f"{API}/events/{event_id}/close"), 403)
    _error(gov.post(f"{API}/events/{event_id}/explode"), 422)
    invited = gov.post(
        f"{API}/events/{event_id}/invitations",
        {"enterprise_ids": [world.ent.pk], "institution_ids": [world.bank2.pk]},
        content_type="application/json",
    )
    assert invited.json() == {"added": 2}
    _error(
        gov.patch(f"{API}/events/{event_id}", {"title": None}, content_type="application/json"), 422
    )
    assert (
        gov.patch(
            f"{API}/events/{event_id}", {"place": "西塘"}, content_type="application/json"
        ).json()["place"]
        == "西塘"
    )
    _error(_client(world, "gov_jiangsu").get(f"{API}/events/999999"), 404)
