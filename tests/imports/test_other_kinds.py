"""Projects, list members (into a draft version) and operating data, imported
through the same engine and the registry's row-by-row services."""

from __future__ import annotations

import pytest

from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.core.importing.services import create_job
from chanrong.registry import services
from chanrong.registry.models import ListEntry, OperatingRecord, Project

from .conftest import xlsx

pytestmark = pytest.mark.django_db

PROJECT_HEADER = [
    "项目单位统一社会信用代码",
    "项目单位",
    "项目名称",
    "项目类型",
    "总投资（万元）",
    "融资需求（万元）",
    "项目阶段",
]


def _job(world, kind, rows, user="gov_jiashan", mode="all", **params):
    return create_job(
        world.user(user), kind, filename="f.xlsx", data=xlsx(rows), mode=mode, params=params
    )


def _errors(job):
    return [(i["row"], i["column"], i["message"]) for i in job.issues if i["level"] == "error"]


def test_projects_import_and_reimport(world):
    rows = [
        PROJECT_HEADER,
        [
            world.ent.uscc,
            world.ent.name,
            "年产 50 万套精密零件技改项目",
            "技改",
            "1.2亿元",
            "5000",
            "在建",
        ],
        [world.ent2.uscc, None, "新材料研发中心", "研发", 3000, None, "前期准备"],
    ]
    job = _job(world, "projects", rows)
    assert job.status == "done", job.issues
    assert job.created_count == 2
    project = Project.objects.get(name="年产 50 万套精密零件技改项目")
    assert project.total_investment == 120_000_000 and project.financing_need == 50_000_000
    assert project.kind == "tech_upgrade" and project.region_id == world.ent.region_id
    again = _job(world, "projects", rows)
    assert (again.created_count, again.updated_count) == (0, 2)
    assert Project.objects.count() == 2


def test_project_errors_by_row_and_column(world):
    rows = [
        PROJECT_HEADER,
        [world.ent.uscc, "别的公司", "项目甲", "新建", 100, None, "在建"],
        [world.ent_js.uscc, None, "项目乙", "新建", 100, None, "在建"],  # 苏州: not 嘉善's
        [world.ent.uscc, None, "项目丙", "新建", 100, 500, "在建"],
        [world.ent.uscc, None, "项目丁", "改造", 100, None, "在建"],
    ]
    job = _job(world, "projects", rows)
    assert job.status == "rejected"
    errors = _errors(job)
    assert any(r == 2 and c == "B" and "名称与统一社会信用代码不符" in m for r, c, m in errors)
    assert (3, "A", "项目单位不存在或不在您的管辖范围内") in errors
    assert (4, "F", "融资需求不能超过总投资") in errors
    assert any(r == 5 and c == "D" and "不是可选值" in m for r, c, m in errors)
    assert not Project.objects.exists()


def test_enterprise_users_cannot_import_projects(world):
    with pytest.raises(NotAllowed):
        _job(world, "projects", [PROJECT_HEADER], user="ent_user")


def _draft(world):
    lst = services.create_list(
        world.user("gov_jiashan"),
        {"list_type": "key_enterprises", "name": "嘉善县重点企业白名单（导入测试）"},
    )
    return services.start_version(world.user("gov_jiashan"), lst)


def test_list_members_go_into_a_draft_version(world):
    version = _draft(world)
    header = ["统一社会信用代码", "企业名称", "调整方式", "理由"]
    rows = [
        header,
        [world.ent.uscc, world.ent.name, "列入", "专精特新"],
        [world.ent2.uscc, None, None, "制造业重点企业"],
    ]
    job = _job(world, "list_members", rows, list_version=version.pk)
    assert job.status == "done", job.issues
    assert set(
        ListEntry.objects.filter(version=version).values_list("enterprise_id", flat=True)
    ) == {
        world.ent.pk,
        world.ent2.pk,
    }
    again = _job(world, "list_members", rows, list_version=version.pk)
    assert (again.created_count, again.updated_count) == (0, 0)
    remove = _job(
        world,
        "list_members",
        [header, [world.ent2.uscc, None, "移出", "已迁出"]],
        list_version=version.pk,
    )
    assert remove.status == "done" and remove.updated_count == 1
    assert ListEntry.objects.filter(version=version).count() == 1


def test_list_members_errors_and_parameters(world):
    version = _draft(world)
    header = ["信用代码", "理由"]
    job = _job(
        world,
        "list_members",
        [header, [world.ent_js.uscc, "x"], [world.ent.uscc, None]],
        list_version=version.pk,
    )
    assert (2, "A", "企业未登记或不在您的管辖范围内") in _errors(job)
    assert (3, "B", "必填") in _errors(job)
    with pytest.raises(ValidationFailed) as exc:
        _job(world, "list_members", [header], list_version=999999)
    assert exc.value.errors[0].field == "list_version"
    with pytest.raises(ValidationFailed):  # another agency's draft
        _job(world, "list_members", [header], user="gov_zhejiang", list_version=version.pk)


OPERATING_HEADER = [
    "统一社会信用代码",
    "统计期",
    "工业总产值（万元）",
    "营业收入（万元）",
    "利润总额（万元）",
    "从业人员（人）",
    "用电量（千瓦时）",
]


def test_operating_data(world):
    rows = [
        OPERATING_HEADER,
        [world.ent.uscc, "2024-03", 1200, "1100万元", 85, 120, "350,000"],
        [world.ent.uscc, "2024年4月", 1300, "-1150", -20, 121, 360000],
        [world.ent2.uscc, "2024Q1", 5000, 4800, 300, 80, None],
    ]
    job = _job(world, "operating_data", rows)
    assert job.status == "done", job.issues
    assert job.created_count == 3
    march = OperatingRecord.objects.get(enterprise=world.ent, period_start__month=3)
    assert march.revenue == 11_000_000 and march.electricity_kwh == 350000
    april = OperatingRecord.objects.get(enterprise=world.ent, period_start__month=4)
    assert april.review_status == "flagged"  # negative revenue: kept, flagged for review
    assert april.revenue == -11_500_000
    again = _job(world, "operating_data", rows)
    assert again.created_count == 0 and OperatingRecord.objects.count() == 3


def test_operating_data_errors(world):
    rows = [
        OPERATING_HEADER,
        [world.ent.uscc, "2024-13", 1, 1, 1, 1, 1],
        [world.ent_js.uscc, "2024-03", 1, 1, 1, 1, 1],
        [world.ent.uscc, "2024-05", 1, 1, 1, 1, "三百度"],
        [world.ent.uscc, "2024-05", 2, 2, 2, 2, 2],
    ]
    job = _job(world, "operating_data", rows)
    errors = _errors(job)
    assert any(r == 2 and c == "B" for r, c, _m in errors)
    assert (3, "A", "企业未登记或不在您的管辖范围内") in errors
    assert any(r == 4 and c == "G" for r, c, _m in errors)
    assert any(r == 5 and "重复" in m for r, _c, m in errors)
    assert not OperatingRecord.objects.exists()
