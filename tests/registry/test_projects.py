"""Projects: validation, who may create and edit, upsert, and visibility."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.registry import services
from chanrong.registry.models import Project

pytestmark = pytest.mark.django_db


def project_data(**overrides):
    data = {
        "name": "年产 5 万台精密减速机技术改造项目",
        "kind": "技术改造",
        "project_class": "upgrading",
        "total_investment_wan": "1.2亿",
        "financing_need_wan": 5000,
        "stage": "construction",
    }
    data.update(overrides)
    return data


def test_enterprise_registers_its_own_project(world, today):
    project = services.create_project(world.user("ent_user"), project_data())
    assert project.owner == world.ent and project.region_id == world.ent.region_id
    assert project.kind == "tech_upgrade"
    assert project.total_investment == Decimal("120000000.00")
    assert AuditEntry.objects.filter(action="project.create", object_id=str(project.pk)).exists()
    with pytest.raises(ValidationFailed) as exc:
        services.create_project(world.user("ent_user"), project_data())
    assert exc.value.errors[0].message == "该企业已有同名项目"


def test_project_validation(world, today):
    gov = world.user("gov_jiashan")
    with pytest.raises(ValidationFailed) as exc:
        services.create_project(
            gov,
            project_data(
                owner_uscc=world.ent_js.uscc,
                financing_need_wan=20000,
                stage="开工",
                region_code="330400",
                start_year=1900,
            ),
        )
    errors = {e.field: e.message for e in exc.value.errors}
    assert errors["owner_uscc"] == "项目单位不存在或不在您的管辖范围内"
    assert errors["stage"].startswith("应为以下之一：谋划储备")
    assert errors["region_code"] == "应为县级行政区划代码（6 位）"
    assert errors["start_year"].startswith("开工年份应为 1949 至")
    with pytest.raises(ValidationFailed) as exc:
        services.create_project(gov, project_data(owner_id=world.ent.pk, financing_need_wan=20000))
    assert {e.field: e.message for e in exc.value.errors} == {
        "financing_need_wan": "融资需求不能超过总投资"
    }
    assert not Project.objects.exists()


def test_upsert_and_edit_rights(world, today):
    gov = world.user("gov_jiashan")
    project, created = services.upsert_project(gov, project_data(owner_uscc=world.ent.uscc))
    assert created
    again, created = services.upsert_project(
        gov, project_data(owner_uscc=world.ent.uscc, stage="completed")
    )
    assert not created and again.pk == project.pk and again.stage == "completed"
    assert Project.objects.count() == 1
    services.update_project(
        world.user("ent_user"), project, {"description": "新增数控加工中心 20 台"}
    )
    for username in ("ent2_user", "bank_staff", "gov_jiangsu"):
        with pytest.raises(NotAllowed):
            services.update_project(world.user(username), project, {"stage": "planning"})
    with pytest.raises(ValidationFailed):
        services.update_project(gov, project, {"owner_id": world.ent2.pk})


def test_project_visibility(world, today):
    gov = world.user("gov_jiashan")
    p1 = services.create_project(gov, project_data(owner_id=world.ent.pk))
    p2 = services.create_project(gov, project_data(owner_id=world.ent2.pk, name="新材料扩产项目"))

    def visible(username):
        return set(Project.objects.visible_to(world.user(username)))

    assert visible("admin") == visible("gov_zhejiang") == {p1, p2}
    assert visible("gov_jiangsu") == set()
    assert visible("ent_user") == {p1}
    assert visible("bank_staff") == {p1}  # ent authorised the bank; ent2 did not
    assert visible("bank2_staff") == set()
    # A project on a published 重点项目白名单 is visible to the banks of the region.
    lst = services.create_list(gov, {"list_type": "key_projects", "name": "嘉善县重点项目白名单"})
    version = services.start_version(gov, lst)
    services.add_list_entry(gov, version, project=p2, reason="县重点建设项目")
    with pytest.raises(ValidationFailed):
        services.add_list_entry(gov, version, enterprise=world.ent, reason="x")
    services.submit_version(gov, version)
    assert visible("bank_staff") == {p1}  # not published yet
    services.publish_version(gov, version)
    assert visible("bank_staff") == {p1, p2}
    # The owner enterprise sees that its project is on the list.
    current, _ = services.enterprise_memberships(world.user("ent2_user"), world.ent2)
    assert [(e.project, e.reason) for e in current] == [(p2, "县重点建设项目")]
