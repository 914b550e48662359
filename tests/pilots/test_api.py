"""The pilot router over HTTP (mounted on a throwaway API, see urls_api.py):
bearer tokens, the error shape, 404 for what is not visible."""

from __future__ import annotations

import pytest
from django.test import Client

from chanrong.accounts.services import create_token
from tests.pilots.conftest import PDF, make_user, set_dates, start_year
from tests.pilots.urls_api import PREFIX

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.pilots.urls_api")]


class Api:
    def __init__(self, user):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {create_token(None, user, 'test').raw}"}

    def get(self, path, **params):
        return self.client.get(PREFIX + path, params, headers=self.headers)

    def post(self, path, json=None, **kwargs):
        if "data" in kwargs:
            return self.client.post(PREFIX + path, kwargs["data"], headers=self.headers)
        return self.client.post(
            PREFIX + path, json or {}, content_type="application/json", headers=self.headers
        )

    def put(self, path, json):
        return self.client.put(
            PREFIX + path, json, content_type="application/json", headers=self.headers
        )

    def patch(self, path, json):
        return self.client.patch(
            PREFIX + path, json, content_type="application/json", headers=self.headers
        )


def _ok(response, status=200):
    assert response.status_code == status, response.content.decode()
    return response.json()


def test_application_through_the_api(pilot, world):
    county = Api(world.user("gov_jiashan"))
    batches = _ok(county.get("/batches"))
    assert [b["name"] for b in batches["results"]] == ["第二批"]
    batch = _ok(county.get(f"/batches/{pilot.batch.pk}"))
    assert batch["outline"][0]["title"] == "指导思想"
    start = start_year(pilot.batch)

    error = county.post(
        "/applications",
        {"batch_id": pilot.batch.pk, "title": "方案", "start_year": start, "end_year": start + 3},
    )
    assert error.status_code == 422
    assert error.json()["code"] == "invalid"
    assert error.json()["errors"][0]["field"] == "end_year"

    created = _ok(
        county.post(
            "/applications",
            {
                "batch_id": pilot.batch.pk,
                "title": "嘉善县实施方案",
                "start_year": start,
                "end_year": start + 2,
            },
        ),
        201,
    )
    app_id = created["id"]
    assert created["stage"] == "draft"
    assert {m["field"] for m in created["missing"]} >= {"declaration", "indicators"}

    sections = {s["key"]: f"{s['title']}内容" for s in created["sections"]}
    _ok(county.put(f"/applications/{app_id}/sections", {"sections": sections}))
    bad = county.put(
        f"/applications/{app_id}/indicators", [{"indicator": "gdp", "year": start, "value": "x"}]
    )
    assert bad.status_code == 422
    detail = _ok(
        county.put(
            f"/applications/{app_id}/indicators",
            [
                {"indicator": "gdp", "year": y, "value": "714", "second_value": "9"}
                for y in range(start, start + 3)
            ],
        )
    )
    assert len(detail["targets"]) == 3
    from django.core.files.uploadedfile import SimpleUploadedFile

    refused = county.post(
        f"/applications/{app_id}/documents",
        data={"kind": "declaration", "file": SimpleUploadedFile("a.pdf", b"GIF89a")},
    )
    assert refused.status_code == 422, refused.content
    assert refused.json()["errors"][0]["field"] == "file", refused.json()
    doc = _ok(
        county.post(
            f"/applications/{app_id}/documents",
            data={"kind": "declaration", "file": SimpleUploadedFile("申报.pdf", PDF)},
        ),
        201,
    )
    assert doc["download_url"] == f"/pilot/files/{doc['id']}/"
    submitted = _ok(county.post(f"/applications/{app_id}/submit"))
    assert submitted["stage"] == "provincial"

    # Another province: 404; the county itself cannot recommend: 403.
    assert Api(world.user("gov_jiangsu")).get(f"/applications/{app_id}").status_code == 404
    forbidden = county.post(f"/applications/{app_id}/recommend")
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"

    province = Api(world.user("gov_zhejiang"))
    _ok(province.post(f"/applications/{app_id}/opinions", {"stance": "support"}), 201)
    recommended = _ok(province.post(f"/applications/{app_id}/recommend", {"comment": "推荐"}))
    assert recommended["provincial_review"]["slot"] == 1
    overview = _ok(province.get(f"/batches/{pilot.batch.pk}/province"))
    assert overview["quota"] == {
        "unit_code": "330000",
        "unit_name": "浙江省",
        "quota": 2,
        "used": 1,
        "remaining": 1,
    }
    not_ready = province.post(f"/batches/{pilot.batch.pk}/province/confirm")
    assert not_ready.status_code == 422
    _ok(
        province.post(
            f"/batches/{pilot.batch.pk}/province/joint-report",
            data={"file": SimpleUploadedFile("联合上报.pdf", PDF)},
        ),
        201,
    )
    confirmed = _ok(province.post(f"/batches/{pilot.batch.pk}/province/confirm", {"note": ""}))
    assert confirmed["submission_state"] == "confirmed"

    ministry = Api(pilot.ministry)
    criteria = batch["criteria"]
    items = {str(c["id"]): "20" for c in criteria}
    summary = _ok(ministry.put(f"/applications/{app_id}/score", {"items": items}))
    assert summary["count"] == 1 and summary["mean_total"] == "80.00"
    mof = Api(make_user("mof", None, function="finance", role="gov_staff"))
    _ok(mof.put(f"/applications/{app_id}/score", {"items": items, "comment": "好"}))
    board = _ok(ministry.get(f"/batches/{pilot.batch.pk}/ministry"))
    assert board[0]["region_code"] == "330421" and board[0]["count"] == 2
    _ok(ministry.post(f"/applications/{app_id}/decide", {"decision": "approve"}))
    too_early = ministry.post(f"/batches/{pilot.batch.pk}/publish")
    assert too_early.status_code == 409 and too_early.json()["code"] == "too_early"
    assert _ok(county.get(f"/batches/{pilot.batch.pk}/pilots")) == []
    set_dates(pilot.batch, application_days=-20, provincial_days=-5)
    _ok(ministry.post(f"/batches/{pilot.batch.pk}/publish", {"title": ""}))
    pilots = _ok(county.get(f"/batches/{pilot.batch.pk}/pilots"))
    assert [p["region_code"] for p in pilots] == ["330421"]

    report = _ok(
        county.post(
            f"/applications/{app_id}/reports",
            {"year": start, "period": "H1", "summary": "进展顺利"},
        ),
        201,
    )
    _ok(county.post(f"/reports/{report['id']}/submit"))
    reports = _ok(ministry.get(f"/applications/{app_id}/reports"))
    assert reports[0]["state"] == "submitted"
    evaluation = _ok(ministry.get("/evaluation"))
    assert evaluation[0]["region_code"] == "330421"


def test_batches_through_the_api(pilot, world):
    ministry = Api(pilot.ministry)
    created = _ok(
        ministry.post(
            "/batches",
            {
                "number": 3,
                "name": "第三批",
                "application_deadline": "2030-08-31",
                "provincial_deadline": "2030-09-15",
            },
        ),
        201,
    )
    assert created["state"] == "draft" and len(created["criteria"]) == 4
    duplicate = ministry.post(
        "/batches",
        {
            "number": 3,
            "name": "重复",
            "application_deadline": "2030-08-31",
            "provincial_deadline": "2030-09-15",
        },
    )
    assert duplicate.status_code == 422 and duplicate.json()["errors"][0]["field"] == "number"
    rubric = _ok(
        ministry.put(f"/batches/{created['id']}/rubric", [{"name": "总体", "max_score": 100}])
    )
    assert rubric[0]["name"] == "总体"
    patched = _ok(
        ministry.patch(f"/batches/{created['id']}", {"notice_number": "工信部联财函〔2030〕1号"})
    )
    assert patched["notice_number"] == "工信部联财函〔2030〕1号"
    _ok(ministry.post(f"/batches/{created['id']}/open"))
    # Only the ministry creates batches; a draft batch is invisible to others.
    county = Api(world.user("gov_jiashan"))
    refused = county.post(
        "/batches",
        {
            "number": 4,
            "name": "第四批",
            "application_deadline": "2030-08-31",
            "provincial_deadline": "2030-09-15",
        },
    )
    assert refused.status_code == 403
    bank = Api(world.user("bank_staff"))
    assert _ok(bank.get("/batches"))["count"] == 0
    assert bank.get(f"/batches/{created['id']}").status_code == 404
    assert Client().get(PREFIX + "/batches").status_code == 401


def test_openapi_schema_documents_the_router(settings):
    from tests.pilots.urls_api import api

    schema = api.get_openapi_schema()
    paths = {p.removeprefix(PREFIX) for p in schema["paths"] if p.startswith(PREFIX)}
    assert {"/batches", "/applications", "/applications/{application_id}/recommend"} <= paths


def test_stage_labels_and_errors_follow_accept_language(pilot, world):
    """`stage` is a code; `stage_label` and the messages of a 422 are read in
    the caller's language (Chinese by default)."""
    county = Api(world.user("gov_jiashan"))
    start = start_year(pilot.batch)
    years = pilot.batch.max_period_years
    too_long = {
        "batch_id": pilot.batch.pk,
        "title": "方案",
        "start_year": start,
        "end_year": start + years,
    }
    error = county.post("/applications", too_long).json()
    assert error["errors"][0]["message"] == (
        f"方案实施期不超过{years}年（当前为{start}—{start + years}年，共{years + 1}年）"
    )
    county.headers["Accept-Language"] = "en"
    error = county.post("/applications", too_long).json()
    assert error["message"] == "Invalid input"
    assert error["errors"][0]["message"] == (
        f"The implementation period is at most {years} years "
        f"(now {start}–{start + years}, {years + 1} years)"
    )
    created = _ok(county.post("/applications", {**too_long, "end_year": start}), 201)
    assert (created["stage"], created["stage_label"]) == ("draft", "Draft")
    del county.headers["Accept-Language"]
    again = _ok(county.get(f"/applications/{created['id']}"))
    assert (again["stage"], again["stage_label"]) == ("draft", "草稿")
