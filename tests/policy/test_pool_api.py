"""The pools router over HTTP, mounted here on a throwaway API (as the lead
will mount it at /api/v1/policy/pools): bearer tokens (a bank's system
confirms its commitment and files claims by token), the one error shape,
404 for what is not visible, and the figures as exact strings to the fen."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import path
from django.utils import timezone

from chanrong.accounts.api_auth import AUTH
from chanrong.accounts.services import create_token
from chanrong.api.api import ChanrongAPI, Renderer
from chanrong.core.apikit import errors
from chanrong.policy import services
from chanrong.policy.api_pools import router
from chanrong.policy.models import BridgeDraw, LossClaim, Pool, PoolMovement, PoolRegistration
from chanrong.urls import urlpatterns as project_urlpatterns

from .conftest import make_loan
from .poolkit import BRIDGE_PARAMS, make_pool

api = ChanrongAPI(
    title="pools test", version="test", urls_namespace="pools-test", auth=AUTH, renderer=Renderer()
)
errors.install(api)
api.add_router("/policy/pools", router)
PREFIX = "/api/pools-test/policy/pools"
urlpatterns = [path("api/pools-test/", api.urls), *project_urlpatterns]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


class Api:
    def __init__(self, user=None):
        self.client = Client()
        self.headers = (
            {"Authorization": f"Bearer {create_token(None, user, 'test').raw}"} if user else {}
        )

    def get(self, url, **params):
        return self.client.get(PREFIX + url, params, headers=self.headers)

    def post(self, url, json=None):
        return self.client.post(
            PREFIX + url, json or {}, content_type="application/json", headers=self.headers
        )


def _ok(response, status=200):
    assert response.status_code == status, response.content.decode()
    return response.json()


def _error(response, status, code=None):
    assert response.status_code == status, response.content.decode()
    body = response.json()
    assert set(body) == {"code", "message", "errors"}
    if code:
        assert body["code"] == code, body
    return body


def _period():
    today = timezone.localdate()
    return {
        "starts_on": str(today - timedelta(days=400)),
        "ends_on": str(today + timedelta(days=400)),
    }


def _loan(pw, no, *, matures_in=10, enterprise=None, **fields):
    today = timezone.localdate()
    values = {
        "loan_date": today - timedelta(days=300),
        "maturity_date": today + timedelta(days=matures_in),
        "confirmed_at": timezone.now(),
    }
    values.update(fields)
    return make_loan(pw, enterprise, no=no, **values)


def _counts():
    return (
        BridgeDraw.objects.count(),
        PoolMovement.objects.count(),
        PoolRegistration.objects.count(),
        LossClaim.objects.count(),
        list(Pool.objects.order_by("pk").values_list("capital", "outstanding", "paid_out")),
    )


def test_bridge_lifecycle_through_the_api(policy_world):
    pw = policy_world
    programme = make_pool(pw, "bridge", BRIDGE_PARAMS, None, publish=False, **_period())
    agency, bank, ent = (
        Api(pw.user("fin_admin")),
        Api(pw.user("bank_staff")),
        Api(pw.user("ent_user")),
    )
    today = timezone.localdate()
    _error(agency.post(f"/{programme.pk}/capital", {"amount": 1e400}), 422, "invalid")

    capital = {"amount": "2000000.00", "on": str(today - timedelta(days=30)), "note": "首期注资"}
    pool = _ok(agency.post(f"/{programme.pk}/capital", capital))
    assert (pool["capital"], pool["balance"]) == ("2000000.00", "2000000.00")
    services.publish_programme(pw.user("fin_admin"), programme)

    loan = _loan(pw, "API-1", matures_in=3)
    draw = _ok(
        ent.post(
            "/draws",
            {
                "programme_id": programme.pk,
                "loan_id": loan.pk,
                "amount": "1234567.89",
                "commitment_no": "XD-API-1",
            },
        ),
        201,
    )
    assert (draw["state"], draw["commitment_confirmed"]) == ("requested", False)
    url = f"/draws/{draw['id']}"
    _error(agency.post(url + "/approve"), 409, "commitment_unconfirmed")
    _error(Api(pw.user("bank2_staff")).post(url + "/confirm-commitment"), 404, "not_found")
    draw = _ok(bank.post(url + "/confirm-commitment"))  # the bank's system, by token
    assert draw["commitment_confirmed"] is True
    _error(bank.post(url + "/approve"), 403, "forbidden")
    draw = _ok(agency.post(url + "/approve"))
    assert draw["state"] == "approved"
    drawn_on = today - timedelta(days=7)
    draw = _ok(agency.post(url + "/draw", {"drawn_on": str(drawn_on)}))
    assert (draw["state"], draw["days_outstanding"], draw["overdue_days"]) == ("drawn", 7, 0)
    assert draw["due_on"] == str(drawn_on + timedelta(days=30))
    assert _ok(agency.get(f"/{programme.pk}"))["balance"] == "765432.11"

    renewed = _loan(pw, "API-1-R", matures_in=365, loan_date=today)
    before = _counts()
    body = _error(agency.post(url + "/repay", {"renewed_loan_id": loan.pk}), 422, "invalid")
    assert body["errors"][0]["field"] == "renewed_loan_id"
    _error(agency.post(url + "/repay", {"renewed_loan_id": 10**12}), 422, "invalid")
    assert _counts() == before
    draw = _ok(agency.post(url + "/repay", {"renewed_loan_id": renewed.pk}))
    # 1,234,567.89 × 0.015 % × 7 = 1,296.2962845 → 1,296.30
    assert (draw["state"], draw["fee"]) == ("repaid", "1296.30")
    assert draw["calculation"]["amount"] == "1296.30"
    assert [line["label"] for line in draw["calculation"]["lines"]] == [
        "占用天数",
        "按公式计算",
        "四舍五入到分",
    ]
    pool = _ok(agency.get(f"/{programme.pk}"))
    assert (pool["outstanding"], pool["fee_income"], pool["balance"]) == (
        "0.00",
        "1296.30",
        "2000000.00",
    )
    movements = _ok(agency.get(f"/{programme.pk}/movements"))
    assert [(m["kind"], m["effect"], m["balance"]) for m in movements["results"]] == [
        ("capital", "2000000.00", "2000000.00"),
        ("draw", "-1234567.89", "765432.11"),
        ("repay", "1234567.89", "2000000.00"),
        ("fee", "0.00", "2000000.00"),
    ]
    listed = _ok(ent.get("/draws"))
    assert [d["id"] for d in listed["results"]] == [draw["id"]]
    assert _ok(Api(pw.user("ent2_user")).get("/draws"))["count"] == 0
    assert _ok(agency.get("/draws", state="repaid"))["count"] == 1
    assert _ok(agency.get(""))["results"][0]["programme_id"] == programme.pk


def test_bridge_refusals_in_the_error_shape(policy_world):
    pw = policy_world
    programme = make_pool(pw, "bridge", BRIDGE_PARAMS, "1000000", **_period())
    agency, bank = Api(pw.user("fin_admin")), Api(pw.user("bank_staff"))
    loan = _loan(pw, "R-1")
    good = {
        "programme_id": programme.pk,
        "loan_id": loan.pk,
        "amount": "600000",
        "commitment_no": "X",
    }
    before = _counts()
    _error(Api().post("/draws", good), 401, "unauthenticated")
    for bad, field in (
        ({**good, "amount": "abc"}, "amount"),
        ({**good, "amount": "1.001"}, "amount"),
        ({**good, "amount": "-1"}, "amount"),
        ({**good, "amount": "9000000"}, "amount"),
        ({**good, "commitment_no": ""}, "commitment_no"),
        ({**good, "surprise": 1}, "surprise"),
        ({**good, "loan_id": 0}, "loan_id"),
        ({**good, "loan_id": _loan(pw, "OTHER-BANK", institution=pw.world.bank2).pk}, "loan_id"),
        ({**good, "programme_id": 10**6}, "programme_id"),
    ):
        body = _error(bank.post("/draws", bad), 422, "invalid")
        assert field in [e["field"] for e in body["errors"]], (bad, body)
    assert _counts() == before
    _error(Api(pw.user("ent2_user")).post("/draws", good), 422)  # not its loan: not even visible
    _error(agency.post("/draws", good), 403, "forbidden")
    assert _counts() == before
    first = _ok(bank.post("/draws", good), 201)
    _error(bank.post("/draws", good), 409, "duplicate_draw")
    second = _ok(bank.post("/draws", {**good, "loan_id": _loan(pw, "R-2").pk}), 201)
    for d in (first, second):
        _ok(agency.post(f"/draws/{d['id']}/approve"))
    _ok(agency.post(f"/draws/{first['id']}/draw"))
    before = _counts()
    body = _error(agency.post(f"/draws/{second['id']}/draw"), 409, "pool_exhausted")
    assert "资金池余额不足" in body["message"]
    _error(agency.post(f"/draws/{second['id']}/draw", {"drawn_on": "2999-01-01"}), 422, "invalid")
    _error(agency.post(f"/draws/{second['id']}/reject", {"reason": ""}), 422, "invalid")
    _error(agency.post("/draws/99999999/approve"), 404, "not_found")
    _error(agency.get("/draws/0"), 422, "invalid")
    _error(agency.get("/999999"), 404, "not_found")
    _error(bank.get(f"/{programme.pk}"), 404, "not_found")  # the pool's books are the agency's
    _error(Api(pw.user("fin_staff")).post(f"/{programme.pk}/capital", {"amount": "1"}), 403)
    _error(agency.post(f"/{programme.pk}/capital", {"amount": "0"}), 422, "invalid")
    assert _counts() == before
    rejected = _ok(agency.post(f"/draws/{second['id']}/reject", {"reason": "资金池额度不足"}))
    assert (rejected["state"], rejected["reason"]) == ("rejected", "资金池额度不足")


def test_risk_pool_through_the_api(policy_world):
    pw = policy_world
    programme = make_pool(
        pw, "risk_pool", {"share": "45", "cap_per_loan": "500000"}, "3000000", **_period()
    )
    agency, bank = Api(pw.user("fin_admin")), Api(pw.user("bank_staff"))
    loan = _loan(pw, "RP-1", matures_in=200)
    registration = _ok(
        bank.post("/registrations", {"programme_id": programme.pk, "loan_id": loan.pk}), 201
    )
    assert (registration["share"], registration["loan_contract_no"]) == ("45.0000", "RP-1")
    before = _counts()
    _error(
        bank.post("/registrations", {"programme_id": programme.pk, "loan_id": loan.pk}),
        409,
        "duplicate_registration",
    )
    _error(
        Api(pw.user("ent_user")).post(
            "/registrations", {"programme_id": programme.pk, "loan_id": loan.pk}
        ),
        403,
    )
    _error(
        bank.post("/claims", {"registration_id": registration["id"], "loss": "0"}), 422, "invalid"
    )
    _error(
        Api(pw.user("bank2_staff")).post(
            "/claims", {"registration_id": registration["id"], "loss": "10"}
        ),
        422,
    )
    assert _counts() == before

    claim = _ok(
        bank.post("/claims", {"registration_id": registration["id"], "loss": "987654.32"}), 201
    )
    assert (claim["state"], claim["calculation"]["estimate"]) == ("claimed", True)
    _error(bank.post(f"/claims/{claim['id']}/pay"), 403, "forbidden")
    _error(bank.post(f"/claims/{claim['id']}/recoveries", {"amount": "10"}), 409, "claim_not_paid")
    claim = _ok(agency.post(f"/claims/{claim['id']}/pay"))
    # 987,654.32 × 45 % = 444,444.444 → 444,444.44
    assert (claim["state"], claim["compensation"]) == ("paid", "444444.44")
    claim = _ok(bank.post(f"/claims/{claim['id']}/recoveries", {"amount": "98765.43"}), 201)
    # 98,765.43 × 444,444.44 ÷ 987,654.32 = 44,444.4435 → 44,444.44
    assert (claim["recovered"], claim["returned_to_pool"]) == ("98765.43", "44444.44")
    assert claim["calculation"]["recoveries"][0]["amount"] == "44444.44"
    pool = _ok(agency.get(f"/{programme.pk}"))
    assert (pool["paid_out"], pool["recovered"], pool["balance"]) == (
        "444444.44",
        "44444.44",
        "2600000.00",
    )
    assert _ok(bank.get("/claims"))["results"][0]["returned_to_pool"] == "44444.44"
    assert _ok(Api(pw.user("bank2_staff")).get("/claims"))["count"] == 0
    _error(Api(pw.user("bank2_staff")).get(f"/claims/{claim['id']}"), 404)
    assert _ok(bank.get("/registrations"))["count"] == 1
    second = _ok(bank.post("/claims", {"registration_id": registration["id"], "loss": "100"}), 201)
    rejected = _ok(agency.post(f"/claims/{second['id']}/reject", {"reason": "重复申报"}))
    assert rejected["state"] == "rejected"
    assert Decimal(_ok(agency.get(f"/{programme.pk}"))["balance"]) == Decimal("2600000.00")
