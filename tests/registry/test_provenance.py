"""Issue 15, findings 1 and 2: facts carry their provenance.

The region is moved only by government of the OLD region (the enterprise
gets 403, web and API alike); a region contradicting the USCC's
registration authority is flagged; what an enterprise declares stays
declared until its agency verifies it, and implausible figures are stored
but flagged without moving the size."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from chanrong.core.models import AuditEntry
from chanrong.registry import services
from chanrong.registry.models import Enterprise, Qualification

pytestmark = pytest.mark.django_db

API = "/api/v1/enterprises"
SUZHOU_GUSU = "320508"
HIGH_TECH_SELF = {"kind": "high_tech", "issuer": "我自己", "valid_from": "2025-01-01"}


def client_for(world, username: str) -> Client:
    client = Client()
    client.force_login(world.user(username))
    return client


def patch(client: Client, path: str, data: dict):
    return client.patch(path, data=data, content_type="application/json")


def post(client: Client, path: str, data: dict | None = None):
    return client.post(path, data=data or {}, content_type="application/json")


# --- finding 1: the region ----------------------------------------------------------------


def test_an_enterprise_cannot_move_itself_over_the_api(world):
    ent = client_for(world, "ent_user")
    response = patch(ent, f"{API}/{world.ent.pk}", {"region_code": SUZHOU_GUSU})
    assert response.status_code == 403, response.content
    assert response.json()["code"]
    world.ent.refresh_from_db()
    assert world.ent.region_id == "330421"
    # Its government still sees it, and the enterprise may still change other figures.
    gov = client_for(world, "gov_jiashan")
    assert gov.get(f"{API}/{world.ent.pk}").status_code == 200
    same_region = patch(ent, f"{API}/{world.ent.pk}", {"region_code": "330421", "employees": 130})
    assert same_region.status_code == 200, same_region.content


def test_an_enterprise_cannot_move_itself_on_the_web(world):
    ent = client_for(world, "ent_user")
    url = reverse("registry:edit", args=[world.ent.pk])
    page = ent.get(url)
    assert page.status_code == 200
    assert "所在地区只能由原所在地政府部门变更" in page.content.decode()
    assert 'name="county"' in page.content.decode() and "disabled" in page.content.decode()
    base = {
        "name": world.ent.name,
        "industry_code": world.ent.industry_id,
        "employees": "120",
        "revenue_wan": "3500",
        "assets_wan": "5200",
    }
    forged = ent.post(url, {**base, "province": "320000", "city": "320500", "county": SUZHOU_GUSU})
    assert forged.status_code == 403
    world.ent.refresh_from_db()
    assert world.ent.region_id == "330421"
    # What a browser sends (the disabled selects are not submitted) saves.
    saved = ent.post(url, base)
    assert saved.status_code == 302
    world.ent.refresh_from_db()
    assert world.ent.region_id == "330421"


def test_government_of_the_old_region_moves_it_audited_and_the_code_mismatch_is_flagged(world):
    # Government elsewhere cannot see it (404), let alone move it.
    jiangsu = client_for(world, "gov_jiangsu")
    assert patch(jiangsu, f"{API}/{world.ent.pk}", {"region_code": SUZHOU_GUSU}).status_code == 404
    assert world.ent.region_mismatch is False

    jiashan = client_for(world, "gov_jiashan")
    moved = patch(jiashan, f"{API}/{world.ent.pk}", {"region_code": SUZHOU_GUSU})
    assert moved.status_code == 200, moved.content
    body = moved.json()
    assert body["region_code"] == SUZHOU_GUSU
    assert body["region_mismatch"] is True
    assert body["region_mismatch_message"] == "注册地与统一社会信用代码登记机关不一致"
    entry = AuditEntry.objects.filter(action="enterprise.update", object_id=str(world.ent.pk))
    assert entry.latest("pk").changes["region_code"] == ["330421", SUZHOU_GUSU]

    # The new province's government now sees it, flagged, in its filtered list and page.
    flagged = jiangsu.get(API, {"region_mismatch": "true"}).json()
    assert [e["id"] for e in flagged["results"]] == [world.ent.pk]
    others = jiangsu.get(API, {"region_mismatch": "false"}).json()["results"]
    assert world.ent.pk not in {e["id"] for e in others}
    web = jiangsu.get(reverse("registry:list"), {"provenance": "region_mismatch"})
    assert world.ent.name in web.content.decode()
    page = jiangsu.get(reverse("registry:detail", args=[world.ent.pk])).content.decode()
    assert "注册地与统一社会信用代码登记机关不一致" in page
    # ent2 (330421, code issued in 330421) is not flagged.
    assert world.ent2.pk not in set(
        Enterprise.objects.region_mismatched().values_list("pk", flat=True)
    )


# --- finding 2: qualifications --------------------------------------------------------------


def test_a_self_declared_qualification_is_declared_until_the_agency_verifies_it(world):
    ent = client_for(world, "ent_user")
    created = post(ent, f"{API}/{world.ent.pk}/qualifications", HIGH_TECH_SELF)
    assert created.status_code == 201, created.content
    q = created.json()
    assert (q["status"], q["source"], q["verified_by"]) == ("declared", "enterprise", None)
    facts = services.eligibility_facts(world.ent)
    assert facts["qualifications"] == frozenset()
    assert facts["declared_qualifications"] == frozenset({"high_tech"})
    assert not Enterprise.objects.with_active_qualification("high_tech", verified_only=True)

    verify = f"{API}/{world.ent.pk}/qualifications/{q['id']}/verify"
    assert post(ent, verify).status_code == 403  # not by the enterprise itself
    assert post(client_for(world, "bank_staff"), verify).status_code == 403  # sees, may not act
    assert post(client_for(world, "gov_jiangsu"), verify).status_code == 404

    staff = client_for(world, "gov_jiashan_staff")
    done = post(staff, verify, {"note": "已核对高新技术企业证书"})
    assert done.status_code == 200, done.content
    assert (done.json()["status"], done.json()["verified_by"]) == (
        "verified",
        "嘉善县经济和信息化局",
    )
    assert post(staff, verify).status_code == 409  # already verified
    entry = AuditEntry.objects.filter(action="qualification.verify").latest("pk")
    assert entry.changes["status"] == ["declared", "verified"]
    assert services.eligibility_facts(world.ent)["qualifications"] == frozenset({"high_tech"})

    # The enterprise edits the verified certificate: declared again.
    changed = patch(ent, f"{API}/{world.ent.pk}/qualifications/{q['id']}", {"issuer": "科技厅"})
    assert changed.json()["status"] == "declared"
    assert services.eligibility_facts(world.ent)["qualifications"] == frozenset()


def test_the_agency_rejects_on_the_enterprise_page_with_a_reason(world):
    q = services.add_qualification(world.user("ent_user"), world.ent, HIGH_TECH_SELF)
    gov = client_for(world, "gov_jiashan")
    page = gov.get(reverse("registry:detail", args=[world.ent.pk])).content.decode()
    assert reverse("registry:qualification_reject", args=[world.ent.pk, q.pk]) in page
    assert "待核验" in page
    # The enterprise sees its own row marked, and no verify button.
    own = client_for(world, "ent_user").get(reverse("registry:detail", args=[world.ent.pk]))
    assert reverse("registry:qualification_verify", args=[world.ent.pk, q.pk]) not in (
        own.content.decode()
    )
    assert (
        client_for(world, "ent_user")
        .post(reverse("registry:qualification_reject", args=[world.ent.pk, q.pk]), {"reason": "x"})
        .status_code
        == 403
    )
    url = reverse("registry:qualification_reject", args=[world.ent.pk, q.pk])
    assert gov.post(url, {"reason": ""}).status_code == 200  # the reason is required
    assert gov.post(url, {"reason": "证书编号查无此证"}).status_code == 302
    q.refresh_from_db()
    assert (q.status, q.review_note) == ("rejected", "证书编号查无此证")
    facts = services.eligibility_facts(world.ent)
    assert not facts["qualifications"] and not facts["declared_qualifications"]
    assert not Enterprise.objects.with_active_qualification("high_tech").exists()


def test_an_official_import_confirms_a_declared_certificate(world):
    ent, gov = world.user("ent_user"), world.user("gov_jiashan")
    declared = services.add_qualification(
        ent, world.ent, {**HIGH_TECH_SELF, "issuer": "浙江省科学技术厅"}
    )
    again = services.add_qualification(
        gov, world.ent, {**HIGH_TECH_SELF, "issuer": "浙江省科学技术厅"}, imported=True
    )
    assert again.pk == declared.pk
    assert (again.status, again.source) == ("verified", "import")
    assert again.verified_by_id == world.gov_jiashan.pk


# --- figures: plausibility, size, review -------------------------------------------------------


def test_figure_flags_name_the_figures():
    from chanrong.registry.services.provenance import Figures, figure_flags

    wan = Decimal(10000)
    assert figure_flags(Figures(120, 3500 * wan, 5200 * wan)) == []
    huge = figure_flags(Figures(120, Decimal(99_999_999) * wan, None))
    assert any("超过 1,000 亿元" in f for f in huge)
    assert any("人均营业收入" in f for f in huge)
    jump = figure_flags(Figures(120, 80_000 * wan, None), Figures(120, 3500 * wan, None))
    assert jump == ["营业收入由 3,500.00 万元 变为 80,000.00 万元，超过原值的 20 倍"]


def test_an_implausible_declared_revenue_is_stored_flagged_and_does_not_move_the_size(world):
    size = world.ent.size
    assert size != "large"
    ent = client_for(world, "ent_user")
    # 5,000 people and 99,999,999 万元 would make it "large" at once.
    response = patch(ent, f"{API}/{world.ent.pk}", {"employees": 5000, "revenue_wan": 99999999})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["revenue_wan"] == 99999999 and body["size"] == size
    assert body["figures_status"] == "declared" and body["figures_flags"]

    gov = client_for(world, "gov_jiashan")
    queue = gov.get(reverse("registry:provenance_review")).content.decode()
    assert world.ent.name in queue and "超过 1,000 亿元" in queue
    assert [e["id"] for e in gov.get(API, {"figures": "flagged"}).json()["results"]] == [
        world.ent.pk
    ]
    assert (
        client_for(world, "ent_user").get(reverse("registry:provenance_review")).status_code == 403
    )

    verified = post(gov, f"{API}/{world.ent.pk}/figures/verify", {"note": "已电话核实"})
    assert verified.status_code == 200, verified.content
    assert verified.json()["figures_status"] == "verified"
    assert verified.json()["size"] == "large"  # now the agency vouches for it
    assert verified.json()["figures_flags"] == []
    assert post(gov, f"{API}/{world.ent.pk}/figures/verify").status_code == 409


def test_plausible_declared_figures_are_declared_and_government_figures_verified(world):
    services.update_enterprise(world.user("ent_user"), world.ent, {"revenue_wan": "4200"})
    world.ent.refresh_from_db()
    assert (world.ent.figures_status, world.ent.figures_source) == ("declared", "enterprise")
    assert not world.ent.figures_flagged
    assert services.eligibility_facts(world.ent)["revenue_verified"] is False
    services.update_enterprise(world.user("gov_jiashan"), world.ent, {"revenue_wan": "4300"})
    world.ent.refresh_from_db()
    assert (world.ent.figures_status, world.ent.figures_verified_by_id) == (
        "verified",
        world.gov_jiashan.pk,
    )


def test_the_data_migration_marks_existing_facts_by_their_origin(world):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("chanrong.registry.migrations.0007_provenance_of_facts")
    own = services.add_qualification(world.user("gov_jiashan"), world.ent, HIGH_TECH_SELF)
    Qualification.objects.filter(pk=own.pk).update(source="enterprise", status="verified")
    official = services.add_qualification(
        world.user("gov_jiashan"), world.ent2, {**HIGH_TECH_SELF, "issuer": "浙江省科学技术厅"}
    )
    services.update_enterprise(world.user("ent2_user"), world.ent2, {"employees": 90})
    Enterprise.objects.update(figures_status="verified")
    migration.mark_existing(apps, None)
    assert Qualification.objects.get(pk=own.pk).status == "declared"
    assert Qualification.objects.get(pk=official.pk).status == "verified"
    assert Enterprise.objects.get(pk=world.ent2.pk).figures_status == "declared"
    assert Enterprise.objects.get(pk=world.ent.pk).figures_status == "verified"


def test_an_official_enterprise_import_verifies_declared_figures(world):
    services.update_enterprise(world.user("ent_user"), world.ent, {"revenue_wan": "4200"})
    result, bad = services.import_enterprises(
        world.user("gov_jiashan"), [{"uscc": world.ent.uscc, "revenue_wan": "4300"}]
    )
    assert bad == [] and result.updated == 1
    world.ent.refresh_from_db()
    assert (world.ent.figures_status, world.ent.figures_source) == ("verified", "import")
    assert world.ent.figures_verified_by_id == world.gov_jiashan.pk
