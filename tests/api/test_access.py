"""Every role against every other organisation's enterprise, through the API,
by bearer token and by session: what is not visible is a 404 (never a 403
that would confirm it exists), and lists show exactly the visible set."""

from __future__ import annotations

import pytest

from chanrong.registry.models import Enterprise

from .conftest import assert_error_shape

pytestmark = pytest.mark.django_db

ALL = {"ent", "ent2", "ent_js"}
VISIBLE = {
    "admin": ALL,
    "gov_national": ALL,
    "gov_zhejiang": {"ent", "ent2"},
    "gov_jiashan": {"ent", "ent2"},
    "gov_jiashan_staff": {"ent", "ent2"},
    "gov_jiangsu": {"ent_js"},
    "bank_manager": {"ent"},
    "bank_staff": {"ent"},
    "bank2_staff": set(),
    "ent_user": {"ent"},
    "ent2_user": {"ent2"},
}
# Visible and editable through the API (PATCH); the rest of VISIBLE is read-only.
EDITABLE = {
    "admin": ALL,
    "gov_national": ALL,
    "gov_zhejiang": {"ent", "ent2"},
    "gov_jiashan": {"ent", "ent2"},
    "gov_jiashan_staff": {"ent", "ent2"},
    "gov_jiangsu": {"ent_js"},
    "ent_user": {"ent"},
    "ent2_user": {"ent2"},
}
INVISIBLE_PAIRS = [
    (user, ent) for user, visible in VISIBLE.items() for ent in sorted(ALL - visible)
]
READ_ONLY_PAIRS = [
    (user, ent)
    for user, visible in VISIBLE.items()
    for ent in sorted(visible - EDITABLE.get(user, set()))
]


def test_the_tables_cover_every_world_user(world):
    assert set(VISIBLE) == set(world.users)


@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_list_shows_exactly_the_visible_set(world, as_user, username):
    response = as_user(username).get("/enterprises", {"page_size": 200})
    assert response.status_code == 200, response.content
    body = response.json()
    names = {getattr(world, key).name for key in VISIBLE[username]}
    assert {row["name"] for row in body["results"]} == names
    assert body["count"] == len(names)


@pytest.mark.parametrize(("username", "target"), INVISIBLE_PAIRS)
def test_invisible_enterprise_is_404_for_every_method(world, as_user, username, target):
    enterprise = getattr(world, target)
    before = Enterprise.objects.values().get(pk=enterprise.pk)
    client = as_user(username)

    assert_error_shape(client.get(f"/enterprises/{enterprise.pk}"), 404, "not_found")
    assert_error_shape(
        client.patch(f"/enterprises/{enterprise.pk}", {"name": "改名企图有限公司"}),
        404,
        "not_found",
    )
    assert_error_shape(client.delete(f"/enterprises/{enterprise.pk}"), 404, "not_found")
    # The 404 is the same as for an id that does not exist at all.
    missing = client.get("/enterprises/987654321").json()
    assert client.get(f"/enterprises/{enterprise.pk}").json() == missing

    assert Enterprise.objects.values().get(pk=enterprise.pk) == before


@pytest.mark.parametrize(("username", "target"), READ_ONLY_PAIRS)
def test_visible_but_not_editable_is_403(world, as_user, username, target):
    enterprise = getattr(world, target)
    client = as_user(username)
    assert client.get(f"/enterprises/{enterprise.pk}").status_code == 200
    assert_error_shape(
        client.patch(f"/enterprises/{enterprise.pk}", {"name": "改名企图有限公司"}),
        403,
        "forbidden",
    )
    assert_error_shape(client.delete(f"/enterprises/{enterprise.pk}"), 403, "forbidden")
    assert Enterprise.objects.get(pk=enterprise.pk).name == enterprise.name


@pytest.mark.parametrize("username", sorted(EDITABLE))
def test_editable_enterprises_can_be_patched(world, as_user, username):
    client = as_user(username)
    for target in sorted(EDITABLE[username]):
        enterprise = getattr(world, target)
        response = client.patch(f"/enterprises/{enterprise.pk}", {"employees": 77})
        assert response.status_code == 200, response.content
        assert response.json()["employees"] == 77


@pytest.mark.parametrize("username", sorted(set(VISIBLE) - {"admin"} - {"gov_national"}))
def test_users_cannot_register_outside_their_remit(world, as_token, username):
    """Enterprise and institution users cannot register at all (403); regional
    government only inside its region (422 on region_code)."""
    from chanrong.core.codes import make_uscc

    response = as_token(username).post(
        "/enterprises",
        {
            "uscc": make_uscc("91110105000000999"),
            "name": "北京朝阳测试有限公司",
            "region_code": "110105",
            "industry_code": "C39",
        },
    )
    if username.startswith("gov_"):
        body = assert_error_shape(response, 422, "invalid")
        assert [e["field"] for e in body["errors"]] == ["region_code"]
    else:
        assert_error_shape(response, 403, "forbidden")
    assert not Enterprise.objects.filter(name="北京朝阳测试有限公司").exists()
