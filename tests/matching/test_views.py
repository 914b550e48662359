"""Matching on the pages: the demand page (ranked list, reasons, why-not,
weights in force), the institution workbench (ranked demands, outreach),
and the government's policy-weights page."""

from __future__ import annotations

import re

import pytest

from chanrong.core.models import AuditEntry
from chanrong.matching.models import PolicyWeights

from .surface_fixtures import *  # noqa: F403
from .surface_fixtures import publish

pytestmark = pytest.mark.django_db


def page(client, demand):
    return client.get(f"/demands/{demand.pk}/")


def product_rows(html: str, testid: str) -> list[int]:
    block = html.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    return [int(x) for x in re.findall(r'data-product="(\d+)"', block)]


def test_owner_sees_ranked_products_reasons_and_why_not(world, catalogue, demand, client_as):
    response = page(client_as("ent_user"), demand)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="demand-matches"' in html
    ranked = product_rows(html, "match-ranked")
    assert set(ranked) == {catalogue[n].pk for n in ("bank_fit", "bank_fit2", "bank2_fit")}
    why_not = html.split('data-testid="match-why-not"', 1)[1]
    assert catalogue["bank_small"].name in why_not and catalogue["bank2_small"].name in why_not
    assert "万元" in why_not  # the failed ceiling is named
    assert 'data-testid="match-institutions"' in html
    # Scores as bands in words; the policy weights are for government only (issue 17 item 4).
    section = html.split('data-testid="demand-matches"', 1)[1].split("</section>", 1)[0]
    assert "匹配度高" in section or "匹配度中" in section or "匹配度低" in section
    assert not re.search(r">\s*0\.\d{3}\s*<", section)
    assert 'data-testid="weights-in-force"' not in html
    gov = page(client_as("gov_jiashan"), demand).content.decode()
    assert 'data-testid="weights-in-force"' in gov and "平台默认" in gov


def test_missing_facts_are_shown_as_to_be_supplied(world, catalogue, make_demand, client_as):
    publish(world.user("bank_staff"), name="纳税A级贷", min_tax_grade="A")
    html = page(client_as("ent_user"), make_demand()).content.decode()
    assert "需补充" in html


def test_institution_sees_only_its_own_products_on_the_page(world, catalogue, demand, client_as):
    html = page(client_as("bank_staff"), demand).content.decode()
    section = html.split('data-testid="demand-matches"', 1)[1].split("</section>", 1)[0]
    for name in ("bank2_fit", "bank2_small"):
        assert catalogue[name].name not in section
    assert world.bank2.short_name not in section
    assert catalogue["bank_fit"].name in section
    assert 'data-testid="match-institutions"' not in section


def test_scripts_in_names_are_escaped(world, catalogue, make_demand, client_as):
    publish(world.user("bank_staff"), name="<script>alert(1)</script>贷")
    world.ent.name = "<script>alert(2)</script>企业"
    world.ent.save()
    html = page(client_as("ent_user"), make_demand()).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    bench = client_as("bank_staff").get("/demands/workbench/").content.decode()
    assert "<script>alert(2)" not in bench and "&lt;script&gt;alert(2)" in bench


def test_workbench_shows_ranked_demands_and_outreach(world, catalogue, demand, client_as):
    response = client_as("bank_staff").get("/demands/workbench/")
    assert response.status_code == 200
    html = response.content.decode()
    ranked = html.split('data-testid="ranked-demands"', 1)[1].split("</section>", 1)[0]
    assert f'data-demand="{demand.pk}"' in ranked
    assert 'data-testid="outreach"' in html


# --- policy weights page ---------------------------------------------------------------------


def test_policy_page_is_404_for_enterprises_and_institutions(world, client_as):
    for username in ("ent_user", "bank_staff"):
        assert client_as(username).get("/matching/policy-weights/").status_code == 404


def test_government_sees_its_region_and_sets_weights(world, client_as):
    client = client_as("gov_jiashan")
    response = client.get("/matching/policy-weights/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-region="330421"' in html and 'data-testid="policy-form"' in html
    data = {"region": "330421", "action": "set", "white_list": "2", "specialised": "1",
            "tech": "0.5", "green": "4"}  # fmt: skip
    response = client.post("/matching/policy-weights/", data)
    assert response.status_code == 302
    row = PolicyWeights.objects.get(region_id="330421")
    assert row.weights == {"white_list": 2.0, "specialised": 1.0, "tech": 0.5, "green": 4.0}
    assert AuditEntry.objects.filter(action="matching.policy_weights.create").exists()
    html = client.get(response.url).content.decode()
    assert 'data-testid="policy-rows"' in html and "嘉善县" in html


def test_bad_value_is_shown_on_the_form(world, client_as):
    data = {"region": "330421", "action": "set", "white_list": "9", "specialised": "1",
            "tech": "1", "green": "1"}  # fmt: skip
    response = client_as("gov_jiashan").post("/matching/policy-weights/", data)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode() or "error" in response.content.decode()
    assert not PolicyWeights.objects.exists()


def test_province_sees_subtree_weights_with_their_source(world, client_as):
    gov = client_as("gov_zhejiang")
    data = {"region": "330000", "action": "set", "white_list": "3", "specialised": "1",
            "tech": "1", "green": "1"}  # fmt: skip
    assert gov.post("/matching/policy-weights/", data).status_code == 302
    html = gov.get("/matching/policy-weights/?region=330421").content.decode()
    region = html.split('data-testid="policy-region"', 1)[1].split("</section>", 1)[0]
    assert "浙江省" in region  # the source of the weights in force
    assert 'data-weight="white_list">3<' in region
    # outside its subtree: not found in the lookup, nothing to edit
    html = gov.get("/matching/policy-weights/?region=320508").content.decode()
    assert 'data-testid="policy-region"' not in html and "不在您的管辖范围内" in html


def test_county_cannot_post_for_a_region_outside_its_subtree(world, client_as):
    data = {"region": "330000", "action": "set", "white_list": "3", "specialised": "1",
            "tech": "1", "green": "1"}  # fmt: skip
    response = client_as("gov_jiashan").post("/matching/policy-weights/", data)
    assert response.status_code == 404
    assert not PolicyWeights.objects.exists()


@pytest.mark.parametrize("username", ["gov_national", "admin"])
def test_national_and_admin_pick_a_region(world, client_as, username):
    client = client_as(username)
    html = client.get("/matching/policy-weights/").content.decode()
    assert 'data-testid="policy-region"' not in html  # no region of their own
    html = client.get("/matching/policy-weights/?region=320508").content.decode()
    assert 'data-region="320508"' in html and 'data-testid="policy-form"' in html
    assert "平台默认" in html
    assert client.get("/matching/policy-weights/?region=abc").status_code == 200


def test_region_is_a_picker_refusing_regions_outside_the_subtree(world, client_as):
    """The 地区 control is a region picker: its own region shows as a chip,
    a good pick shows and saves, a region outside the subtree is refused on
    the field and nothing is written."""
    gov = client_as("gov_zhejiang")
    html = gov.get("/matching/policy-weights/").content.decode()
    assert 'data-picker="regions"' in html
    assert 'class="picker__chip" data-key="330000"' in html
    # A good pick (the chip's key, full-width digits typed without JavaScript too).
    response = gov.get("/matching/policy-weights/", {"region": ["330421", ""]})
    assert 'data-region="330421"' in response.content.decode()
    assert 'class="picker__chip" data-key="330421"' in response.content.decode()
    data = {"region": "３３０４２１", "action": "set", "white_list": "2", "specialised": "1",
            "tech": "1", "green": "1"}  # fmt: skip
    assert gov.post("/matching/policy-weights/", data).status_code == 302
    assert PolicyWeights.objects.get().region_id == "330421"
    # Outside the subtree, or a name typed without picking: refused on the field.
    county = client_as("gov_jiashan")
    for region, message in [("330000", "不在您的管辖范围内"), ("嘉兴", "请从列表中选择地区")]:
        response = county.get("/matching/policy-weights/", {"region": region})
        assert response.status_code == 200
        assert message in str(response.context["lookup"].errors["region"])
        assert 'data-testid="policy-region"' not in response.content.decode()
    response = county.post("/matching/policy-weights/", {**data, "region": "330000"})
    assert response.status_code == 404
    assert list(PolicyWeights.objects.values_list("region_id", flat=True)) == ["330421"]
