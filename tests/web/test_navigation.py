"""The shell: menus by role, landmarks, language, sign-out."""

from __future__ import annotations

import re

import pytest

from tests.nav_expectations import NAV

pytestmark = pytest.mark.django_db


def nav_keys(html: str) -> list[str]:
    nav = re.search(r'<nav class="side-nav".*?</nav>', html, re.S).group(0)
    return re.findall(r'data-nav="([a-z_]+)"', nav)


@pytest.mark.parametrize("username", sorted(NAV))
def test_menu_by_role(world, login, username):
    html = login(username).get("/").content.decode()
    assert nav_keys(html) == NAV[username]


def test_menu_labels_and_current_item(world, login):
    html = login("bank_staff").get("/enterprises/").content.decode()
    assert "授权企业" in html
    current = re.findall(r'data-nav="([a-z_]+)" aria-current="page"', html)
    assert current == ["enterprises"]
    ent_html = login("ent_user").get(f"/enterprises/{world.ent.pk}/").content.decode()
    assert re.findall(r'data-nav="([a-z_]+)" aria-current="page"', ent_html) == ["my_enterprise"]


def test_header_shows_user_organisation_and_role(world, login):
    html = login("bank_manager").get("/").content.decode()
    assert "嘉善农商行营业部" in html
    assert world.bank.name in html
    assert "金融机构管理员" in html


def test_page_has_landmarks_skip_link_and_chinese_lang(world, login):
    html = login("gov_jiashan").get("/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    for landmark in ("<header", "<nav", "<footer"):
        assert landmark in html
    assert 'name="language"' in html and 'action="/i18n/setlang/"' in html


def test_language_switch_to_english_and_back(world, login):
    client = login("gov_jiashan")
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Workbench" in html
    assert "Enterprise directory" in html
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}, follow=True)
    assert '<html lang="zh-hans">' in response.content.decode()


def test_logout_is_a_post_form(world, login):
    client = login("ent_user")
    html = client.get("/").content.decode()
    assert re.search(r'<form method="post" action="/accounts/logout/">', html)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_admin_site_only_for_platform_admins(world, login):
    assert login("admin").get("/admin/").status_code == 200
    for username in ("gov_national", "bank_manager", "ent_user"):
        response = login(username).get("/admin/")
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_home_summary_counts_only_visible(world, login):
    response = login("gov_jiangsu").get("/")
    assert response.status_code == 200
    assert re.search(r'data-stat="enterprises"><a [^>]*>1</a>', response.content.decode())
    response = login("bank_staff").get("/")
    assert re.search(r'data-stat="enterprises"><a [^>]*>1</a>', response.content.decode())
    response = login("ent_user").get("/")
    assert 'data-stat="authorised_institutions">1<' in response.content.decode()
