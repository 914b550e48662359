"""The government menu in groups (issue 17 item 1): collapsible <details>
groups that need no JS, the entries still in nav_entries' order."""

from __future__ import annotations

import re

import pytest

from chanrong.core.context_processors import NAV_GROUPS, NavItem, nav_groups
from tests.nav_expectations import NAV

pytestmark = pytest.mark.django_db


def test_government_menu_is_grouped_in_the_same_order(world, login):
    html = login("gov_jiashan").get("/").content.decode()
    nav = re.search(r'<nav class="side-nav".*?</nav>', html, re.S).group(0)
    assert re.findall(r'data-nav="([a-z_]+)"', nav) == NAV["gov_jiashan"]
    groups = re.findall(r'<details class="side-nav__group" data-nav-group="(\w+)" open>', nav)
    assert groups[:2] == ["registry", "docking"]
    assert len(groups) == len(set(groups))  # each group one run: the order keeps them together
    # 督办看板 sits under 融资对接; 工作台 stays on its own above the groups.
    docking = nav.split('data-nav-group="docking"', 1)[1].split("</details>", 1)[0]
    assert 'data-nav="supervision"' in docking
    assert nav.index('data-nav="home"') < nav.index("<details")


def test_other_roles_keep_the_flat_menu(world, login):
    for username in ("ent_user", "bank_staff", "admin"):
        html = login(username).get("/").content.decode()
        assert "side-nav__group" not in html, username


def test_an_unmapped_entry_stays_in_the_run_before_it():
    items = [
        NavItem("home", "工作台", "/"),
        NavItem("demands", "融资需求", "/demands/"),
        NavItem("brand_new", "新功能", "/new/"),
        NavItem("imports", "数据导入", "/imports/"),
    ]
    assert "brand_new" not in NAV_GROUPS
    groups = nav_groups(items)
    assert [(g.key, [i.key for i in g.items]) for g in groups] == [
        ("", ["home"]),
        ("docking", ["demands", "brand_new"]),
        ("system", ["imports"]),
    ]
