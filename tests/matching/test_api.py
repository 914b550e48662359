"""/api/v1 matching: who sees a demand's matches and how much, the
institution's side (ranked demands, outreach), and policy weights."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chanrong.core.models import AuditEntry
from chanrong.matching.models import PolicyWeights
from chanrong.registry.models import (
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListType,
    ListVersion,
    VersionStatus,
)

from .surface_fixtures import *  # noqa: F403
from .surface_fixtures import API, product_ids, publish

pytestmark = pytest.mark.django_db

FULL = ("ent_user", "gov_jiashan", "gov_jiashan_staff", "gov_zhejiang", "gov_national", "admin")


def matches(client, demand):
    return client.get(f"{API}/demands/{demand.pk}/matches")


@pytest.mark.parametrize("username", FULL)
def test_owner_government_in_scope_and_admin_get_the_full_list(
    world, catalogue, demand, client_as, username
):
    response = matches(client_as(username), demand)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["view"] == "full"
    ranked = {m["product_id"] for m in body["ranked"]}
    assert ranked == product_ids(catalogue, "bank_fit", "bank_fit2", "bank2_fit")
    why_not = {m["product_id"]: m for m in body["not_eligible"]}
    assert set(why_not) == product_ids(catalogue, "bank_small", "bank2_small")
    assert all(m["failed"] for m in why_not.values())
    assert any("500" in f or "50" in f for f in why_not[catalogue["bank_small"].pk]["failed"])
    assert {i["institution_id"] for i in body["institutions"]} == {world.bank.pk, world.bank2.pk}
    assert body["policy_weights"]["region_code"] == ""
    assert set(body["policy_weights"]["weights"]) == {"white_list", "specialised", "tech", "green"}
    scores = [m["score"] for m in body["ranked"]]
    assert scores == sorted(scores, reverse=True)
    assert all(m["reasons"] for m in body["ranked"])


@pytest.mark.parametrize("username", ["ent2_user", "gov_jiangsu"])
def test_others_get_404(demand, client_as, username):
    response = matches(client_as(username), demand)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_anonymous_gets_401(demand, client_as):
    assert matches(client_as(None), demand).status_code == 401


def test_unknown_demand_is_404_and_bad_id_422(world, client_as):
    client = client_as("admin")
    assert client.get(f"{API}/demands/999999/matches").status_code == 404
    assert client.get(f"{API}/demands/0/matches").status_code == 422
    assert client.get(f"{API}/demands/abc/matches").status_code == 422


def _ids_in(body) -> tuple[set[int], set[int]]:
    products = {m["product_id"] for m in body["ranked"] + body["not_eligible"]}
    products |= {i["best_product_id"] for i in body["institutions"]}
    institutions = {m["institution_id"] for m in body["ranked"] + body["not_eligible"]}
    institutions |= {i["institution_id"] for i in body["institutions"]}
    return products, institutions


@pytest.mark.parametrize(
    ("username", "own", "others"),
    [
        ("bank_staff", ("bank_fit", "bank_fit2", "bank_small"), ("bank2_fit", "bank2_small")),
        ("bank_manager", ("bank_fit", "bank_fit2", "bank_small"), ("bank2_fit", "bank2_small")),
        ("bank2_staff", ("bank2_fit", "bank2_small"), ("bank_fit", "bank_fit2", "bank_small")),
    ],
)
def test_an_institution_sees_only_its_own_products(
    world, catalogue, demand, client_as, username, own, others
):
    response = matches(client_as(username), demand)
    assert response.status_code == 200
    body = response.json()
    assert body["view"] == "own"
    mine = world.user(username).institution_id
    products, institutions = _ids_in(body)
    assert products == product_ids(catalogue, *own)
    assert institutions == {mine}
    # nothing of the other institution anywhere in the answer: ids, names, scores
    text = response.content.decode()
    full = matches(client_as("admin"), demand).json()
    other_scores = [
        m["score"]
        for m in full["ranked"] + full["not_eligible"]
        if m["product_id"] in product_ids(catalogue, *others)
    ]
    mine_scores = [m["score"] for m in body["ranked"] + body["not_eligible"]]
    for name in others:
        assert catalogue[name].name not in text
    other_name = world.bank2.short_name if mine == world.bank.pk else world.bank.short_name
    assert other_name not in text
    for score in set(other_scores) - set(mine_scores):
        assert repr(score) not in text


def test_an_institution_the_demand_was_not_dispatched_to_gets_404(
    world, catalogue, make_demand, client_as
):
    big = make_demand(amount_wan=800)  # only bank2's product reaches 800 万
    assert set(big.dispatches.values_list("institution_id", flat=True)) == {world.bank2.pk}
    assert matches(client_as("bank_staff"), big).status_code == 404
    assert matches(client_as("bank2_staff"), big).status_code == 200


def test_same_data_same_answer(demand, client_as):
    client = client_as("ent_user")
    first, second = matches(client, demand).json(), matches(client, demand).json()
    assert first == second


def test_ties_break_by_product_id(world, make_demand, client_as):
    user = world.user("bank_staff")
    twins = [publish(user, name=f"孪生贷{i}") for i in range(3)]
    body = matches(client_as("ent_user"), make_demand()).json()
    order = [m["product_id"] for m in body["ranked"] if m["product_id"] in {t.pk for t in twins}]
    assert order == sorted(t.pk for t in twins)


def test_weights_in_force_are_reported(world, demand, client_as):
    client = client_as("gov_zhejiang")
    body = {"white_list": 2, "specialised": 0, "tech": 1.5, "green": 1}
    assert (
        client.put(
            f"{API}/policy-weights/330000", data=body, content_type="application/json"
        ).status_code
        == 200
    )
    weights = matches(client_as("ent_user"), demand).json()["policy_weights"]
    assert weights["region_code"] == "330000"
    assert weights["region_name"] == "浙江省"
    assert weights["weights"] == {"white_list": 2.0, "specialised": 0.0, "tech": 1.5, "green": 1.0}


# --- the institution's side ----------------------------------------------------------------


def test_ranked_demands_only_those_the_institution_may_see(
    world, catalogue, make_demand, client_as
):
    mine = make_demand()  # dispatched to both
    big = make_demand(amount_wan=800, user="ent2_user")  # dispatched to bank2 only
    response = client_as("bank_staff").get(f"{API}/institutions/me/matches/demands")
    assert response.status_code == 200, response.content
    body = response.json()
    ids = [r["demand_id"] for r in body["results"]]
    assert mine.pk in ids and big.pk not in ids
    assert body["count"] == len(ids)
    own = product_ids(catalogue, "bank_fit", "bank_fit2", "bank_small")
    assert {r["best_product_id"] for r in body["results"]} <= own
    other = client_as("bank2_staff").get(f"{API}/institutions/me/matches/demands").json()
    assert {r["demand_id"] for r in other["results"]} >= {mine.pk, big.pk}


@pytest.mark.parametrize("username", ["ent_user", "gov_jiashan", "admin"])
def test_institution_endpoints_are_404_for_non_institutions(world, client_as, username):
    client = client_as(username)
    assert client.get(f"{API}/institutions/me/matches/demands").status_code == 404
    assert client.get(f"{API}/institutions/me/outreach").status_code == 404


def test_institution_endpoints_need_a_login(world, client_as):
    assert client_as(None).get(f"{API}/institutions/me/outreach").status_code == 401


@pytest.fixture
def white_list(world):
    """A 嘉善 white list in force naming ent (authorised the bank) and ent2 (not)."""
    lst = EnterpriseList.objects.create(
        list_type=ListType.KEY_ENTERPRISES,
        name="嘉善县重点企业白名单",
        agency=world.gov_jiashan,
        region_id="330421",
    )
    version = ListVersion.objects.create(list=lst, number=1)
    for enterprise in (world.ent, world.ent2):
        ListEntry.objects.create(version=version, enterprise=enterprise, change=EntryChange.ADDED)
    ListVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.PUBLISHED,
        effective_from=timezone.localdate() - timedelta(days=30),
        published_at=timezone.now(),
    )
    return lst


def test_outreach_shows_names_and_lists_profile_only_when_authorised(
    world, catalogue, white_list, client_as
):
    response = client_as("bank_staff").get(f"{API}/institutions/me/outreach")
    assert response.status_code == 200, response.content
    rows = {r["enterprise_id"]: r for r in response.json()["results"]}
    assert set(rows) == {world.ent.pk, world.ent2.pk}
    for row in rows.values():
        assert row["lists"] == ["嘉善县重点企业白名单"]
        assert row["region_code"] == "330421"
        assert row["best_product_id"] in product_ids(
            catalogue, "bank_fit", "bank_fit2", "bank_small"
        )
    assert rows[world.ent.pk]["authorised"] is True
    assert rows[world.ent.pk]["profile"]["uscc"] == world.ent.uscc
    assert rows[world.ent2.pk]["authorised"] is False
    assert rows[world.ent2.pk]["profile"] is None
    assert world.ent2.uscc not in response.content.decode()


def test_outreach_leaves_out_enterprises_with_a_recent_demand(
    world, catalogue, white_list, make_demand, client_as
):
    make_demand(user="ent2_user")
    rows = client_as("bank_staff").get(f"{API}/institutions/me/outreach").json()["results"]
    assert [r["enterprise_id"] for r in rows] == [world.ent.pk]


def test_outreach_of_an_institution_without_those_lists_is_empty(
    world, catalogue, white_list, client_as
):
    body = client_as("bank2_staff").get(f"{API}/institutions/me/outreach").json()
    assert body["results"] == [] and body["count"] == 0


# --- policy weights --------------------------------------------------------------------------


def put(client, code, body):
    return client.put(f"{API}/policy-weights/{code}", data=body, content_type="application/json")


GOOD = {"white_list": 2, "specialised": 1, "tech": 0.5, "green": 3}


def test_anyone_signed_in_reads_the_weights_in_force(world, client_as):
    assert put(client_as("gov_zhejiang"), "330000", GOOD).status_code == 200
    body = client_as("ent_user").get(f"{API}/policy-weights/330421").json()
    assert body["region_code"] == "330421"
    assert body["source_region_code"] == "330000"
    assert body["source_region_name"] == "浙江省"
    assert body["weights"] == {k: float(v) for k, v in GOOD.items()}
    assert body["own"] is None
    assert body["can_edit"] is False
    assert client_as(None).get(f"{API}/policy-weights/330421").status_code == 401


def test_put_in_scope_sets_and_audits(world, client_as):
    response = put(client_as("gov_jiashan"), "330421", GOOD)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["own"] == body["weights"] == {k: float(v) for k, v in GOOD.items()}
    assert body["source_region_code"] == "330421" and body["can_edit"] is True
    assert AuditEntry.objects.filter(action="matching.policy_weights.create").count() == 1


@pytest.mark.parametrize(
    ("username", "code"),
    [("gov_jiangsu", "330421"), ("gov_jiashan", "330000"), ("bank_staff", "330421"),
     ("ent_user", "330421")],
)  # fmt: skip
def test_put_out_of_scope_is_403_and_writes_nothing(world, client_as, username, code):
    response = put(client_as(username), code, GOOD)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not PolicyWeights.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD, "tech": 7}, "tech"),
        ({**GOOD, "green": -1}, "green"),
        ({**GOOD, "green": "lots"}, "green"),
        ({k: v for k, v in GOOD.items() if k != "tech"}, "tech"),
        ({**GOOD, "bonus": 1}, "bonus"),
    ],
)
def test_put_bad_values_are_422_with_the_field(world, client_as, body, field):
    response = put(client_as("gov_jiashan"), "330421", body)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not PolicyWeights.objects.exists()


def test_unknown_or_malformed_region(world, client_as):
    client = client_as("admin")
    assert client.get(f"{API}/policy-weights/999999").status_code == 404
    assert put(client, "999999", GOOD).status_code == 404
    assert client.get(f"{API}/policy-weights/33").status_code == 422
