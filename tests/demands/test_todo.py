"""Issue 17 items 1, 4 and 9: what to do next.

The home page's to-do counts per role (through the lists' own scoping, and
equal to the filtered list they link to), the demand list's offer count,
inbox messages that name their demand and never reach the actor, the
demand page leading with the offers and showing scores as words, and the
supervision board in pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from chanrong.core.models import Notification
from chanrong.demands import services, sla
from chanrong.demands.models import Dispatch
from chanrong.portal.todo import todos_for

from .conftest import dispatch_of
from .test_sla import at, freeze_time

pytestmark = pytest.mark.django_db


def client_for(world, username: str) -> Client:
    client = Client()
    client.force_login(world.user(username))
    return client


def counts(world, username: str) -> dict[str, int]:
    return {item.key: item.count for item in todos_for(world.user(username))}


@pytest.fixture
def scene(world, bank_products, make_demand):
    """On Wednesday 2026-03-04 10:00, three demands of ent_user, each
    dispatched to both banks (claims due two working days later):
    `offered` — bank2 claimed and made an offer (ent_user must decide);
    `overdue` — nobody claimed, the claim deadlines passed an hour ago;
    `today` — the bank's claim is due at 18:00 today, bank2's in five days."""
    now = at(2026, 3, 4, 10)
    with freeze_time(now):
        offered = make_demand(purpose="扩产资金")
        dispatch = dispatch_of(offered, world.bank2)
        services.claim_dispatch(world.user("bank2_staff"), dispatch)
        services.make_offer(
            world.user("bank2_staff"), dispatch, {"amount_wan": 150, "term_months": 12}
        )
        overdue = make_demand(purpose="流动资金")
        Dispatch.objects.filter(demand=overdue).update(claim_due_at=now - timedelta(hours=1))
        today = make_demand(purpose="设备更新")
        Dispatch.objects.filter(demand=today, institution=world.bank).update(
            claim_due_at=at(2026, 3, 4, 18)
        )
        Dispatch.objects.filter(demand=today, institution=world.bank2).update(
            claim_due_at=now + timedelta(days=5)
        )
        yield {"offered": offered, "overdue": overdue, "today": today}


def test_enterprise_todos_count_its_own_demands(world, scene):
    mine = counts(world, "ent_user")
    assert mine["demands_decide"] == 1
    # `overdue` (all deadlines passed) and nothing else falls due within two days
    # except `today`'s bank dispatch — whose bank2 twin runs for five more days.
    assert mine["demands_expiring"] == 1
    assert mine["demands_expired"] == 0
    other = counts(world, "ent2_user")
    assert other["demands_decide"] == other["demands_expiring"] == 0


def test_institution_todos_are_its_own_dispatches(world, scene):
    bank = counts(world, "bank_staff")
    assert bank["dispatches_claim_today"] == 1
    assert bank["dispatches_claim_overdue"] == 1
    assert bank["dispatches_offered"] == 0
    bank2 = counts(world, "bank2_staff")
    assert bank2["dispatches_claim_overdue"] == 1
    assert bank2["dispatches_claim_today"] == 0
    assert bank2["dispatches_offered"] == 1


def test_government_sees_unclaimed_demands_in_its_region_only(world, scene):
    assert counts(world, "gov_jiashan")["demands_unclaimed"] == 1
    assert counts(world, "gov_jiangsu")["demands_unclaimed"] == 0
    keys = [item.key for item in todos_for(world.user("gov_jiashan"))]
    for key in ("operating_review", "provenance_review", "list_versions", "policy_review"):
        assert key in keys
    assert "alerts" in keys
    # A provincial unit's counterpart also sees the pilot applications it reviews.
    province = {item.key: item.count for item in todos_for(world.user("gov_zhejiang"))}
    assert province["demands_unclaimed"] == 1
    assert province.get("pilot_review", 0) == 0


def test_home_page_links_each_count_to_a_list_of_that_length(world, scene):
    client = client_for(world, "bank_staff")
    html = client.get("/").content.decode()
    block = html.split('data-testid="todos"', 1)[1].split("</section>", 1)[0]
    items = re.findall(
        r'data-todo="(\w+)">\s*<a href="([^"]+)"><span[^>]*data-count="(\d+)"', block
    )
    assert {key for key, _url, _n in items} >= {"dispatches_claim_today", "dispatches_offered"}
    for key, url, number in items:
        if not key.startswith("dispatches_"):
            continue
        page = client.get(url.replace("&amp;", "&")).content.decode()
        assert f"共 {number} 笔派单" in page, key
    ent = client_for(world, "ent_user")
    listed = ent.get("/demands/?todo=decide").content.decode()
    assert "共 1 条融资需求" in listed and "扩产资金" in listed and "流动资金" not in listed


def test_demand_list_shows_offer_counts(world, scene):
    html = client_for(world, "ent_user").get("/demands/").content.decode()
    cells = re.findall(r'data-field="offer-count">(?:<a [^>]*>)?(\d+)', html)
    assert sorted(cells) == ["0", "0", "1"]


def test_inbox_names_the_demand_and_skips_the_actor(world, scene):
    offered = scene["offered"]
    message = Notification.objects.filter(
        recipient=world.user("ent_user"), verb="dispatch.offer"
    ).get()
    assert message.message.startswith(f"需求 #{offered.pk} 扩产资金 200.00 万元：")
    assert message.link == f"/demands/{offered.pk}/"
    # bank2_staff claimed and offered: nothing about it in their own inbox.
    assert not Notification.objects.filter(
        recipient=world.user("bank2_staff"), verb__in=("dispatch.claim", "dispatch.offer")
    ).exists()
    html = client_for(world, "ent_user").get("/inbox/").content.decode()
    assert f"需求 #{offered.pk} 扩产资金" in html


def test_demand_page_leads_with_offers_and_hides_raw_scores(world, scene):
    offered = scene["offered"]
    html = client_for(world, "ent_user").get(f"/demands/{offered.pk}/").content.decode()
    assert html.index('data-testid="offers"') < html.index('data-testid="demand-matches"')
    assert html.index('data-testid="offers"') < html.index('id="basic-heading"')
    assert 'data-action="accept"' in html and "data-confirm" in html
    section = html.split('data-testid="demand-matches"', 1)[1].split("</section>", 1)[0]
    assert re.search(r"匹配度[高中低]", section)
    assert not re.search(r">\s*\d\.\d{3}\s*<", section)
    assert "获批概率" not in section  # the model gave no probability
    assert 'data-testid="weights-in-force"' not in section


def test_rating_form_defaults_to_the_lender(world, scene):
    offered = scene["offered"]
    dispatch = dispatch_of(offered, world.bank2)
    offer = dispatch.offer
    services.accept_offer(world.user("ent_user"), offer)
    dispatch.refresh_from_db()
    services.record_result(
        world.user("bank2_staff"),
        dispatch,
        "disbursed",
        {"amount_wan": 150, "rate": "4.1", "term_months": 12, "disbursed_on": "2026-03-04"},
    )
    html = client_for(world, "ent_user").get(f"/demands/{offered.pk}/").content.decode()
    form = html.split('data-testid="feedback-form"', 1)[1].split("</form>", 1)[0]
    selected = re.search(r'<option value="(\d+)" selected', form)
    assert selected and int(selected.group(1)) == world.bank2.pk


def test_supervision_board_is_paginated_and_keeps_the_filters(world, scene):
    board = sla.supervision_board(world.user("gov_jiashan"), page_size=2)
    assert board.open_count == 5  # two each on `overdue` and `today`, bank's on `offered`
    assert len(board.open_dispatches) == 2
    second = sla.supervision_board(world.user("gov_jiashan"), page_size=2, open_page="2")
    assert {d.pk for d in second.open_dispatches}.isdisjoint({d.pk for d in board.open_dispatches})
    # Pages are cut from the keys in (claim deadline, pk) order, and keep it.
    every = sla.supervision_board(world.user("gov_jiashan"), page_size=50).open_dispatches
    assert [(d.claim_due_at, d.pk) for d in every] == sorted((d.claim_due_at, d.pk) for d in every)
    assert board.open_dispatches + second.open_dispatches == every[:4]
    assert sla.supervision_board(world.user("gov_jiashan"), open_page="x").open_page.number == 1
    client = client_for(world, "gov_jiashan")
    response = client.get("/demands/supervision/", {"group_by": "institution", "open_page": "9"})
    assert response.status_code == 200
    assert response.context["board"].open_page.number == 1  # out of range: the last page


def test_supervision_pager_links_keep_filters(world, scene, monkeypatch):
    monkeypatch.setattr(sla, "BOARD_PAGE_SIZE", 2)
    html = (
        client_for(world, "gov_jiashan")
        .get("/demands/supervision/", {"group_by": "institution", "start": "2026-01-01"})
        .content.decode()
    )
    links = re.findall(r'href="\?([^"]*open_page=2[^"]*)"', html)
    assert links, "no pager for the open dispatches"
    query = links[0].replace("&amp;", "&")
    assert "group_by=institution" in query and "start=2026-01-01" in query
    assert "overdue_page=1" in query
