"""Versioned lists: the approval workflow and who may take each step,
publication dates, immutability of published versions, comparison,
current and past memberships, and visibility per role."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry, Notification
from chanrong.finance.models import Branch, BranchLevel
from chanrong.registry import services
from chanrong.registry.models import (
    Enterprise,
    EnterpriseList,
    ListEntry,
    ListVersion,
    VersionStatus,
)

from .conftest import publish

pytestmark = pytest.mark.django_db


def test_staff_draft_and_submit_the_agency_admin_publishes(world, today, jiashan_list):
    staff, admin = world.user("gov_jiashan_staff"), world.user("gov_jiashan")
    version = services.start_version(staff, jiashan_list, note="首次编制")
    services.add_list_entry(staff, version, enterprise=world.ent, reason="亩均效益 A 类")
    # A drafter may not publish, and nothing may be published before submission.
    with pytest.raises(Conflict):
        services.publish_version(admin, version)
    services.submit_version(staff, version)
    assert Notification.objects.filter(recipient=admin, verb="list_version.submitted").exists()
    with pytest.raises(NotAllowed):
        services.publish_version(staff, version)
    # Another agency (even one above) neither approves nor drafts this list.
    for outsider in ("gov_zhejiang", "gov_national", "gov_jiangsu"):
        with pytest.raises(NotAllowed):
            services.publish_version(world.user(outsider), version)
        with pytest.raises(NotAllowed):
            services.start_version(world.user(outsider), jiashan_list)
    with pytest.raises(Conflict):  # while submitted, it cannot be changed
        services.add_list_entry(staff, version, enterprise=world.ent2, reason="x")
    published = services.publish_version(admin, version, effective_from="2026-04-01")
    assert published.status == VersionStatus.PUBLISHED
    assert published.effective_from == date(2026, 4, 1)
    assert published.approved_by == admin
    assert Notification.objects.filter(recipient=staff, verb="list_version.publish").exists()
    actions = list(
        AuditEntry.objects.filter(object_type="registry.listversion")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "list_version.create",
        "list_version.add",
        "list_version.submit",
        "list_version.publish",
    ]
    # Not yet in force before its date.
    assert not Enterprise.objects.on_list(list_id=jiashan_list.pk).exists()
    today.set(date(2026, 4, 1))
    assert list(Enterprise.objects.on_list(list_id=jiashan_list.pk)) == [world.ent]


def test_rejection_needs_a_reason_and_the_drafters_reopen(world, today, jiashan_list):
    staff, admin = world.user("gov_jiashan_staff"), world.user("gov_jiashan")
    version = services.start_version(staff, jiashan_list)
    services.submit_version(staff, version)
    with pytest.raises(ValidationFailed):
        services.reject_version(admin, version, note=" ")
    services.reject_version(admin, version, note="请补充企业亩均评价结果")
    assert version.status == VersionStatus.REJECTED
    with pytest.raises(NotAllowed):
        services.reopen_version(world.user("gov_zhejiang"), version)
    services.reopen_version(staff, version)
    assert version.status == VersionStatus.DRAFT
    services.submit_version(staff, version)
    services.withdraw_version(staff, version)
    assert version.status == VersionStatus.DRAFT
    # The platform admin may approve any list.
    services.submit_version(staff, version)
    services.publish_version(world.user("admin"), version)
    assert version.status == VersionStatus.PUBLISHED


def test_published_versions_are_immutable(world, today, jiashan_list):
    v1 = publish(world, jiashan_list, [world.ent, world.ent2])
    staff = world.user("gov_jiashan_staff")
    entry = ListEntry.objects.get(version=v1, enterprise=world.ent)
    with pytest.raises(Conflict) as exc:
        services.add_list_entry(staff, v1, enterprise=world.ent_js, reason="x")
    assert exc.value.code == "version_published"
    with pytest.raises(Conflict):
        services.remove_list_entry(staff, v1, entry, reason="x")
    with pytest.raises(Conflict):
        services.update_version(staff, v1, {"note": "改说明"})
    with pytest.raises(Conflict):
        services.discard_version(staff, v1)
    # Even bypassing the services, the models refuse.
    entry.reason = "改理由"
    with pytest.raises(Conflict):
        entry.save()
    with pytest.raises(Conflict):
        entry.delete()
    v1.note = "改说明"
    with pytest.raises(Conflict):
        v1.save()
    with pytest.raises(Conflict):
        ListVersion.objects.get(pk=v1.pk).delete()
    assert ListEntry.objects.filter(version=v1).count() == 2


def test_next_version_starts_from_the_last_published_and_records_changes(
    world, today, jiashan_list
):
    staff = world.user("gov_jiashan_staff")
    v1 = publish(world, jiashan_list, [world.ent, world.ent2], reason="亩均 A 类")
    v2 = services.start_version(staff, jiashan_list, note="年度调整")
    assert v2.number == 2
    kept = {e.enterprise_id: (e.change, e.reason) for e in v2.entries.all()}
    assert kept == {world.ent.pk: ("kept", "亩均 A 类"), world.ent2.pk: ("kept", "亩均 A 类")}
    with pytest.raises(Conflict):  # one version in preparation at a time
        services.start_version(staff, jiashan_list)
    with pytest.raises(ValidationFailed):  # a removal needs its reason
        services.remove_list_entry(
            staff, v2, services.find_entry(v2, enterprise=world.ent2), reason=""
        )
    services.remove_list_entry(
        staff, v2, services.find_entry(v2, enterprise=world.ent2), reason="亩均评价降为 C 类"
    )
    # Adding twice changes nothing; adding then removing a new member leaves no trace.
    world.ent_js.region_id = "330421"
    world.ent_js.save()
    extra = services.add_list_entry(staff, v2, enterprise=world.ent_js, reason="新认定")
    assert services.add_list_entry(staff, v2, enterprise=world.ent_js, reason="再次") == extra
    services.remove_list_entry(staff, v2, extra, reason="录入错误")
    assert not ListEntry.objects.filter(version=v2, enterprise=world.ent_js).exists()
    services.submit_version(staff, v2)
    today.set(date(2026, 5, 1))
    services.publish_version(world.user("gov_jiashan"), v2)
    v1.refresh_from_db()
    assert v1.effective_until == date(2026, 4, 30)
    diff = services.compare_versions(v1, v2)
    assert [e.enterprise for e in diff.removed] == [world.ent2]
    assert diff.removal_reasons[(world.ent2.pk, None)] == "亩均评价降为 C 类"
    assert diff.added == [] and diff.kept == 1
    # What the enterprise page shows: on the list now, or before.
    current, past = services.enterprise_memberships(world.user("admin"), world.ent)
    assert [(e.version.number, e.reason) for e in current] == [(2, "亩均 A 类")]
    current, past = services.enterprise_memberships(world.user("admin"), world.ent2)
    assert current == []
    assert [(p.list, p.first_from, p.last_until) for p in past] == [
        (jiashan_list, date(2026, 3, 15), date(2026, 4, 30))
    ]
    # And as of a day in April, ent2 was still on it.
    current, _ = services.enterprise_memberships(world.user("admin"), world.ent2, date(2026, 4, 20))
    assert [e.version.number for e in current] == [1]


def test_compare_any_two_versions(world, today, jiashan_list):
    v1 = publish(world, jiashan_list, [world.ent])
    today.set(date(2026, 4, 1))
    v2 = publish(world, jiashan_list, [world.ent2], reason="新认定")
    today.set(date(2026, 5, 1))
    v3 = publish(world, jiashan_list, [], removed=[world.ent])
    diff = services.compare_versions(v1, v3)
    assert [e.enterprise for e in diff.added] == [world.ent2]
    assert [e.enterprise for e in diff.removed] == [world.ent]
    back = services.compare_versions(v3, v1)
    assert [e.enterprise for e in back.added] == [world.ent]
    assert services.compare_versions(v2, v2).kept == 2
    other = services.create_list(
        world.user("gov_jiashan"), {"list_type": "red", "name": "嘉善县守信红名单"}
    )
    with pytest.raises(ValidationFailed):
        services.compare_versions(v1, services.start_version(world.user("gov_jiashan"), other))


def test_publication_dates(world, today, jiashan_list):
    staff, admin = world.user("gov_jiashan_staff"), world.user("gov_jiashan")
    version = services.start_version(staff, jiashan_list)
    services.update_version(staff, version, {"effective_from": "2026-06-01"})
    services.submit_version(staff, version)
    with pytest.raises(ValidationFailed) as exc:
        services.publish_version(admin, version, effective_from="2026-03-14")
    assert exc.value.errors[0].message == "生效日期不能早于今天（名单不溯及既往）"
    assert services.publish_version(admin, version).effective_from == date(2026, 6, 1)
    v2 = services.start_version(staff, jiashan_list)
    services.submit_version(staff, v2)
    with pytest.raises(ValidationFailed) as exc:
        services.publish_version(admin, v2, effective_from="2026-05-01")
    assert "不能早于上一版本的生效日期 2026-06-01" in exc.value.errors[0].message


def test_membership_rules(world, today, jiashan_list):
    staff = world.user("gov_jiashan_staff")
    version = services.start_version(staff, jiashan_list)
    with pytest.raises(ValidationFailed) as exc:  # outside the agency's county
        services.add_list_entry(staff, version, enterprise=world.ent_js, reason="x")
    assert exc.value.errors[0].message == "企业不存在或不在您的管辖范围内"
    project = services.create_project(
        staff,
        {"owner_id": world.ent.pk, "name": "技改项目", "kind": "tech_upgrade", "total_investment_wan": 100, "stage": "planning"},
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as exc:
        services.add_list_entry(staff, version, project=project, reason="x")
    assert exc.value.errors[0].message == "该类名单只收录企业，不收录项目"
    # A 红名单 refuses an enterprise on a 黑名单 in force.
    admin = world.user("gov_jiashan")
    black = services.create_list(admin, {"list_type": "black", "name": "嘉善县失信黑名单"})
    publish(world, black, [world.ent2], reason="失信被执行人")
    red = services.create_list(admin, {"list_type": "red", "name": "嘉善县守信红名单"})
    draft = services.start_version(admin, red)
    with pytest.raises(ValidationFailed) as exc:
        services.add_list_entry(admin, draft, enterprise=world.ent2, reason="按期还款")
    assert (
        exc.value.errors[0].message == "该企业在失信黑名单“嘉善县失信黑名单”中，不能列入守信红名单"
    )
    facts = services.eligibility_facts(world.ent2)
    assert facts["blacklisted"] is True and facts["lists"] == frozenset({"black"})


def test_list_creation_rules(world, today):
    with pytest.raises(NotAllowed):
        services.create_list(world.user("bank_staff"), {"list_type": "red", "name": "x"})
    with pytest.raises(ValidationFailed) as exc:
        services.create_list(
            world.user("gov_jiashan"),
            {"list_type": "red", "name": "江苏名单", "region_code": "320000"},
        )
    assert exc.value.errors[0].message == "名单的适用地区应在维护部门的辖区之内"
    national = services.create_list(
        world.user("gov_national"), {"list_type": "chain_sme", "name": "产业链中小企业名单"}
    )
    assert national.region is None
    with pytest.raises(ValidationFailed) as exc:
        services.create_list(world.user("admin"), {"list_type": "red", "name": "无部门"})
    assert exc.value.errors[0].field == "agency_id"
    services.create_list(
        world.user("gov_jiashan"), {"list_type": "red", "name": "嘉善县守信红名单"}
    )
    with pytest.raises(ValidationFailed) as exc:
        services.create_list(
            world.user("gov_jiashan_staff"), {"list_type": "black", "name": "嘉善县守信红名单"}
        )
    assert exc.value.errors[0].message == "本部门已有同名名单"


def _names(queryset) -> set[str]:
    return {str(x) for x in queryset}


def test_visibility_per_role(world, today, jiashan_list):
    publish(world, jiashan_list, [world.ent, world.ent2])
    draft = services.start_version(world.user("gov_jiashan_staff"), jiashan_list)
    national = services.create_list(
        world.user("gov_national"), {"list_type": "chain_sme", "name": "全国产业链名单"}
    )
    publish_national = services.start_version(world.user("gov_national"), national)
    services.add_list_entry(
        world.user("gov_national"), publish_national, enterprise=world.ent_js, reason="链主配套"
    )
    services.submit_version(world.user("gov_national"), publish_national)
    services.publish_version(world.user("gov_national"), publish_national)
    jiangsu = services.create_list(
        world.user("gov_jiangsu"), {"list_type": "red", "name": "江苏红名单"}
    )

    def versions(username):
        return set(
            ListVersion.objects.visible_to(world.user(username)).values_list("list__name", "number")
        )

    everything = {("嘉善县重点企业白名单", 1), ("嘉善县重点企业白名单", 2), ("全国产业链名单", 1)}
    assert versions("admin") == everything
    assert versions("gov_national") == everything
    # Government: its subtree's lists with drafts, and published ones above it.
    assert versions("gov_zhejiang") == everything
    assert versions("gov_jiashan") == everything
    assert versions("gov_jiangsu") == {("全国产业链名单", 1)}
    assert _names(EnterpriseList.objects.visible_to(world.user("gov_jiangsu"))) == {
        "全国产业链名单",
        "江苏红名单",
    }
    # Institutions: published versions of lists over or under their regions.
    assert versions("bank_staff") == {("嘉善县重点企业白名单", 1), ("全国产业链名单", 1)}
    assert versions("bank2_staff") == {("全国产业链名单", 1)}  # head office in Beijing only
    Branch.objects.create(
        institution=world.bank2,
        name="工行嘉兴分行",
        level=BranchLevel.MUNICIPAL,
        region_id="330400",
    )
    assert versions("bank2_staff") == {("嘉善县重点企业白名单", 1), ("全国产业链名单", 1)}
    assert draft.pk not in ListVersion.objects.visible_to(world.user("bank_staff")).values_list(
        "pk", flat=True
    )
    # Enterprises: the published versions that name them, and only their own entry.
    assert versions("ent_user") == {("嘉善县重点企业白名单", 1)}
    own = ListEntry.objects.visible_to(world.user("ent_user"))
    assert {e.enterprise_id for e in own} == {world.ent.pk}
    assert _names(EnterpriseList.objects.visible_to(world.user("ent_user"))) == {
        "嘉善县重点企业白名单"
    }
    assert jiangsu.pk not in EnterpriseList.objects.visible_to(
        world.user("bank_staff")
    ).values_list("pk", flat=True)
    v1 = ListVersion.objects.get(list=jiashan_list, number=1)
    diff = services.compare_versions(v1, v1, world.user("ent_user"))
    assert diff.kept == 1  # the enterprise compares only what it may see
    # Filtering enterprises by list never reaches lists the viewer cannot see.
    assert (
        Enterprise.objects.on_list(list_type="chain_sme", viewer=world.user("gov_jiangsu")).count()
        == 1
    )
    assert not Enterprise.objects.on_list(
        list_id=jiangsu.pk, viewer=world.user("bank_staff")
    ).exists()


def test_export_to_xlsx(world, today, jiashan_list):
    v1 = publish(world, jiashan_list, [world.ent, world.ent2], reason="亩均 A 类")
    content = services.export_version_xlsx(world.user("bank_staff"), v1)
    book = load_workbook(io.BytesIO(content), read_only=True)
    rows = [r for r in book["名单"].iter_rows(values_only=True) if any(r)]
    assert rows[0][0] == "嘉善县重点企业白名单"
    header = rows.index(
        ("序号", "企业名称", "统一社会信用代码", "项目名称", "所在地区", "列入理由", "本版变动")
    )
    members = rows[header + 1 :]
    assert {(m[1], m[2]) for m in members} == {
        (world.ent.name, world.ent.uscc),
        (world.ent2.name, world.ent2.uscc),
    }
    # An enterprise's export holds its own row only.
    mine = load_workbook(io.BytesIO(services.export_version_xlsx(world.user("ent_user"), v1)))
    names = [r[1] for r in mine["名单"].iter_rows(min_row=9, values_only=True)]
    assert names == [world.ent.name]
    # Each export is in the audit log, with its row count (issue 15).
    entries = AuditEntry.objects.filter(action="export.download", object_id="list_version")
    assert [(e.actor_name, e.changes["rows"]) for e in entries.order_by("seq")] == [
        ("bank_staff", 2),
        ("ent_user", 1),
    ]


def test_a_draft_can_be_discarded_but_nothing_published(world, today, jiashan_list):
    staff = world.user("gov_jiashan_staff")
    v1 = publish(world, jiashan_list, [world.ent])
    draft = services.start_version(staff, jiashan_list)
    assert draft.entries.count() == 1
    with pytest.raises(NotAllowed):
        services.discard_version(world.user("gov_zhejiang"), draft)
    services.discard_version(staff, draft)
    assert list(ListVersion.objects.filter(list=jiashan_list)) == [v1]
    assert ListEntry.objects.filter(version=v1).count() == 1
    assert AuditEntry.objects.filter(action="list_version.discard").exists()
    again = services.start_version(staff, jiashan_list)
    assert again.number == 2
