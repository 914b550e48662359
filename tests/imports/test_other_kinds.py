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


TAX_HEADER = ["统一社会信用代码", "纳税人名称", "评价年度", "纳税信用等级"]


def test_tax_grades_import_keeps_history_and_latest(world):
    from chanrong.registry.models import TaxCreditGrade

    rows = [
        TAX_HEADER,
        [world.ent.uscc, world.ent.name, "２０２４", "Ｂ级"],  # full-width digits and letter
        [world.ent.uscc, None, 2025, " a "],
        [world.ent2.uscc, None, "2025年", "M"],
    ]
    job = _job(world, "tax_grades", rows)
    assert job.status == "done", job.issues
    assert job.created_count == 3
    world.ent.refresh_from_db()
    assert (world.ent.tax_grade, world.ent.tax_grade_year) == ("A", 2025)
    assert TaxCreditGrade.objects.filter(enterprise=world.ent).count() == 2
    again = _job(world, "tax_grades", rows)
    assert (again.created_count, again.updated_count) == (0, 0)
    corrected = _job(world, "tax_grades", [TAX_HEADER, [world.ent.uscc, None, 2025, "B"]])
    assert corrected.updated_count == 1
    world.ent.refresh_from_db()
    assert world.ent.tax_grade == "B"
    assert TaxCreditGrade.objects.filter(enterprise=world.ent).count() == 2


def test_tax_grades_import_errors_write_nothing(world):
    from chanrong.registry.models import TaxCreditGrade

    rows = [
        TAX_HEADER,
        [world.ent.uscc, None, 2016, "M"],  # M only from 2018
        [world.ent.uscc, None, 2025, "E"],
        [world.ent_js.uscc, None, 2025, "A"],  # outside 嘉善
        [world.ent2.uscc, "别的公司", 2025, "A"],  # name does not match the code
        [world.ent2.uscc, None, 2024, "A"],  # valid, but all-or-nothing
    ]
    job = _job(world, "tax_grades", rows)
    errors = _errors(job)
    assert any(r == 2 and c == "D" and "2018" in m for r, c, m in errors), errors
    assert any(r == 3 and c == "D" for r, c, _m in errors), errors
    assert (4, "A", "企业未登记或不在您的管辖范围内") in errors
    assert any(r == 5 and c == "B" and "不符" in m for r, c, m in errors), errors
    assert not TaxCreditGrade.objects.exists()
    assert _job(world, "tax_grades", rows, mode="valid_only").created_count == 1


def test_tax_grades_import_refused_to_enterprise_users(world):
    with pytest.raises(NotAllowed):
        _job(world, "tax_grades", [TAX_HEADER, [world.ent.uscc, None, 2025, "A"]], user="ent_user")


QUALIFICATION_HEADER = [
    "统一社会信用代码",
    "企业名称",
    "资质类型",
    "上市/挂牌板块",
    "认定/发证机构",
    "证书/文件编号",
    "生效日期",
    "有效期至",
]


def test_qualifications_import_counts_for_eligibility_until_expiry(world):
    from datetime import date

    from chanrong.finance.services import enterprise_facts
    from chanrong.registry.models import Qualification

    rows = [
        QUALIFICATION_HEADER,
        [world.ent.uscc, None, "专精特新", None, "浙江省经信厅", "浙经信〔2024〕1号", "2024-01-01", "2026年12月31日"],
        [world.ent.uscc, None, "高新技术企业", None, "浙江省科技厅", "GR2022", "2022/12/1", "2025-11-30"],
        [world.ent2.uscc, None, "上市后备", "北交所", "嘉兴市金融办", None, "2025-03-01", None],
        [world.ent2.uscc, None, "绿色工厂", None, "工业和信息化部", None, "2024-12-01", None],
    ]  # fmt: skip
    job = _job(world, "qualifications", rows)
    assert job.status == "done", job.issues
    assert job.created_count == 4
    assert Qualification.objects.get(kind="listing_reserve").board == "bse"
    # The registry's codes are the ones products require (绿色信贷 asks for green_factory).
    assert "green_factory" in enterprise_facts(world.ent2).qualifications
    facts = enterprise_facts(world.ent, today=date(2025, 6, 1))
    assert facts.qualifications == {"specialised_sme", "high_tech"}
    later = enterprise_facts(world.ent, today=date(2026, 6, 1))
    assert later.qualifications == {"specialised_sme"}  # 高新 expired by itself
    again = _job(world, "qualifications", rows)
    assert (again.created_count, again.updated_count) == (0, 0)
    assert Qualification.objects.count() == 4


def test_qualifications_import_errors_write_nothing(world):
    from chanrong.registry.models import Qualification

    rows = [
        QUALIFICATION_HEADER,
        [world.ent.uscc, None, "上市/挂牌", None, "证监会", None, "2024-01-01", None],  # no board
        [world.ent.uscc, None, "绿色工厂", None, "工信部", None, "2024-01-01", "2023-01-01"],
        [world.ent.uscc, None, "独角兽", None, "某机构", None, "2024-01-01", None],
        [world.ent2.uscc, None, "绿色工厂", None, "", None, "2024-01-01", None],  # no issuer
    ]  # fmt: skip
    job = _job(world, "qualifications", rows)
    errors = _errors(job)
    assert any(r == 2 and c == "D" for r, c, _m in errors), errors
    assert any(r == 3 and c == "H" for r, c, _m in errors), errors
    assert any(r == 4 and c == "C" for r, c, _m in errors), errors
    assert any(r == 5 and c == "E" for r, c, _m in errors), errors
    assert not Qualification.objects.exists()
