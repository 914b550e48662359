"""Every role against every enterprise, through the web pages: what a user may
not see does not exist for them (404), and lists show only what is visible."""

from __future__ import annotations

import pytest

from chanrong.registry import services
from chanrong.registry.models import Enterprise

pytestmark = pytest.mark.django_db

ROLES = [
    "admin",
    "gov_national",
    "gov_zhejiang",
    "gov_jiashan",
    "gov_jiashan_staff",
    "gov_jiangsu",
    "bank_manager",
    "bank_staff",
    "bank2_staff",
    "ent_user",
    "ent2_user",
]


def test_world_roles_are_all_covered(world):
    assert set(ROLES) == set(world.users)


@pytest.mark.parametrize("username", ROLES)
def test_each_role_sees_exactly_its_enterprises(world, login, username):
    user = world.user(username)
    client = login(username)
    visible = set(Enterprise.objects.visible_to(user).values_list("pk", flat=True))
    listing = client.get("/enterprises/")
    assert listing.status_code == 200
    listed = {e.pk for e in listing.context["page_obj"].object_list}
    assert listed == visible
    body = listing.content.decode()
    for enterprise in (world.ent, world.ent2, world.ent_js):
        shown = enterprise.uscc in body
        assert shown == (enterprise.pk in visible), (username, enterprise.name)

        detail = client.get(f"/enterprises/{enterprise.pk}/")
        edit = client.get(f"/enterprises/{enterprise.pk}/edit/")
        post = client.post(f"/enterprises/{enterprise.pk}/edit/", {"name": "改名企业有限公司"})
        if enterprise.pk not in visible:
            assert detail.status_code == 404, (username, enterprise.name)
            assert edit.status_code == 404, (username, enterprise.name)
            assert post.status_code == 404, (username, enterprise.name)
            assert enterprise.name not in detail.content.decode()
        else:
            assert detail.status_code == 200
            assert enterprise.name in detail.content.decode()
            allowed = services.can_edit_enterprise(user, enterprise)
            assert edit.status_code == (200 if allowed else 403), (username, enterprise.name)
            assert ('data-action="edit-enterprise"' in detail.content.decode()) == allowed
        enterprise.refresh_from_db()
        assert enterprise.name != "改名企业有限公司"


@pytest.mark.parametrize("username", ROLES)
def test_create_page_only_for_government_and_platform(world, login, username):
    user = world.user(username)
    response = login(username).get("/enterprises/new/")
    allowed = services.can_create_enterprise(user)
    assert response.status_code == (200 if allowed else 403)


def test_unknown_enterprise_is_404_for_admin(world, login):
    assert login("admin").get("/enterprises/999999/").status_code == 404


def test_anonymous_is_sent_to_login(world, client):
    for url in ["/", "/enterprises/", f"/enterprises/{world.ent.pk}/", "/institutions/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_filters_never_widen_visibility(world, login):
    client = login("gov_jiangsu")
    response = client.get("/enterprises/", {"province": "330000", "q": "嘉善"})
    assert response.status_code == 200
    assert list(response.context["page_obj"].object_list) == []
