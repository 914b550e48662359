"""The supply-chain API (/api/v1/supplychain) as clients use it: a supplier
registers a receivable, its debtor confirms it, the bank's own system finds
it on offer with its bearer token, finances it and reports the repayment;
the core enterprise issues a voucher that is split two levels down and
partly discounted, and the tree still sums; chains with members and
measures. Webhook deliveries go to the bank concerned and to no other.

Every refusal is checked for its status, its error shape and that nothing
was written. Dates are relative to today: the API acts on the local date.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from chanrong.accounts.services import create_token
from chanrong.api import webhooks
from chanrong.api.models import WebhookDelivery, WebhookEndpoint
from chanrong.registry.models import DataAuthorisation
from chanrong.supplychain import services
from chanrong.supplychain.models import (
    Chain,
    Financing,
    Invoice,
    Receivable,
    ReceivableState,
    Voucher,
)

from .conftest import digital_invoice, invoice

pytestmark = pytest.mark.django_db

API = "/api/v1/supplychain"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Caller:
    """JSON over the Django test client with one user's bearer token."""

    def __init__(self, user):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {create_token(None, user, 'test').raw}"}

    def get(self, path: str, params=None):
        return self.client.get(API + path, query_params=params, headers=self.headers)

    def post(self, path: str, data=None):
        if data is None:  # no body at all, as curl -X POST sends it
            return self.client.generic("POST", API + path, headers=self.headers)
        return self.client.post(
            API + path, data=data, content_type="application/json", headers=self.headers
        )

    def delete(self, path: str):
        return self.client.delete(API + path, headers=self.headers)


@pytest.fixture
def call(sc):
    made: dict[str, Caller] = {}

    def caller(name: str) -> Caller:
        if name not in made:
            made[name] = Caller(sc.user(name))
        return made[name]

    return caller


def today():
    return timezone.localdate()


def body(sc, **over):
    data = {
        "debtor_uscc": sc.core.uscc,
        "contract_no": "HT-API-001",
        "amount": "1000000.00",
        "issued_on": str(today() - timedelta(days=10)),
        "due_on": str(today() + timedelta(days=90)),
        "invoices": [invoice(), digital_invoice()],
    }
    data.update(over)
    return data


def fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def registered(sc, call, **over) -> dict:
    response = call("ent_user").post("/receivables", body(sc, **over))
    assert response.status_code == 201, response.json()
    return response.json()


def confirmed(sc, call, amount=None, **over) -> dict:
    created = registered(sc, call, **over)
    data = {"confirmed_amount": amount} if amount else None
    response = call("core_user").post(f"/receivables/{created['id']}/confirm", data)
    assert response.status_code == 200, response.json()
    return response.json()


def financing_body(**over):
    data = {
        "mode": "factoring_recourse",
        "advance_ratio": "80",
        "amount": "400000.00",
        "backing": "500000.00",
        "registration_no": "06930000000000000001",
        "contract_no": "BL-API-001",
    }
    data.update(over)
    return data


def endpoint_for(institution, events) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        institution=institution,
        url="https://bank.example/chanrong/webhook",
        secret_encrypted=webhooks.encrypt_secret(webhooks.new_secret()),
        secret_hint="abcd",
        events=events,
    )


# --- receivables ------------------------------------------------------------------------


def test_register_confirm_finance_repay(sc, world, call):
    created = registered(sc, call)
    assert created["state"] == "registered" and created["confirmed_amount"] is None
    assert len(created["invoices"]) == 2
    # The bank does not see it before confirmation; the debtor does.
    assert call("bank_staff").get(f"/receivables/{created['id']}").status_code == 404
    assert call("core_user").get("/receivables", {"role": "debtor"}).json()["count"] == 1
    assert call("core_user").get("/receivables", {"role": "creditor"}).json()["count"] == 0

    part = call("core_user").post(
        f"/receivables/{created['id']}/confirm", {"confirmed_amount": "900000.00"}
    )
    assert part.status_code == 200, part.json()
    assert part.json()["state"] == "partly_confirmed"
    assert part.json()["confirmed_amount"] == "900000.00"
    assert part.json()["debtor_listed"] is True

    # Offered to the bank the supplier authorised (by bearer token), not to the other.
    offers = call("bank_staff").get("/offers/receivables").json()
    assert [r["id"] for r in offers["results"]] == [created["id"]]
    assert offers["results"][0]["available"] == "900000.00"
    assert call("bank2_staff").get("/offers/receivables").json()["count"] == 0
    assert call("ent_user").get("/offers/receivables").json()["count"] == 0

    first = call("bank_staff").post(f"/receivables/{created['id']}/financings", financing_body())
    assert first.status_code == 201, first.json()
    financing = first.json()
    assert financing["backing"] == "500000.00" and financing["amount"] == "400000.00"
    assert financing["state"] == "active" and financing["bank_id"] == world.bank.pk
    # More than what is left unfinanced: 409, nothing written.
    again = call("bank_staff").post(
        f"/receivables/{created['id']}/financings",
        financing_body(backing="400000.01", amount="1.00", registration_no="06930000000000000002"),
    )
    assert again.status_code == 409 and again.json()["code"] == "exceeds_unfinanced"
    # A bank the supplier never authorised does not even see it.
    other = call("bank2_staff").post(
        f"/receivables/{created['id']}/financings",
        financing_body(registration_no="06930000000000000003"),
    )
    assert other.status_code == 404
    assert Financing.objects.count() == 1
    assert Receivable.objects.get(pk=created["id"]).financed == Decimal("500000.00")

    assert call("ent_user").get("/financings").json()["count"] == 1
    assert call("core_user").get("/financings").json()["count"] == 1
    assert call("bank2_staff").get(f"/financings/{financing['id']}").status_code == 404

    future = call("bank_staff").post(
        f"/financings/{financing['id']}/repay", {"repaid_on": str(today() + timedelta(days=1))}
    )
    assert future.status_code == 422 and fields(future) == {"repaid_on"}
    assert call("ent_user").post(f"/financings/{financing['id']}/repay").status_code == 403
    repaid = call("bank_staff").post(f"/financings/{financing['id']}/repay")
    assert repaid.status_code == 200 and repaid.json()["state"] == "repaid"
    assert repaid.json()["repaid_on"] == str(today())
    twice = call("bank_staff").post(f"/financings/{financing['id']}/repay")
    assert twice.status_code == 409


def test_bad_receivables_are_refused_by_field_and_nothing_is_written(sc, call):
    ent = call("ent_user")
    cases = [
        ({"invoices": [{"code": "33002611", "number": "1234"}]}, {"invoices[0]"}),
        ({"invoices": ["12345"]}, {"invoices[0]"}),
        ({"invoices": []}, {"invoices"}),
        ({"amount": "0"}, {"amount"}),
        ({"amount": "12.345"}, {"amount"}),
        (
            {
                "issued_on": str(today() - timedelta(days=5)),
                "due_on": str(today() - timedelta(days=6)),
            },
            {"due_on"},
        ),
        ({"issued_on": "1700000000"}, {"issued_on"}),
        ({"debtor_uscc": "91330421MA2B00000X"}, {"debtor_uscc"}),
        ({"unknown": 1}, {"unknown"}),
        ({"purchaser_agency_id": 1}, {"purchaser_agency_id"}),
    ]
    for over, expected in cases:
        response = ent.post("/receivables", body(sc, **over))
        assert response.status_code == 422, (over, response.json())
        assert fields(response) == expected, (over, response.json())
    # Only a supplier's enterprise user registers.
    assert call("bank_staff").post("/receivables", body(sc)).status_code == 403
    assert not Receivable.objects.exists() and not Invoice.objects.exists()


def test_the_same_invoice_twice_is_a_conflict(sc, call):
    same = invoice()
    registered(sc, call, invoices=[same])
    response = call("ent2_user").post(
        "/receivables", body(sc, contract_no="HT-API-002", invoices=[same])
    )
    assert response.status_code == 409 and response.json()["code"] == "invoice_registered"
    assert Receivable.objects.count() == 1


def test_confirm_dispute_withdraw_and_their_refusals(sc, call):
    created = registered(sc, call)
    path = f"/receivables/{created['id']}"
    # Someone else's receivable: not visible (404); the creditor may not confirm (403).
    assert call("ent2_user").post(path + "/confirm").status_code == 404
    assert call("ent_user").post(path + "/confirm").status_code == 403
    over = call("core_user").post(path + "/confirm", {"confirmed_amount": "1000000.01"})
    assert over.status_code == 422 and fields(over) == {"confirmed_amount"}
    zero = call("core_user").post(path + "/confirm", {"confirmed_amount": "0"})
    assert zero.status_code == 422 and fields(zero) == {"confirmed_amount"}
    no_reason = call("core_user").post(path + "/dispute", {"reason": ""})
    assert no_reason.status_code == 422 and fields(no_reason) == {"reason"}
    assert Receivable.objects.get(pk=created["id"]).state == ReceivableState.REGISTERED

    disputed = call("core_user").post(path + "/dispute", {"reason": "货物质量问题"})
    assert disputed.status_code == 200 and disputed.json()["state"] == "disputed"
    assert disputed.json()["dispute_reason"] == "货物质量问题"
    assert call("core_user").post(path + "/confirm").status_code == 409
    assert call("core_user").post(path + "/withdraw").status_code == 403
    withdrawn = call("ent_user").post(path + "/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert withdrawn.json()["invoices"] == []  # freed, to be registered again

    done = confirmed(sc, call, contract_no="HT-API-003")
    assert done["state"] == "confirmed" and done["confirmed_amount"] == "1000000.00"
    again = call("core_user").post(f"/receivables/{done['id']}/confirm")
    assert again.status_code == 409


def test_financing_an_unconfirmed_or_fully_financed_receivable(sc, world, call):
    created = registered(sc, call)
    # The bank cannot see a receivable before its 确权: 404, nothing written.
    response = call("bank_staff").post(f"/receivables/{created['id']}/financings", financing_body())
    assert response.status_code == 404
    done = confirmed(sc, call, contract_no="HT-API-004")
    path = f"/receivables/{done['id']}/financings"
    too_much = call("bank_staff").post(path, financing_body(amount="400000.01"))
    assert too_much.status_code == 422 and fields(too_much) == {"amount"}
    bad_ratio = call("bank_staff").post(path, financing_body(advance_ratio="0"))
    assert bad_ratio.status_code == 422 and fields(bad_ratio) == {"advance_ratio"}
    bad_mode = call("bank_staff").post(path, financing_body(mode="loan"))
    assert bad_mode.status_code == 422 and fields(bad_mode) == {"mode"}
    full = call("bank_staff").post(path, financing_body(backing=None, amount="800000.00"))
    assert full.status_code == 201, full.json()
    # The second bank, now authorised too, finds nothing left.
    DataAuthorisation.objects.create(enterprise=world.ent, institution=world.bank2)
    assert call("bank2_staff").get("/offers/receivables").json()["count"] == 0
    late = call("bank2_staff").post(path, financing_body(registration_no="06930000000000000009"))
    assert late.status_code == 409 and late.json()["code"] == "fully_financed"
    assert Financing.objects.count() == 1


# --- vouchers ---------------------------------------------------------------------------


def test_voucher_split_two_levels_down_discounted_and_the_tree_sums(sc, world, call):
    payable = confirmed(sc, call)
    # Only the debtor, a listed core enterprise, issues.
    assert call("ent_user").post(f"/receivables/{payable['id']}/vouchers").status_code == 403
    issued = call("core_user").post(
        f"/receivables/{payable['id']}/vouchers", {"amount": "600000.00"}
    )
    assert issued.status_code == 201, issued.json()
    root = issued.json()
    assert root["holder_id"] == world.ent.pk and root["state"] == "held"

    bad = call("ent_user").post(
        f"/vouchers/{root['id']}/split", {"parts": [{"holder": world.ent2.pk, "amount": "0"}]}
    )
    assert bad.status_code == 422 and fields(bad) == {"parts[0].amount"}
    over = call("ent_user").post(
        f"/vouchers/{root['id']}/split",
        {"parts": [{"holder": world.ent2.uscc, "amount": "600000.01"}]},
    )
    assert over.status_code == 422 and fields(over) == {"parts"}
    assert call("ent2_user").post(
        f"/vouchers/{root['id']}/split", {"parts": [{"holder": world.ent2.pk, "amount": "1"}]}
    ).status_code in (403, 404)

    split = call("ent_user").post(
        f"/vouchers/{root['id']}/split",
        {"parts": [{"holder": world.ent2.uscc, "amount": "250000.00"}]},
    )
    assert split.status_code == 200, split.json()
    to_ent2, kept = split.json()
    assert (to_ent2["holder_id"], to_ent2["amount"]) == (world.ent2.pk, "250000.00")
    assert (kept["holder_id"], kept["amount"]) == (world.ent.pk, "350000.00")
    # The split node is gone for further splits (409).
    again = call("ent_user").post(
        f"/vouchers/{root['id']}/split", {"parts": [{"holder": world.ent2.pk, "amount": "1"}]}
    )
    assert again.status_code == 409

    # Level two: ent2 passes part of its node on, to a third enterprise (by USCC).
    self_transfer = call("ent2_user").post(
        f"/vouchers/{to_ent2['id']}/transfer", {"to": world.ent2.pk}
    )
    assert self_transfer.status_code == 422 and fields(self_transfer) == {"to"}
    too_much = call("ent2_user").post(
        f"/vouchers/{to_ent2['id']}/transfer", {"to": world.ent_js.uscc, "amount": "250000.01"}
    )
    assert too_much.status_code == 422 and fields(too_much) == {"amount"}
    moved = call("ent2_user").post(
        f"/vouchers/{to_ent2['id']}/transfer", {"to": world.ent_js.uscc, "amount": "100000.00"}
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["depth"] == 2 and moved.json()["holder_id"] == world.ent_js.pk

    # The bank the holder (ent) authorised discounts part of ent's kept node.
    offered = call("bank_staff").get("/offers/vouchers").json()
    assert [v["id"] for v in offered["results"]] == [kept["id"]]
    assert call("bank2_staff").get(f"/vouchers/{kept['id']}").status_code == 404
    refused = call("bank2_staff").post(
        f"/vouchers/{kept['id']}/discount", {"discount_rate": "3.2", "contract_no": "TX-1"}
    )
    assert refused.status_code == 404
    bad_rate = call("bank_staff").post(
        f"/vouchers/{kept['id']}/discount", {"discount_rate": "-1", "contract_no": "TX-1"}
    )
    assert bad_rate.status_code == 422 and fields(bad_rate) == {"discount_rate"}
    discounted = call("bank_staff").post(
        f"/vouchers/{kept['id']}/discount",
        {"amount": "200000.00", "discount_rate": "3.2", "contract_no": "TX-1"},
    )
    assert discounted.status_code == 200, discounted.json()
    assert discounted.json()["state"] == "discounted"
    assert Decimal(discounted.json()["discount_proceeds"]) < Decimal("200000.00")
    # Now the bank sees the node discounted with it.
    assert call("bank_staff").get("/vouchers").json()["count"] == 1

    tree = call("core_user").get(f"/vouchers/{moved.json()['id']}/tree")
    assert tree.status_code == 200
    check = tree.json()["check"]
    assert check["holds"] is True and check["face"] == check["leaves"] == "600000.00"
    assert check["unbalanced"] == []
    assert len(tree.json()["nodes"]) == check["nodes"] == Voucher.objects.count()
    # A holder down the chain sees its own nodes, and the check.
    js_tree = call("ent2_user").get(f"/vouchers/{to_ent2['id']}/tree").json()
    assert js_tree["check"]["holds"] is True
    assert {n["holder_id"] for n in js_tree["nodes"]} == {world.ent2.pk}
    assert services.check_tree(root["id"]).holds
    # Payment only at maturity.
    assert call("core_user").post(f"/vouchers/{root['id']}/pay").status_code == 409


# --- chains -----------------------------------------------------------------------------


def test_chains_members_and_measures(sc, world, call):
    created = call("core_user").post("/chains", {"name": "新能源汽车零部件"})
    assert created.status_code == 201, created.json()
    chain = created.json()
    assert chain["kept_by"] == "core" and chain["lead_id"] == sc.core.pk
    assert chain["region_code"] == "330421"
    assert call("core_user").post("/chains", {"name": "新能源汽车零部件"}).status_code == 409

    path = f"/chains/{chain['id']}"
    # Before it is a member, ent does not see the chain.
    assert call("ent_user").get(path).status_code == 404
    member = call("core_user").post(
        path + "/members", {"enterprise": world.ent.uscc, "role": "supplier", "tier": 1}
    )
    assert member.status_code == 201, member.json()
    assert (
        call("core_user")
        .post(path + "/members", {"enterprise": world.ent.pk, "role": "supplier", "tier": 1})
        .status_code
        == 409
    )
    bad = call("core_user").post(
        path + "/members", {"enterprise": world.ent2.pk, "role": "supplier", "tier": 4}
    )
    assert bad.status_code == 422 and fields(bad) == {"tier"}
    lead = call("core_user").post(
        path + "/members", {"enterprise": sc.core.pk, "role": "supplier", "tier": 1}
    )
    assert lead.status_code == 422 and fields(lead) == {"enterprise"}
    not_keeper = call("ent_user").post(
        path + "/members", {"enterprise": world.ent2.pk, "role": "dealer", "tier": 2}
    )
    assert not_keeper.status_code == 403

    measure = call("core_user").post(path + "/measures", {"text": "链主确权后三日内付款"})
    assert measure.status_code == 201 and measure.json()["issued_on"] == str(today())
    assert call("ent_user").get(path).status_code == 200
    assert call("ent_user").get(path + "/measures").json()["count"] == 1
    assert call("bank_staff").get("/chains", {"region": "3304"}).json()["count"] == 1
    assert call("ent2_user").get("/chains").json()["count"] == 0
    members = call("bank_staff").get(path + "/members").json()
    assert [m["enterprise_id"] for m in members["results"]] == [world.ent.pk]

    removed = call("core_user").delete(f"{path}/members/{member.json()['id']}")
    assert removed.status_code == 204
    assert call("ent_user").get(path).status_code == 404
    assert Chain.objects.count() == 1


# --- webhooks ---------------------------------------------------------------------------

EVENTS = [
    "supplychain.receivable_confirmed",
    "supplychain.financing_created",
    "supplychain.financing_repaid",
]


def test_webhooks_reach_the_bank_concerned_and_no_other(sc, world, call):
    mine = endpoint_for(world.bank, EVENTS)
    uninterested = endpoint_for(world.bank, ["dispatch.created"])
    other_bank = endpoint_for(world.bank2, EVENTS)

    done = confirmed(sc, call, amount="900000.00")
    (offer,) = WebhookDelivery.objects.all()
    assert (offer.endpoint_id, offer.event) == (mine.pk, "supplychain.receivable_confirmed")
    assert offer.payload["receivable_id"] == done["id"]
    assert offer.payload["confirmed_amount"] == "900000.00"
    assert offer.payload["creditor_uscc"] == world.ent.uscc

    financing = (
        call("bank_staff").post(f"/receivables/{done['id']}/financings", financing_body()).json()
    )
    call("bank_staff").post(f"/financings/{financing['id']}/repay")
    events = list(
        WebhookDelivery.objects.filter(endpoint=mine).order_by("pk").values_list("event", flat=True)
    )
    assert events == EVENTS
    repaid = WebhookDelivery.objects.get(endpoint=mine, event="supplychain.financing_repaid")
    assert repaid.payload["financing_id"] == financing["id"]
    assert repaid.payload["state"] == "repaid"
    assert not WebhookDelivery.objects.filter(endpoint__in=[uninterested, other_bank]).exists()


def test_a_subscription_to_the_supplychain_events_is_accepted(sc, world, settings):
    settings.CHANRONG_WEBHOOK_ALLOW_PRIVATE = True
    from tests.conftest import _user

    manager = _user("sc_bank_manager", "institution_manager", institution=world.bank)
    client = Client()
    token = create_token(None, manager, "test").raw
    response = client.post(
        "/api/v1/webhooks",
        {"url": "http://127.0.0.1:9/hook", "events": [*EVENTS, "supplychain.voucher_paid"]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.json()
    assert "supplychain.financing_repaid" in response.json()["events"]
