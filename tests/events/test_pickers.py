"""Search pickers (core.pickers): the search views are scoped and say how many
more match, the fields refuse what the user may not pick and names typed
without picking, region fields show names, and no select says
"- Select an option -"."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django import forms
from django.utils import translation

from chanrong.core import pickers
from chanrong.core.codes import make_uscc
from chanrong.core.models import Region
from chanrong.events.models import Event, EventKind, EventStatus
from chanrong.registry.models import Enterprise

JIASHAN = "330421"


def _options(response) -> list[str]:
    return re.findall(r'data-key="([^"]+)"', response.content.decode())


def _event(world, status=EventStatus.DRAFT) -> Event:
    return Event.objects.create(
        kind=EventKind.MATCHMAKING,
        title="银企对接会",
        date=date(2025, 5, 20),
        place="嘉善",
        region_id=JIASHAN,
        organiser=world.gov_jiashan,
        status=status,
    )


def test_enterprise_search_is_scoped(world, client):
    for username, expected in [
        ("gov_jiashan", {world.ent.uscc, world.ent2.uscc}),
        ("gov_jiangsu", {world.ent_js.uscc}),
        ("gov_national", {world.ent.uscc, world.ent2.uscc, world.ent_js.uscc}),
        ("bank_staff", {world.ent.uscc}),  # authorised by ent only
        ("ent2_user", {world.ent2.uscc}),
    ]:
        client.force_login(world.user(username))
        response = client.get("/enterprises/pick/", {"q": "有限公司"})
        assert response.status_code == 200
        assert set(_options(response)) == expected, username
    # by the beginning of the USCC, and the widget's own parameter name
    client.force_login(world.user("gov_jiashan"))
    response = client.get(
        "/enterprises/pick/", {"field": "enterprises", "enterprises": world.ent.uscc[:10]}
    )
    assert world.ent.uscc in _options(response)
    assert world.ent_js.uscc not in _options(
        client.get("/enterprises/pick/", {"q": world.ent_js.uscc})
    )
    client.logout()
    assert client.get("/enterprises/pick/", {"q": "有限公司"}).status_code == 302


def test_region_and_institution_search(world, client):
    client.force_login(world.user("gov_jiashan"))
    response = client.get("/pick/regions/", {"q": "嘉善"})
    assert _options(response) == [JIASHAN] and "浙江省嘉兴市嘉善县" in response.content.decode()
    assert _options(client.get("/pick/regions/", {"q": "姑苏"})) == []  # not its region
    client.force_login(world.user("gov_zhejiang"))
    assert JIASHAN in _options(client.get("/pick/regions/", {"q": "3304"}))
    response = client.get("/institutions/pick/", {"q": "农商"})
    assert _options(response) == [str(world.bank.pk)]


def test_more_results_are_counted_and_nothing_is_capped(world, client):
    Enterprise.objects.bulk_create(
        Enterprise(
            uscc=make_uscc(f"91{JIASHAN}{900 + i:09d}"),
            name=f"嘉善测试{i:02d}号有限公司",
            region_id=JIASHAN,
            industry_id="C34",
            employees=10,
            revenue=Decimal("1000000"),
            assets=Decimal("1000000"),
            size="micro",
        )
        for i in range(25)
    )
    client.force_login(world.user("gov_jiashan"))
    response = client.get("/enterprises/pick/", {"q": "测试"})
    assert len(_options(response)) == pickers.LIMIT
    assert "还有 5 条，请输入更多字" in response.content.decode()
    # every match can be reached: the last by name appears when typed, and is picked
    last = Enterprise.objects.get(name="嘉善测试24号有限公司")
    assert _options(client.get("/enterprises/pick/", {"q": "测试24"})) == [last.uscc]
    event = _event(world)
    response = client.post(f"/events/{event.pk}/invite/", {"enterprises": [last.uscc]})
    assert response.status_code == 302 and event.invitations.get().enterprise == last


def test_pickers_refuse_by_field_and_write_nothing(world, client):
    client.force_login(world.user("gov_jiashan"))
    event = _event(world)
    # another county's enterprise, with one in scope: refused, nothing written
    response = client.post(
        f"/events/{event.pk}/invite/", {"enterprises": [world.ent.uscc, world.ent_js.uscc]}
    )
    assert response.status_code == 422
    errors = response.context["invite_form"].errors
    assert "不在您的管辖范围内" in errors["enterprises"][0] and world.ent_js.uscc in str(errors)
    assert not event.invitations.exists()
    # a name typed without picking
    response = client.post(f"/events/{event.pk}/invite/", {"enterprises": "嘉善精工"})
    assert "请从列表中选择企业" in response.context["invite_form"].errors["enterprises"][0]
    # nothing picked at all
    response = client.post(f"/events/{event.pk}/invite/", {"enterprises": ""})
    assert response.context["invite_form"].non_field_errors()
    # the plain input (no JavaScript): keys separated by commas
    response = client.post(
        f"/events/{event.pk}/invite/",
        {"enterprises": f"{world.ent.uscc}，{world.ent2.uscc}", "institutions": world.bank.pk},
    )
    assert response.status_code == 302 and event.invitations.count() == 3

    event.status = EventStatus.PUBLISHED
    event.save(update_fields=["status"])
    response = client.post(
        f"/events/{event.pk}/deals/",
        {
            "enterprise": [world.ent.uscc, world.ent2.uscc],
            "institution": "999999",
            "amount": "100",
        },
    )
    form = response.context["deal_form"]
    assert "只能选择一个企业" in str(form.errors["enterprise"])
    assert "金融机构不存在" in str(form.errors["institution"])
    assert not event.deals.exists()

    # region fields: a name typed, a region outside the county
    for region, message in [("嘉善县", "请从列表中选择地区"), ("320508", "不在您的管辖范围内")]:
        response = client.post(
            f"/events/{event.pk}/edit/",
            {
                "kind": "matchmaking",
                "title": "x",
                "date": "2025-05-20",
                "place": "y",
                "region": region,
            },
        )
        assert message in str(response.context["form"].errors["region"])
    event.refresh_from_db()
    assert event.region_id == JIASHAN


def test_forms_show_names_not_codes(world, client):
    client.force_login(world.user("gov_jiashan"))
    event = _event(world)
    html = client.get(f"/events/{event.pk}/edit/").content.decode()
    assert 'class="picker__chip" data-key="330421"' in html and "浙江省嘉兴市嘉善县" in html
    html = client.get("/insights/plans/new/").content.decode()
    assert "浙江省嘉兴市嘉善县" in html and 'data-picker="regions"' in html
    page = client.get(f"/events/{event.pk}/").content.decode()
    assert 'data-picker="enterprises"' in page and 'data-picker="institutions"' in page
    assert "<select" not in page.split('id="inv-heading"')[1].split("</section>")[0]


def test_blank_choice_reads_please_select(refdata_loaded):
    field = forms.ModelChoiceField(queryset=Region.objects.filter(code=JIASHAN))
    typed = forms.TypedChoiceField(choices=Event._meta.get_field("kind").get_choices())
    for language, label in [("zh-hans", "请选择"), ("en", "Please choose")]:
        with translation.override(language):
            assert str(field.empty_label) == label
            assert str(typed.choices[0][1]) == label
            assert "Select an option" not in field.widget.render("x", None)


@pytest.mark.parametrize("token", ["330421 ", "３３０４２１"])
def test_region_keys_are_normalised(world, token):
    field = pickers.PickerField(pickers.REGIONS)
    field.user = world.user("gov_jiashan")
    assert field.clean(pickers.split_tokens([token])).code == JIASHAN
