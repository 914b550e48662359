"""Enterprise profile and tax credit grades: who may change what, messages,
and history (audit before/after, one row per year)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.registry import services
from chanrong.registry.models import Enterprise, TaxCreditGrade

pytestmark = pytest.mark.django_db


def messages(exc) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


def test_enterprise_edits_its_own_profile_with_text_as_people_type_it(world, today):
    enterprise = services.update_enterprise_profile(
        world.user("ent_user"),
        world.ent,
        {
            "founded_on": "２００９年６月１８日",
            "registered_capital_wan": "1.2亿",
            "legal_representative": "  张  三 ",
            "contact_phone": "０５７３-84000000",
            "is_above_scale": "是",
            "strategic_emerging_category": "高端装备制造产业",
            "chongqing_class": "specialised",
            "rd_expense_wan": 150.5,
        },
    )
    assert enterprise.founded_on == date(2009, 6, 18)
    assert enterprise.registered_capital == Decimal("120000000.00")
    assert enterprise.legal_representative == "张 三"
    assert enterprise.contact_phone == "0573-84000000"
    assert enterprise.is_above_scale is True
    assert enterprise.strategic_emerging_category == "2"
    assert enterprise.rd_expense == Decimal("1505000.00")
    entry = AuditEntry.objects.filter(action="enterprise.profile").latest("seq")
    assert entry.changes["founded_on"] == [None, "2009-06-18"]
    assert entry.changes["is_above_scale"] == [None, True]


def test_profile_errors_name_every_bad_field_and_change_nothing(world, today):
    with pytest.raises(ValidationFailed) as exc:
        services.update_enterprise_profile(
            world.user("ent_user"),
            world.ent,
            {
                "founded_on": "2031-01-01",
                "registered_capital_wan": "-5",
                "contact_email": "not-an-email",
                "is_above_scale": "也许",
                "strategic_emerging_category": "元宇宙",
                "uscc": "91330421MA2D00001A",
            },
        )
    errors = messages(exc)
    assert errors["founded_on"] == "成立日期不能晚于今天"
    assert errors["registered_capital_wan"] == "不能为负数"
    assert errors["contact_email"] == "电子邮箱格式不正确"
    assert errors["is_above_scale"] == "应为“是”或“否”"
    assert errors["strategic_emerging_category"].startswith("应为以下之一：新一代信息技术产业")
    assert errors["uscc"] == "不是企业档案的字段"
    world.ent.refresh_from_db()
    assert world.ent.founded_on is None
    assert not AuditEntry.objects.filter(action="enterprise.profile").exists()


def test_profile_edit_rights(world, today):
    data = {"address": "嘉善县罗星街道"}
    services.update_enterprise_profile(world.user("gov_jiashan_staff"), world.ent, data)
    services.update_enterprise_profile(world.user("admin"), world.ent, data)
    for username in ("ent2_user", "bank_staff", "gov_jiangsu"):
        with pytest.raises(NotAllowed):
            services.update_enterprise_profile(world.user(username), world.ent, data)


def test_core_services_accept_profile_fields_and_upsert_by_uscc(world, today):
    gov = world.user("gov_jiashan")
    data = {
        "uscc": world.ent.uscc.lower(),
        "name": "嘉善精工机械有限公司",
        "region_code": "330421",
        "industry_code": "C34",
        "main_products": "数控机床",
    }
    enterprise, created = services.upsert_enterprise(gov, data)
    assert not created and enterprise.pk == world.ent.pk
    assert enterprise.main_products == "数控机床"
    assert Enterprise.objects.count() == 3
    # An enterprise outside the actor's subtree is neither revealed nor changed.
    with pytest.raises(ValidationFailed) as exc:
        services.upsert_enterprise(gov, {**data, "uscc": world.ent_js.uscc})
    assert messages(exc) == {"uscc": "该统一社会信用代码已由其他辖区登记"}


def test_tax_grades_keep_one_row_per_year_and_corrections_are_audited(world, today):
    gov = world.user("gov_jiashan_staff")
    services.set_tax_grade(gov, world.ent, 2023, "B")
    services.set_tax_grade(gov, world.ent, "2024", "a级")
    world.ent.refresh_from_db()
    assert (world.ent.tax_grade, world.ent.tax_grade_year) == ("A", 2024)
    # Recording an older year does not move the latest grade.
    services.set_tax_grade(gov, world.ent, 2022, "C")
    world.ent.refresh_from_db()
    assert world.ent.tax_grade == "A"
    # A correction changes that year's row; the audit keeps the grade before.
    services.set_tax_grade(gov, world.ent, 2024, "B")
    assert TaxCreditGrade.objects.filter(enterprise=world.ent).count() == 3
    entry = AuditEntry.objects.filter(action="enterprise.tax_grade").latest("seq")
    assert entry.changes == {"tax_grade_2024": ["A", "B"]}
    world.ent.refresh_from_db()
    assert world.ent.tax_grade == "B"
    assert list(Enterprise.objects.with_tax_grade("B")) == [world.ent]
    # The same grade again changes nothing and writes no audit entry.
    seq = AuditEntry.objects.latest("seq").seq
    services.set_tax_grade(gov, world.ent, 2024, "B")
    assert AuditEntry.objects.latest("seq").seq == seq


def test_tax_grade_rules(world, today):
    gov = world.user("gov_jiashan")
    with pytest.raises(ValidationFailed) as exc:
        services.set_tax_grade(gov, world.ent, 2016, "M")
    assert messages(exc) == {"grade": "M 级自 2018 年度评价起适用"}
    with pytest.raises(ValidationFailed) as exc:
        services.set_tax_grade(gov, world.ent, 2030, "E")
    assert set(messages(exc)) == {"year", "grade"}
    # Grades come from the tax authority, not from the enterprise itself.
    with pytest.raises(NotAllowed):
        services.set_tax_grade(world.user("ent_user"), world.ent, 2024, "A")
    with pytest.raises(NotAllowed):
        services.set_tax_grade(world.user("gov_jiangsu"), world.ent, 2024, "A")


def test_choice_labels_are_read_in_chinese_and_in_the_users_language():
    with translation.override("en"):
        for label in ("高端装备制造产业", "High-end equipment manufacturing", "2"):
            cleaned = services.clean_profile_data({"strategic_emerging_category": label})
            assert cleaned["strategic_emerging_category"] == "2", label
