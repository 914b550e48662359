"""/api/v1/listing as clients use it: government opens and advances a
pipeline, bad input is a 422 naming the field, an enterprise sees only its
own, another region's government gets 404, and the stage counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chanrong.accounts.services import create_token
from chanrong.listing.models import Pipeline, Stage

pytestmark = pytest.mark.django_db

API = "/api/v1/listing"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Caller:
    def __init__(self, user):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {create_token(None, user, 'test').raw}"}

    def get(self, path: str, params=None):
        return self.client.get(API + path, query_params=params, headers=self.headers)

    def post(self, path: str, data):
        return self.client.post(
            API + path, data=data, content_type="application/json", headers=self.headers
        )


def error_fields(response) -> set[str]:
    body = response.json()
    assert set(body) == {"code", "message", "errors"}
    return {e["field"] for e in body["errors"]}


def test_pipeline_through_the_api(world):
    gov = Caller(world.user("gov_jiashan"))
    today = timezone.localdate()
    start = today - timedelta(days=400)
    created = gov.post(
        "/pipelines",
        {"enterprise": world.ent.uscc, "board": "star", "reached_on": start.isoformat()},
    )
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    assert created.json()["next_stage"] == "shareholding"
    assert created.json()["records"][0]["stage"] == "incubation"

    skipped = gov.post(f"/pipelines/{pid}/advance", {"stage": "filing", "reached_on": str(today)})
    assert skipped.status_code == 422 and error_fields(skipped) == {"stage"}
    early = gov.post(
        f"/pipelines/{pid}/advance",
        {"stage": "shareholding", "reached_on": str(start - timedelta(days=1))},
    )
    assert early.status_code == 422 and error_fields(early) == {"reached_on"}
    future = gov.post(
        f"/pipelines/{pid}/advance",
        {"stage": "shareholding", "reached_on": str(today + timedelta(days=1))},
    )
    assert future.status_code == 422 and error_fields(future) == {"reached_on"}
    unknown = gov.post(f"/pipelines/{pid}/advance", {"stage": "ipo", "reached_on": str(today)})
    assert unknown.status_code == 422 and error_fields(unknown) == {"stage"}

    day = start
    for stage in ("shareholding", "tutoring", "filing", "review"):
        day += timedelta(days=60)
        moved = gov.post(
            f"/pipelines/{pid}/advance",
            {"stage": stage, "reached_on": str(day), "document_no": f"NO-{stage}"},
        )
        assert moved.status_code == 200, moved.content
    filing_day = start + timedelta(days=180)
    quoted = gov.post(f"/pipelines/{pid}/advance", {"stage": "quoted", "reached_on": str(today)})
    assert quoted.status_code == 422 and error_fields(quoted) == {"stage"}
    before_filing = gov.post(
        f"/pipelines/{pid}/advance",
        {
            "stage": "listed",
            "reached_on": str(filing_day - timedelta(days=1)),
            "stock_code": "688001",
            "proceeds": "500000000",
        },
    )
    assert before_filing.status_code == 422 and error_fields(before_filing) == {"reached_on"}
    listed = gov.post(
        f"/pipelines/{pid}/advance",
        {"stage": "listed", "reached_on": str(today), "stock_code": "688001", "proceeds": "5e8"},
    )
    assert listed.status_code == 200, listed.content
    body = listed.json()
    assert (body["stage"], body["stock_code"], body["proceeds"]) == (
        "listed",
        "688001",
        "500000000.00",
    )
    assert len(body["records"]) == 6
    again = gov.post(f"/pipelines/{pid}/withdraw", {"reason": "x"})
    assert again.status_code == 409

    stats = gov.get("/stats").json()
    by_stage = {row["stage"]: row for row in stats["stages"]}
    assert by_stage["listed"]["current"] == 1 and by_stage["incubation"]["current"] == 0
    assert by_stage["incubation"]["by_year"][str(start.year)] == 1
    assert (stats["listed"], stats["proceeds"]) == (1, "500000000.00")


def test_scoping_and_actors(world):
    ent = Caller(world.user("ent_user"))
    own = ent.post("/pipelines", {"board": "neeq", "agency_id": world.gov_jiashan.pk})
    assert own.status_code == 201, own.content
    pid = own.json()["id"]
    other = Pipeline.objects.create(
        enterprise=world.ent2, board="bse", agency=world.gov_jiashan, stage=Stage.INCUBATION
    )
    assert [p["id"] for p in ent.get("/pipelines").json()["results"]] == [pid]
    assert ent.get(f"/pipelines/{other.pk}").status_code == 404
    advance = ent.post(
        f"/pipelines/{pid}/advance",
        {"stage": "shareholding", "reached_on": str(timezone.localdate())},
    )
    assert advance.status_code == 403
    assert ent.get("/stats").status_code == 404

    jiangsu = Caller(world.user("gov_jiangsu"))
    assert jiangsu.get(f"/pipelines/{pid}").status_code == 404
    assert jiangsu.post(f"/pipelines/{pid}/withdraw", {"reason": "x"}).status_code == 404
    assert jiangsu.get("/pipelines").json()["count"] == 0
    bank = Caller(world.user("bank_staff"))
    assert bank.get(f"/pipelines/{pid}").status_code == 404
    assert bank.get("/pipelines").json()["count"] == 0

    gov = Caller(world.user("gov_jiashan"))
    assert gov.get("/pipelines", {"board": "neeq"}).json()["count"] == 1
    stray = gov.post("/pipelines", {"enterprise": world.ent.uscc, "board": "neeq", "x": 1})
    assert stray.status_code == 422 and error_fields(stray) == {"x"}
    twice = gov.post("/pipelines", {"enterprise": world.ent.uscc, "board": "neeq"})
    assert twice.status_code == 409
    withdrawn = ent.post(f"/pipelines/{pid}/withdraw", {"reason": "暂缓上市计划"})
    assert withdrawn.status_code == 200 and withdrawn.json()["stage"] == "withdrawn"
