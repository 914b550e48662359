"""Enterprise list filters, detail, and the create / edit forms."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from chanrong.core.codes import make_uscc
from chanrong.core.models import AuditEntry
from chanrong.registry.models import Enterprise

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [e.name for e in response.context["page_obj"].object_list]


def test_filters_by_text_region_industry_and_size(world, login):
    client = login("admin")
    assert names(client.get("/enterprises/", {"q": "精工"})) == [world.ent.name]
    # A USCC is found by its beginning (registry.search), in any case.
    assert names(client.get("/enterprises/", {"q": world.ent_js.uscc[:10].lower()})) == [
        world.ent_js.name
    ]
    zhejiang = names(client.get("/enterprises/", {"province": "330000"}))
    assert sorted(zhejiang) == sorted([world.ent.name, world.ent2.name])
    county = client.get(
        "/enterprises/", {"province": "320000", "city": "320500", "county": "320508"}
    )
    assert names(county) == [world.ent_js.name]
    assert sorted(names(client.get("/enterprises/", {"industry": "C"}))) == sorted(
        [world.ent.name, world.ent2.name, world.ent_js.name]
    )
    assert names(client.get("/enterprises/", {"industry": "C39"})) == [world.ent_js.name]
    size = world.ent.size
    assert world.ent.name in names(client.get("/enterprises/", {"size": size}))
    assert names(client.get("/enterprises/", {"size": "unknown"})) == []
    Enterprise.objects.filter(pk=world.ent2.pk).update(size="")
    assert names(client.get("/enterprises/", {"size": "unknown"})) == [world.ent2.name]


def test_region_choices_drop_a_city_outside_the_chosen_province(world, login):
    client = login("admin")
    # 嘉兴 does not belong to 江苏: the city is dropped, the province filter stays.
    response = client.get("/enterprises/", {"province": "320000", "city": "330400"})
    assert names(response) == [world.ent_js.name]
    assert response.context["form"].region_picker.values()["city"] == ""


def test_region_selects_are_limited_to_the_jurisdiction(world, login):
    response = login("gov_jiashan").get("/enterprises/")
    provinces = [c for c, _ in response.context["form"].fields["province"].choices if c]
    assert provinces == ["330000"]
    fragment = login("gov_zhejiang").get(
        "/enterprises/region-fields/", {"province": "330000", "mode": "filter"}
    )
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert 'id="region-fields"' in html and "嘉兴市" in html and "杭州市" in html
    assert "苏州市" not in html


def test_bad_filter_input_is_not_an_error(world, login):
    client = login("admin")
    for params in ({"size": "huge"}, {"industry": "ZZ"}, {"page": "abc"}, {"q": "x" * 500}):
        assert client.get("/enterprises/", params).status_code == 200


def test_pagination_keeps_filters(world, login):
    for serial in range(30):
        Enterprise.objects.create(
            uscc=make_uscc(f"91330421{100 + serial:09d}"),
            name=f"嘉善测试企业{serial:02d}有限公司",
            region_id="330421",
            industry_id="C34",
        )
    client = login("gov_jiashan")
    first = client.get("/enterprises/", {"q": "测试企业"})
    assert first.context["page_obj"].paginator.count == 30
    assert len(names(first)) == 20
    assert "q=%E6%B5%8B%E8%AF%95%E4%BC%81%E4%B8%9A&amp;page=2" in first.content.decode()
    second = client.get("/enterprises/", {"q": "测试企业", "page": 2})
    assert len(names(second)) == 10


def test_detail_shows_core_fields_in_wan_and_size_label(world, login):
    html = login("ent_user").get(f"/enterprises/{world.ent.pk}/").content.decode()
    assert world.ent.uscc in html
    assert "浙江省嘉兴市嘉善县" in html
    assert "C34" in html
    assert "3,500.00 万元" in html  # revenue 35,000,000 元
    assert "5,200.00 万元" in html  # assets 52,000,000 元
    assert re.search(r'data-field="size"><span class="tag tag--\w+">(大型|中型|小型|微型)<', html)
    Enterprise.objects.filter(pk=world.ent.pk).update(size="", revenue=None)
    html = login("ent_user").get(f"/enterprises/{world.ent.pk}/").content.decode()
    assert 'data-field="size"><span class="tag tag--unknown">未知<' in html
    assert 'data-field="revenue">未填报<' in html


def form_data(**overrides):
    data = {
        "uscc": make_uscc("91330421999999999"),
        "name": "嘉善新登记企业有限公司",
        "province": "330000",
        "city": "330400",
        "county": "330421",
        "industry_code": "C39",
        "employees": "80",
        "revenue_wan": "1200",
        "assets_wan": "900.5",
    }
    data.update(overrides)
    return data


def test_government_creates_an_enterprise_and_it_is_audited(world, login):
    client = login("gov_jiashan")
    page = client.get("/enterprises/new/")
    assert page.status_code == 200
    # The jurisdiction's own county is preselected.
    assert page.context["form"].region_picker.values() == {
        "province": "330000",
        "city": "330400",
        "county": "330421",
    }
    response = client.post("/enterprises/new/", form_data())
    assert response.status_code == 302
    enterprise = Enterprise.objects.get(name="嘉善新登记企业有限公司")
    assert response["Location"] == f"/enterprises/{enterprise.pk}/"
    assert enterprise.region_id == "330421"
    assert enterprise.revenue == Decimal("12000000.00")
    assert enterprise.size
    assert AuditEntry.objects.filter(action="enterprise.create", object_id=str(enterprise.pk))


def test_service_errors_are_shown_next_to_their_fields(world, login):
    client = login("gov_jiashan")
    before = Enterprise.objects.count()
    response = client.post(
        "/enterprises/new/",
        form_data(uscc="91330421000000001X", revenue_wan="-5", county=""),
    )
    assert response.status_code == 200
    assert Enterprise.objects.count() == before
    html = response.content.decode()
    form = response.context["form"]
    assert form.errors["uscc"] and form.errors["revenue_wan"] and form.errors["county"]
    assert 'aria-invalid="true"' in html
    assert re.search(r'id="id_uscc"[^>]*aria-describedby="[^"]*id_uscc_error', html) or re.search(
        r'aria-describedby="[^"]*id_uscc_error[^"]*"[^>]*id="id_uscc"', html
    )
    assert 'id="id_uscc_error"' in html
    assert 'id="id_revenue_wan_error"' in html and "不能为负数" in html
    assert 'id="id_county_error"' in html


def test_duplicate_uscc_and_out_of_jurisdiction(world, login):
    client = login("gov_jiashan")
    response = client.post("/enterprises/new/", form_data(uscc=world.ent.uscc))
    assert "该统一社会信用代码已登记" in response.content.decode()
    response = client.post(
        "/enterprises/new/", form_data(province="320000", city="320500", county="320508")
    )
    # 江苏 is not offered to 嘉善's staff at all, so no region is chosen.
    assert response.status_code == 200
    assert response.context["form"].errors.get("county")
    assert not Enterprise.objects.filter(name="嘉善新登记企业有限公司").exists()


def test_enterprise_user_edits_own_profile_but_not_its_uscc(world, login):
    client = login("ent_user")
    page = client.get(f"/enterprises/{world.ent.pk}/edit/")
    assert page.status_code == 200
    assert page.context["form"].fields["uscc"].disabled
    response = client.post(
        f"/enterprises/{world.ent.pk}/edit/",
        form_data(uscc=make_uscc("91330421888888888"), name="嘉善精工机械股份有限公司"),
    )
    assert response.status_code == 302
    world.ent.refresh_from_db()
    assert world.ent.name == "嘉善精工机械股份有限公司"
    assert world.ent.uscc != make_uscc("91330421888888888")
    assert AuditEntry.objects.filter(action="enterprise.update", object_id=str(world.ent.pk))


def test_region_refresh_button_rerenders_without_saving(world, login):
    client = login("gov_zhejiang")
    response = client.post("/enterprises/new/", form_data(city="330400", county="", _refresh="1"))
    assert response.status_code == 200
    assert not response.context["form"].errors
    counties = [c for c, _ in response.context["form"].fields["county"].choices if c]
    assert "330421" in counties
    assert not Enterprise.objects.filter(name="嘉善新登记企业有限公司").exists()


def test_institution_list(world, login):
    client = login("ent_user")
    response = client.get("/institutions/")
    assert response.status_code == 200
    html = response.content.decode()
    assert world.bank.name in html and world.bank2.name in html
    response = client.get("/institutions/", {"q": "工商"})
    assert [i.pk for i in response.context["institutions"]] == [world.bank2.pk]
    assert client.get("/institutions/", {"kind": "nonsense"}).status_code == 200
