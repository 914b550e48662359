"""The policy API (/api/v1/policy) as clients use it: a 财政局's programme
from draft to ledger, an enterprise's loan and application, the bank's
confirmation by bearer token (after the webhook told its system), review
and payment, and the public programme list and 公示 without any login.

Every refusal is checked for its status, its error shape and that nothing
was written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from chanrong.accounts.services import create_token
from chanrong.api import webhooks
from chanrong.api.models import WebhookDelivery, WebhookEndpoint
from chanrong.core.models import AuditEntry
from chanrong.demands.models import Demand, DemandState
from chanrong.policy import services
from chanrong.policy.models import (
    Application,
    ApplicationState,
    BudgetYear,
    LedgerEntry,
    Loan,
    Objection,
    Programme,
)

from .conftest import INTEREST_PARAMS, make_loan, make_programme

pytestmark = pytest.mark.django_db

API = "/api/v1/policy"
PERIOD = {"period_start": "2026-01-10", "period_end": "2026-06-30"}
EVENT = "policy.confirmation_requested"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """The anonymous-objection throttle counts in the cache; each test starts at zero."""
    cache.clear()
    yield
    cache.clear()


class Caller:
    """JSON over the Django test client, as one user's bearer token or as nobody."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, params=None):
        return self.client.get(API + path, query_params=params, headers=self.headers)

    def _send(self, method: str, path: str, data):
        kwargs = {"headers": self.headers}
        if data is not None:
            kwargs.update(data=data, content_type="application/json")
        return getattr(self.client, method)(API + path, **kwargs)

    def post(self, path: str, data=None):
        return self._send("post", path, data)

    def patch(self, path: str, data=None):
        return self._send("patch", path, data)

    def put(self, path: str, data=None):
        return self._send("put", path, data)


@pytest.fixture
def as_user(policy_world):
    tokens: dict[str, str] = {}

    def make(name: str) -> Caller:
        if name not in tokens:
            tokens[name] = create_token(None, policy_world.user(name), "tests").raw
        return Caller(tokens[name])

    return make


@pytest.fixture
def anon() -> Caller:
    return Caller()


def error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "errors"}
    if code is not None:
        assert body["code"] == code
    return body


def fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def invalid(response) -> set[str]:
    """The fields of a 422."""
    error(response, 422, "invalid")
    return fields(response)


def programme_data(**overrides) -> dict:
    data = {
        "kind": "interest",
        "name": "嘉善县制造业贷款贴息",
        "basis": "善财企〔2026〕1号",
        "starts_on": "2025-01-01",
        "ends_on": "2027-12-31",
        "params": INTEREST_PARAMS,
        "eligibility": {"sizes": ["small", "micro"]},
    }
    data.update(overrides)
    return data


def applied(pw, as_user, programme, loan, **extra):
    """An application filed over the API by ent_user; returns its JSON."""
    response = as_user("ent_user").post(
        "/applications", {"programme_id": programme.pk, "loan_id": loan.pk, **PERIOD, **extra}
    )
    assert response.status_code == 201, response.content
    return response.json()


# --- programmes ------------------------------------------------------------------------


def test_programmes_are_public_once_published_and_drafts_stay_with_the_agency(
    policy_world, as_user, anon
):
    pw = policy_world
    published = make_programme(pw, eligibility={"sizes": ["small", "micro"]})
    draft = make_programme(pw, publish=False, name="草稿中的贴息")
    listing = anon.get("/programmes")
    assert listing.status_code == 200
    assert [p["id"] for p in listing.json()["results"]] == [published.pk]
    detail = anon.get(f"/programmes/{published.pk}").json()
    assert detail["conditions"] == ["注册地在嘉善县", "小型、微型企业", "未列入失信黑名单"]
    assert detail["params"]["lpr_share"] == "50"
    assert detail["budget"] == [
        {
            "year": 2026,
            "appropriation": "10000000.00",
            "committed": "0.00",
            "paid": "0.00",
            "available": "10000000.00",
        }
    ]
    error(anon.get(f"/programmes/{draft.pk}"), 404, "not_found")
    error(as_user("ent_user").get(f"/programmes/{draft.pk}"), 404)
    error(as_user("gov_jiangsu").get(f"/programmes/{draft.pk}"), 404)  # another province
    assert as_user("fin_staff").get(f"/programmes/{draft.pk}").status_code == 200
    ids = {p["id"] for p in as_user("gov_jiashan").get("/programmes").json()["results"]}
    assert ids == {published.pk, draft.pk}
    assert as_user("fin_admin").get("/programmes", {"state": "draft"}).json()["count"] == 1
    assert anon.get("/programmes", {"in_force": True}).json()["count"] == 1
    # A credential that is offered must be valid, even where none is needed.
    error(Caller("crt_not-a-token").get("/programmes"), 401, "unauthenticated")
    error(anon.get("/programmes", {"kind": "lottery"}), 422, "invalid")


def test_contradictory_parameters_are_422_by_field_and_write_nothing(policy_world, as_user):
    admin = as_user("fin_admin")
    response = admin.post(
        "/programmes",
        programme_data(
            starts_on="2026-12-31",
            ends_on="2026-01-01",
            params={"method": "fixed", "rate": "120", "cap_per_loan": "-1"},
            eligibility={"term_min_months": 12, "term_max_months": 6},
        ),
    )
    error(response, 422, "invalid")
    assert {
        "ends_on",
        "params.rate",
        "params.cap_per_loan",
        "eligibility.term_max_months",
    } <= fields(response)
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert messages["params.cap_per_loan"] == "不能为负数"
    assert messages["params.rate"] == "不能超过 100%"
    assert messages["ends_on"] == "结束日期早于开始日期"
    # What the database could not store stops at the edge, named by field.
    response = admin.post("/programmes", programme_data(eligibility={"lists": ["白名单\x00"]}))
    assert invalid(response) == {"eligibility"}
    response = admin.post("/programmes", programme_data(notice_days=0, colour="red"))
    assert invalid(response) == {"notice_days", "colour"}
    # JSON types as documented: no 0 for false, no "5" for 5, no Unix time for a date.
    response = admin.post(
        "/programmes",
        programme_data(requires_bank_confirmation=0, notice_days="5", starts_on=0),
    )
    assert invalid(response) == {"requires_bank_confirmation", "notice_days", "starts_on"}
    assert not Programme.objects.exists()


def test_only_finance_or_industry_admins_create_and_manage(policy_world, as_user):
    for name in ("ent_user", "bank_manager", "fin_staff"):
        error(as_user(name).post("/programmes", programme_data()), 403, "forbidden")
    assert not Programme.objects.exists()
    created = as_user("gov_jiashan").post("/programmes", programme_data())  # 经信局
    assert created.status_code == 201
    programme_id = created.json()["id"]
    assert created.json()["state"] == "draft"
    # Another region's administrator does not even see the draft.
    error(as_user("gov_jiangsu").patch(f"/programmes/{programme_id}", {"name": "x"}), 404)
    error(
        as_user("gov_jiangsu").put(f"/programmes/{programme_id}/budget/2026", {"appropriation": 1}),
        404,
    )
    # A 财政 official of the region sees it but may not manage it.
    error(as_user("fin_staff").patch(f"/programmes/{programme_id}", {"name": "x"}), 403)
    error(
        as_user("fin_staff").put(f"/programmes/{programme_id}/budget/2026", {"appropriation": 1}),
        403,
    )
    assert Programme.objects.get(pk=programme_id).name == "嘉善县制造业贷款贴息"
    assert not BudgetYear.objects.exists()


def test_programme_from_draft_to_closed_with_its_budget_and_ledger(policy_world, as_user):
    admin = as_user("fin_admin")
    programme_id = admin.post("/programmes", programme_data()).json()["id"]
    patched = admin.patch(f"/programmes/{programme_id}", {"notice_days": 7, "summary": "按季申报"})
    assert patched.status_code == 200
    assert (patched.json()["notice_days"], patched.json()["summary"]) == (7, "按季申报")
    bad = admin.patch(f"/programmes/{programme_id}", {"params": {"method": "fixed"}})
    assert invalid(bad) == {"params.rate"}
    assert fields(admin.patch(f"/programmes/{programme_id}", {"name": None})) == {"name"}
    # Publishing needs a budget first.
    error(admin.post(f"/programmes/{programme_id}/publish"), 409, "no_budget")
    negative = admin.put(f"/programmes/{programme_id}/budget/2026", {"appropriation": "-5"})
    assert invalid(negative) == {"appropriation"}
    outside = admin.put(f"/programmes/{programme_id}/budget/2031", {"appropriation": "5"})
    assert invalid(outside) == {"year"}
    error(admin.put(f"/programmes/{programme_id}/budget/99999", {"appropriation": "5"}), 422)
    budget = admin.put(f"/programmes/{programme_id}/budget/2026", {"appropriation": "3000000"})
    assert budget.status_code == 200
    assert budget.json()["available"] == "3000000.00"
    published = admin.post(f"/programmes/{programme_id}/publish")
    assert published.status_code == 200 and published.json()["state"] == "published"
    error(admin.post(f"/programmes/{programme_id}/publish"), 409)
    error(admin.patch(f"/programmes/{programme_id}", {"name": "改名"}), 409, "programme_published")
    # The enterprise sees the published programme but not its ledger.
    error(as_user("ent_user").get(f"/programmes/{programme_id}/ledger"), 403)
    error(as_user("ent_user").post(f"/programmes/{programme_id}/close"), 403)
    ledger = admin.get(f"/programmes/{programme_id}/ledger")
    assert [(e["kind"], e["amount"]) for e in ledger.json()["results"]] == [
        ("appropriate", "3000000.00")
    ]
    assert admin.get(f"/programmes/{programme_id}/ledger", {"year": 2027}).json()["count"] == 0
    closed = admin.post(f"/programmes/{programme_id}/close")
    assert closed.json()["state"] == "closed"
    error(admin.get("/programmes/9223372036854775808"), 422)
    error(admin.get("/programmes/424242"), 404)


def test_eligibility_for_the_calling_enterprise(policy_world, as_user):
    pw = policy_world
    programme = make_programme(pw, eligibility={"sizes": ["micro"], "loan_date_from": "2026-02-01"})
    loan = make_loan(pw)
    answer = as_user("ent_user").get(f"/programmes/{programme.pk}/eligibility")
    assert answer.status_code == 200
    body = answer.json()
    assert body["eligible"] is False and body["status"] == "ineligible"
    assert any("微型" in f["message"] for f in body["failed"])
    with_loan = as_user("ent_user").get(
        f"/programmes/{programme.pk}/eligibility", {"loan": loan.pk}
    )
    assert any("2026-02-01" in f["message"] for f in with_loan.json()["failed"])
    open_to_all = make_programme(pw, eligibility={}, name="普惠贴息")
    assert as_user("ent_user").get(f"/programmes/{open_to_all.pk}/eligibility").json() == {
        "eligible": True,
        "status": "eligible",
        "failed": [],
        "missing": [],
    }
    error(as_user("bank_staff").get(f"/programmes/{programme.pk}/eligibility"), 403)
    # Someone else's loan is not visible.
    error(
        as_user("ent2_user").get(f"/programmes/{programme.pk}/eligibility", {"loan": loan.pk}),
        404,
    )


# --- loans -----------------------------------------------------------------------------


def loan_data(**overrides) -> dict:
    data = {
        "contract_no": "JS-2026-101",
        "principal": "5000000",
        "rate": "3.45",
        "loan_date": "2026-01-10",
        "maturity_date": "2027-01-10",
        "purpose": "购置数控机床",
    }
    data.update(overrides)
    return data


def test_off_platform_loan_entered_by_the_enterprise_and_confirmed_by_its_bank(
    policy_world, as_user
):
    pw = policy_world
    ent = as_user("ent_user")
    bad = ent.post(
        "/loans",
        loan_data(rate="120", maturity_date="2025-01-01", institution_id=pw.world.bank.pk),
    )
    assert invalid(bad) == {"rate"}  # the schema refuses it first
    bad = ent.post("/loans", loan_data(maturity_date="2025-01-01", principal="0", kind="lottery"))
    assert invalid(bad) == {"kind"}
    bad = ent.post("/loans", loan_data(maturity_date="2025-01-01", principal="0"))
    assert invalid(bad) == {"maturity_date", "principal", "institution_id"}
    assert fields(ent.post("/loans", loan_data(principal="1.234"))) == {"principal"}
    assert invalid(ent.post("/loans", loan_data(loan_date=0, institution_id=True))) == {
        "loan_date",
        "institution_id",
    }
    assert not Loan.objects.exists()
    created = ent.post("/loans", loan_data(institution_id=pw.world.bank.pk))
    assert created.status_code == 201, created.content
    loan = created.json()
    assert (loan["source"], loan["confirmed"], loan["principal"]) == (
        "off_platform",
        False,
        "5000000.00",
    )
    error(ent.post("/loans", loan_data(institution_id=pw.world.bank.pk)), 409, "duplicate_loan")
    # Only the lending bank confirms; another bank does not see the loan at all.
    error(as_user("bank2_staff").post(f"/loans/{loan['id']}/confirm"), 404)
    error(ent.post(f"/loans/{loan['id']}/confirm"), 403)
    confirmed = as_user("bank_staff").post(f"/loans/{loan['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["confirmed"] is True
    assert [x["id"] for x in ent.get("/loans").json()["results"]] == [loan["id"]]
    assert as_user("ent2_user").get("/loans").json()["count"] == 0
    error(as_user("ent2_user").get(f"/loans/{loan['id']}"), 404)
    assert as_user("gov_jiashan").get(f"/loans/{loan['id']}").status_code == 200
    # Entered by the bank itself, a loan is confirmed at once.
    by_bank = as_user("bank_staff").post(
        "/loans", loan_data(contract_no="JS-2026-102", enterprise_id=pw.world.ent2.pk)
    )
    assert by_bank.status_code == 201 and by_bank.json()["confirmed"] is True
    assert ent.get("/loans", {"confirmed": False}).json()["count"] == 0
    error(as_user("gov_jiashan").post("/loans", loan_data(contract_no="X")), 403)


def test_platform_loan_from_a_disbursed_demand(policy_world, as_user):
    pw = policy_world
    demand = Demand.objects.create(
        enterprise=pw.world.ent,
        kind="debt",
        amount=Decimal("3000000"),
        term_months=12,
        purpose="流动资金",
        state=DemandState.DISBURSED,
        outcome_institution=pw.world.bank,
        disbursed_amount=Decimal("3000000"),
        disbursed_rate=Decimal("3.6"),
        disbursed_term_months=12,
        disbursed_on=date(2026, 3, 1),
    )
    error(as_user("ent2_user").post(f"/loans/from-demand/{demand.pk}"), 404)
    error(as_user("gov_jiashan").post(f"/loans/from-demand/{demand.pk}"), 403)
    assert not Loan.objects.exists()
    first = as_user("ent_user").post(f"/loans/from-demand/{demand.pk}")
    assert first.status_code == 201
    loan = first.json()
    assert (loan["source"], loan["demand_id"], loan["principal"], loan["rate"]) == (
        "platform",
        demand.pk,
        "3000000.00",
        "3.600000",
    )
    assert loan["confirmed"] is True and loan["maturity_date"] == "2027-03-01"
    again = as_user("ent_user").post(f"/loans/from-demand/{demand.pk}")
    assert again.status_code == 200 and again.json()["id"] == loan["id"]
    undisbursed = Demand.objects.create(
        enterprise=pw.world.ent,
        kind="debt",
        amount=Decimal("1000000"),
        term_months=6,
        purpose="流动资金",
        state=DemandState.PUBLISHED,
    )
    error(as_user("ent_user").post(f"/loans/from-demand/{undisbursed.pk}"), 409, "not_disbursed")
    assert Loan.objects.count() == 1


# --- applications ----------------------------------------------------------------------


def test_preview_explains_the_amount_and_writes_nothing(policy_world, as_user):
    pw = policy_world
    programme = make_programme(pw)
    loan = make_loan(pw)
    audit_before = AuditEntry.objects.filter(action__startswith="policy.").count()
    response = as_user("ent_user").post(
        "/applications/preview",
        {"programme_id": programme.pk, "loan_id": loan.pk, **PERIOD, "paid_cost": "80000"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["calculation"]["amount"] == "35833.33"
    assert body["calculation"]["estimate"] is False
    assert len(body["calculation"]["lines"]) >= 3
    assert all(set(line) == {"label", "detail", "value"} for line in body["calculation"]["lines"])
    assert body["eligibility"]["eligible"] is True
    assert (body["duplicate"], body["can_submit"]) == ("", True)
    without_paid = as_user("ent_user").post(
        "/applications/preview", {"programme_id": programme.pk, "loan_id": loan.pk, **PERIOD}
    )
    assert without_paid.json()["calculation"]["estimate"] is True
    no_loan = as_user("ent_user").post(
        "/applications/preview", {"programme_id": programme.pk, **PERIOD}
    )
    assert invalid(no_loan) == {"loan_id"}
    backwards = as_user("ent_user").post(
        "/applications/preview",
        {
            "programme_id": programme.pk,
            "loan_id": loan.pk,
            "period_start": "2026-06-30",
            "period_end": "2026-01-01",
        },
    )
    assert invalid(backwards) == {"period_end"}
    error(
        as_user("ent_user").post(
            "/applications/preview",
            {"programme_id": programme.pk, "loan_id": loan.pk, **PERIOD, "paid_cost": -1},
        ),
        422,
    )
    error(
        as_user("ent2_user").post(
            "/applications/preview", {"programme_id": programme.pk, "loan_id": loan.pk, **PERIOD}
        ),
        404,
    )
    error(
        as_user("gov_jiashan").post(
            "/applications/preview", {"programme_id": programme.pk, "loan_id": loan.pk, **PERIOD}
        ),
        403,  # an agency sees the loan but does not apply
    )
    assert not Application.objects.exists()
    assert AuditEntry.objects.filter(action__startswith="policy.").count() == audit_before


def test_an_application_from_the_loan_to_the_payment(policy_world, as_user, anon):
    pw = policy_world
    programme = make_programme(pw)
    loan = make_loan(pw)
    app = applied(pw, as_user, programme, loan)
    assert app["state"] == "bank_pending"
    assert app["calculation"]["estimate"] is True
    assert app["actions"] == ["withdraw"]
    # A second application for the same loan and an overlapping period: 409, nothing written.
    before = Application.objects.count()
    duplicate = as_user("ent_user").post(
        "/applications",
        {
            "programme_id": programme.pk,
            "loan_id": loan.pk,
            "period_start": "2026-03-01",
            "period_end": "2026-03-31",
        },
    )
    error(duplicate, 409, "duplicate_application")
    assert Application.objects.count() == before
    # The lending bank's system confirms with its token; another bank sees nothing.
    path = f"/applications/{app['id']}"
    error(as_user("bank2_staff").post(f"{path}/bank-confirm", {"paid_cost": "80000"}), 404)
    error(as_user("ent_user").post(f"{path}/bank-confirm", {"paid_cost": "80000"}), 403)
    bank = as_user("bank_staff")
    assert bank.get(path).json()["actions"] == ["bank-confirm", "reject"]
    error(bank.post(f"{path}/bank-confirm", {"paid_cost": "abc"}), 422)
    confirmed = bank.post(f"{path}/bank-confirm", {"paid_cost": "80000"})
    assert confirmed.status_code == 200, confirmed.content
    assert (confirmed.json()["state"], confirmed.json()["amount"]) == ("submitted", "35833.33")
    assert confirmed.json()["paid_cost"] == "80000.00"
    error(bank.post(f"{path}/bank-confirm", {"paid_cost": "80000"}), 409)
    # 初审 by the programme's agencies only; 财政复核 by a different 财政 official.
    error(as_user("ent_user").post(f"{path}/verify"), 403)
    error(as_user("gov_jiangsu").post(f"{path}/verify"), 404)
    assert as_user("gov_jiashan").post(f"{path}/verify").json()["state"] == "verified"
    error(as_user("gov_jiashan").post(f"{path}/approve"), 403)
    approved = as_user("fin_admin").post(f"{path}/approve")
    assert approved.status_code == 200 and approved.json()["state"] == "notice"
    assert BudgetYear.objects.get(programme=programme, year=2026).committed == Decimal("35833.33")
    # The public 公示: who, which programme, how much — nothing about the loan.
    notices = anon.get("/notices")
    assert notices.status_code == 200
    (notice,) = notices.json()["results"]
    assert set(notice) == {
        "id",
        "programme_id",
        "programme_name",
        "kind_label",
        "region_name",
        "applicant_name",
        "year",
        "amount",
        "notice_starts_on",
        "notice_ends_on",
    }
    assert (notice["applicant_name"], notice["amount"]) == ("嘉善精工机械有限公司", "35833.33")
    assert anon.get("/notices", {"programme": programme.pk + 1}).json()["count"] == 0
    objection = anon.post(
        f"/notices/{app['id']}/objections",
        {"name": "张三", "contact": "13800000000", "text": "该笔贷款实为借新还旧"},
    )
    assert objection.status_code == 201
    assert set(objection.json()) == {"id", "created_at"}
    assert as_user("fin_admin").get(path).json()["open_objections"] == 1
    error(as_user("fin_admin").post(f"{path}/conclude"), 409, "notice_running")
    error(as_user("ent_user").get(f"{path}/objections"), 403)
    (listed,) = as_user("gov_jiashan").get(f"{path}/objections").json()
    handle = f"{path}/objections/{listed['id']}/handle"
    error(as_user("gov_jiashan").post(handle, {"resolution": "", "uphold": False}), 422)
    error(as_user("gov_jiashan").post(handle, {"resolution": "不属实", "uphold": 0}), 422)
    handled = as_user("gov_jiashan").post(handle, {"resolution": "经核实不属实", "uphold": False})
    assert handled.status_code == 200 and handled.json()["resolution"] == "经核实不属实"
    error(as_user("gov_jiashan").post(handle, {"resolution": "再次", "uphold": False}), 409)
    # The hourly job ends the 公示 (no open objection), then 财政 pays.
    assert services.close_notices(today=date(2030, 1, 1)) == 1
    error(as_user("fin_admin").post(f"{path}/pay", {"voucher_no": ""}), 422)
    error(
        as_user("fin_admin").post(f"{path}/pay", {"voucher_no": "GK-1", "paid_on": "2999-01-01"}),
        422,
    )
    error(as_user("gov_jiashan").post(f"{path}/pay", {"voucher_no": "GK-1"}), 403)
    paid = as_user("fin_staff").post(
        f"{path}/pay", {"voucher_no": "GK-2026-0001", "paid_on": "2026-08-02"}
    )
    assert paid.status_code == 200, paid.content
    assert (paid.json()["state"], paid.json()["voucher_no"]) == ("paid", "GK-2026-0001")
    kinds = [
        e["kind"]
        for e in as_user("fin_admin").get(f"/programmes/{programme.pk}/ledger").json()["results"]
    ]
    assert kinds == ["appropriate", "commit", "pay"]
    detail = as_user("fin_admin").get(f"/programmes/{programme.pk}").json()
    assert detail["budget"][0]["paid"] == "35833.33"
    assert anon.get("/notices").json()["count"] == 0
    error(
        anon.post(f"/notices/{app['id']}/objections", {"name": "a", "contact": "b", "text": "c"}),
        404,
    )


def test_reject_and_withdraw_need_a_reason_and_release_nothing_they_did_not_hold(
    policy_world, as_user
):
    pw = policy_world
    programme = make_programme(pw, requires_bank_confirmation=False)
    first = applied(pw, as_user, programme, make_loan(pw), paid_cost="90000")
    assert first["state"] == "submitted"
    path = f"/applications/{first['id']}"
    assert fields(as_user("gov_jiashan").post(f"{path}/reject", {"reason": ""})) == {"reason"}
    error(as_user("gov_jiashan").post(f"{path}/reject", {}), 422)
    error(as_user("ent_user").post(f"{path}/reject", {"reason": "不想要了"}), 403)
    rejected = as_user("gov_jiashan").post(f"{path}/reject", {"reason": "材料不全"})
    assert (rejected.json()["state"], rejected.json()["reason"]) == ("rejected", "材料不全")
    assert rejected.json()["actions"] == []
    second = applied(pw, as_user, programme, make_loan(pw, no="JS-2026-002"), paid_cost="90000")
    path = f"/applications/{second['id']}"
    as_user("gov_jiashan").post(f"{path}/verify")
    as_user("fin_admin").post(f"{path}/approve")
    error(as_user("gov_jiashan").post(f"{path}/withdraw", {"reason": "x"}), 403)
    withdrawn = as_user("ent_user").post(f"{path}/withdraw", {"reason": "重复申报"})
    assert withdrawn.json()["state"] == "withdrawn"
    assert BudgetYear.objects.get(programme=programme, year=2026).committed == 0
    assert list(
        LedgerEntry.objects.filter(budget__programme=programme).values_list("kind", flat=True)
    ) == ["appropriate", "commit", "release"]


def test_an_approval_that_does_not_fit_the_budget_is_409_and_writes_nothing(policy_world, as_user):
    pw = policy_world
    programme = make_programme(pw, appropriation=Decimal("50000"), requires_bank_confirmation=False)
    one = applied(pw, as_user, programme, make_loan(pw), paid_cost="90000")
    two = (
        as_user("ent2_user")
        .post(
            "/applications",
            {
                "programme_id": programme.pk,
                "loan_id": make_loan(pw, pw.world.ent2, no="JS-2026-002").pk,
                **PERIOD,
                "paid_cost": "90000",
            },
        )
        .json()
    )
    for app in (one, two):
        as_user("gov_jiashan").post(f"/applications/{app['id']}/verify")
    assert as_user("fin_admin").post(f"/applications/{one['id']}/approve").status_code == 200
    entries = LedgerEntry.objects.count()
    error(as_user("fin_admin").post(f"/applications/{two['id']}/approve"), 409, "budget_exhausted")
    assert LedgerEntry.objects.count() == entries
    assert Application.objects.get(pk=two["id"]).state == ApplicationState.VERIFIED


def test_an_ineligible_loan_is_refused_with_every_reason(policy_world, as_user):
    pw = policy_world
    programme = make_programme(pw, eligibility={"sizes": ["micro"], "loan_date_from": "2026-02-01"})
    response = as_user("ent_user").post(
        "/applications", {"programme_id": programme.pk, "loan_id": make_loan(pw).pk, **PERIOD}
    )
    body = error(response, 422, "invalid")
    assert body["message"] == "不符合申请条件"
    assert {e["field"] for e in body["errors"]} == {"eligibility"}
    assert len(body["errors"]) == 2
    assert not Application.objects.exists()


def test_applications_are_listed_by_visibility_with_filters(policy_world, as_user):
    pw = policy_world
    programme = make_programme(pw)
    other = make_programme(pw, name="另一项贴息")
    mine = applied(pw, as_user, programme, make_loan(pw))
    theirs = (
        as_user("ent2_user")
        .post(
            "/applications",
            {
                "programme_id": other.pk,
                "loan_id": make_loan(pw, pw.world.ent2, no="JS-2026-002").pk,
                **PERIOD,
            },
        )
        .json()
    )

    def ids(name, **params):
        response = as_user(name).get("/applications", params or None)
        assert response.status_code == 200, response.content
        return {a["id"] for a in response.json()["results"]}

    assert ids("ent_user") == {mine["id"]}
    assert ids("ent2_user") == {theirs["id"]}
    assert ids("bank_staff") == {mine["id"], theirs["id"]}  # both loans are the bank's
    assert ids("bank2_staff") == set()
    assert ids("gov_jiashan") == {mine["id"], theirs["id"]}
    assert ids("gov_jiangsu") == set()
    assert ids("fin_admin", programme=programme.pk) == {mine["id"]}
    assert ids("fin_admin", state="bank_pending", year=2026) == {mine["id"], theirs["id"]}
    assert ids("fin_admin", year=2025) == set()
    error(as_user("fin_admin").get("/applications", {"state": "won"}), 422)
    error(as_user("fin_admin").get("/applications", {"year": 1800}), 422)
    error(as_user("fin_admin").get("/applications", {"page_size": 0}), 422)
    error(as_user("ent2_user").get(f"/applications/{mine['id']}"), 404)
    detail = as_user("ent_user").get(f"/applications/{mine['id']}").json()
    assert detail["contract_no"] == "JS-2026-001" and detail["calculation"]["lines"]
    error(Caller().get("/applications"), 401, "unauthenticated")


# --- the webhook to the bank -----------------------------------------------------------


def endpoint_for(institution, events) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        institution=institution,
        url="https://bank.example/chanrong/webhook",
        secret_encrypted=webhooks.encrypt_secret(webhooks.new_secret()),
        secret_hint="abcd",
        events=events,
    )


def test_the_lending_bank_is_told_by_webhook_and_no_other_bank(policy_world, as_user):
    pw = policy_world
    assert EVENT in {
        e["name"]
        for e in as_user("bank_manager")
        .client.get("/api/v1/webhooks/events", headers=as_user("bank_manager").headers)
        .json()
    }
    lender = endpoint_for(pw.world.bank, [EVENT])
    uninterested = endpoint_for(pw.world.bank, ["dispatch.created"])
    other_bank = endpoint_for(pw.world.bank2, [EVENT])
    programme = make_programme(pw)
    loan = make_loan(pw)
    app = applied(pw, as_user, programme, loan)
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.endpoint_id == lender.pk
    assert delivery.event == EVENT
    assert delivery.payload["application_id"] == app["id"]
    assert delivery.payload["contract_no"] == "JS-2026-001"
    assert not WebhookDelivery.objects.filter(endpoint__in=[uninterested, other_bank]).exists()
    # No bank confirmation needed: no event.
    direct = make_programme(pw, requires_bank_confirmation=False, name="无需银行确认的贴息")
    applied(pw, as_user, direct, loan, paid_cost="80000")
    assert WebhookDelivery.objects.count() == 1


def test_a_subscription_to_the_policy_event_is_accepted(policy_world, as_user, settings):
    settings.CHANRONG_WEBHOOK_ALLOW_PRIVATE = True
    manager = as_user("bank_manager")
    response = manager.client.post(
        "/api/v1/webhooks",
        {"url": "http://127.0.0.1:9/hook", "events": [EVENT]},
        content_type="application/json",
        headers=manager.headers,
    )
    assert response.status_code == 201, response.content
    assert response.json()["events"] == [EVENT]


# --- public endpoints: nothing private, nothing without limits ---------------------------


def test_public_endpoints_expose_nothing_private(policy_world, anon, as_user):
    pw = policy_world
    programme = make_programme(pw, requires_bank_confirmation=False)
    app = applied(pw, as_user, programme, make_loan(pw), paid_cost="80000")
    # Not in 公示 yet: nothing public about it.
    assert anon.get("/notices").json()["count"] == 0
    error(
        anon.post(f"/notices/{app['id']}/objections", {"name": "a", "contact": "b", "text": "c"}),
        404,
    )
    for path in (
        "/applications",
        f"/applications/{app['id']}",
        "/loans",
        f"/programmes/{programme.pk}/ledger",
        f"/programmes/{programme.pk}/eligibility",
    ):
        error(anon.get(path), 401, "unauthenticated")
    error(anon.post("/applications", {"programme_id": programme.pk}), 401)
    error(anon.post(f"/applications/{app['id']}/verify"), 401)
    error(anon.post("/programmes", programme_data()), 401)
    detail = anon.get(f"/programmes/{programme.pk}").json()
    assert "created_by" not in detail and "applications" not in detail


def test_anonymous_objections_are_checked_and_limited(policy_world, anon, as_user):
    pw = policy_world
    programme = make_programme(pw, requires_bank_confirmation=False)
    app = applied(pw, as_user, programme, make_loan(pw), paid_cost="80000")
    as_user("gov_jiashan").post(f"/applications/{app['id']}/verify")
    as_user("fin_admin").post(f"/applications/{app['id']}/approve")
    path = f"/notices/{app['id']}/objections"
    empty = anon.post(path, {"name": "", "contact": "", "text": ""})
    assert invalid(empty) == {"name", "contact", "text"}
    error(anon.post(path, {"name": "张\x00三", "contact": "1", "text": "x"}), 422)
    # Refused requests count too: 2 so far, 18 more, then the 21st in the hour is refused.
    for n in range(18):
        assert (
            anon.post(path, {"name": f"人{n}", "contact": "1", "text": "异议"}).status_code == 201
        )
    error(anon.post(path, {"name": "第二十一", "contact": "1", "text": "异议"}), 429, "throttled")
    assert Objection.objects.count() == 18
    # Signed-in callers are not limited by the anonymous budget.
    assert (
        as_user("ent2_user")
        .post(path, {"name": "企业", "contact": "1", "text": "异议"})
        .status_code
        == 201
    )
