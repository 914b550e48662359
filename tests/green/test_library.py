"""The green library through its services and the API: the catalogue loads,
an application goes submit → approve → drafted into the green list's next
version → published by the registry's approval; wrong actors get 403/404;
bad input is refused by field with nothing written; membership of the
published version satisfies a product's 绿色融资企业（项目）库 requirement;
the statistics equal a direct sum; visibility by role."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from chanrong.accounts.services import create_token
from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.demands.models import Demand, DemandState
from chanrong.finance import eligibility as el
from chanrong.finance.services import enterprise_facts
from chanrong.green.models import (
    CatalogueEdition,
    CatalogueItem,
    LibraryApplication,
    LibraryEvidence,
    LibraryStatus,
)
from chanrong.green.services import catalogue, library, library_stats
from chanrong.registry.models import (
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListType,
    Project,
    VersionStatus,
)
from chanrong.registry.services import publish_version, submit_version
from tests.conftest import JIASHAN

pytestmark = pytest.mark.django_db

API = "/api/v1/green/library"
EVIDENCE = [{"name": "节能审查意见", "number": "善发改能审〔2025〕12号", "issued_on": "2025-03-01"}]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def green(world):
    """嘉善县绿色融资企业（项目）库 kept by gov_jiashan, and the catalogue
    (loaded by the migration; again if a transactional test flushed it)."""
    if not CatalogueEdition.objects.filter(code="2019").exists():
        catalogue.load_edition()
    return EnterpriseList.objects.create(
        list_type=ListType.GREEN,
        name="嘉善县绿色融资企业（项目）库",
        agency=world.gov_jiashan,
        region_id=JIASHAN,
    )


def project_of(enterprise, name="屋顶分布式光伏项目") -> Project:
    return Project.objects.create(
        owner=enterprise,
        name=name,
        kind="new",
        total_investment=Decimal("8000000.00"),
        financing_need=Decimal("5000000.00"),
        stage="construction",
        region_id=JIASHAN,
    )


def apply(world, user="ent_user", **over):
    data = {"item_code": "1.1.1", "description": "高效煤粉锅炉，热效率 92%", "evidence": EVIDENCE}
    data.update(over)
    return library.apply(world.user(user), data)


def publish(world, lst):
    """Draft the approved applications into the next version and publish it
    through the registry's own approval (today, as the county's admin)."""
    version, diff = library.propose_version(world.user("gov_jiashan_staff"), lst)
    submit_version(world.user("gov_jiashan_staff"), version)
    publish_version(world.user("gov_jiashan"), version)
    return version, diff


class Caller:
    def __init__(self, user):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {create_token(None, user, 'test').raw}"}

    def get(self, path: str, params=None):
        return self.client.get(API + path, query_params=params, headers=self.headers)

    def post(self, path: str, data):
        return self.client.post(
            API + path, data=json.dumps(data), content_type="application/json", headers=self.headers
        )


def fields(response) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


def test_catalogue_shipped_and_loader_is_idempotent(green, tmp_path):
    edition = CatalogueEdition.objects.get(code="2019")
    assert edition.document_no == "发改环资〔2019〕293号"
    items = CatalogueItem.objects.filter(edition=edition)
    assert [i.name for i in items.filter(level=1)] == [
        "节能环保产业",
        "清洁生产产业",
        "清洁能源产业",
        "生态环境产业",
        "基础设施绿色升级",
        "绿色服务",
    ]
    assert items.filter(level=2).count() == 30
    boiler = items.get(code="1.1.1")
    assert (boiler.name, boiler.parent.code, boiler.parent.parent.code) == (
        "节能锅炉制造",
        "1.1",
        "1",
    )
    # 1.1.10 sorts after 1.1.9
    codes = list(items.filter(parent__code="1.1").values_list("code", flat=True))
    assert codes.index("1.1.10") == codes.index("1.1.9") + 1
    out = StringIO()
    call_command("load_green_catalogue", stdout=out)  # the shipped file again: no change
    assert "新增 0 条，更新 0 条" in out.getvalue()
    # A newer edition loads beside it; a bad file is refused whole.
    newer = tmp_path / "2024.json"
    newer.write_text(
        json.dumps(
            {
                "edition": {
                    "code": "2024",
                    "name": "绿色低碳转型产业指导目录（2024年版）",
                    "issuer": "国家发展改革委等",
                    "document_no": "发改环资〔2024〕165号",
                    "source": "test",
                },
                "items": [{"code": "1", "name": "节能降碳产业"}, {"code": "1.1", "name": "x"}],
            }
        ),
        encoding="utf-8",
    )
    catalogue.load_edition(newer)
    assert CatalogueItem.objects.filter(edition__code="2024").count() == 2
    assert CatalogueItem.objects.filter(edition=edition).count() == items.count()
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"edition": {"code": "x"}, "items": [{"code": "1.1", "name": "orphan"}]}),
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as caught:
        catalogue.load_edition(bad)
    assert "items[1].code" in {e.field for e in caught.value.errors}
    with pytest.raises(CommandError, match="items"):
        call_command("load_green_catalogue", str(bad))
    assert not CatalogueEdition.objects.filter(code="x").exists()


def test_application_published_into_the_green_list(world, green):
    project = project_of(world.ent)
    for_project = apply(world, project_id=project.pk, item_code="3.2.2")
    for_enterprise = apply(world)
    assert for_project.category.code == "3" and for_enterprise.category.code == "1"
    assert LibraryEvidence.objects.filter(application=for_project).count() == 1
    staff = world.user("gov_jiashan_staff")
    library.approve(staff, for_project)
    library.approve(staff, for_enterprise, note="材料齐全")
    assert AuditEntry.objects.filter(action="green_library_application.approve").count() == 2
    # Nothing is in the library before the version is published.
    assert not LibraryApplication.objects.published_to(world.user("bank_staff")).exists()
    version, diff = publish(world, green)
    assert len(diff.add) == 2
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    members = {(e.enterprise_id, e.project_id) for e in version.entries.members()}
    assert members == {(world.ent.pk, project.pk), (world.ent.pk, None)}
    assert set(LibraryApplication.objects.published_to(world.user("bank_staff"))) == {
        for_project,
        for_enterprise,
    }
    # The enterprise withdraws; the next version takes it out with the reason,
    # and both the application and the earlier version keep their history.
    library.withdraw(world.user("ent_user"), for_enterprise, reason="项目已转让")
    second, diff = publish(world, green)
    assert [a.pk for a in diff.remove] == [for_enterprise.pk]
    row = ListEntry.objects.get(version=second, enterprise=world.ent, project__isnull=True)
    assert row.change == EntryChange.REMOVED and "项目已转让" in row.reason
    for_enterprise.refresh_from_db()
    assert (for_enterprise.status, for_enterprise.removed_in_id) == (
        LibraryStatus.WITHDRAWN,
        second.pk,
    )
    assert version.entries.members().count() == 2


def test_wrong_actors_refused(world, green):
    application = apply(world)
    with pytest.raises(NotAllowed):  # the enterprise does not review itself
        library.approve(world.user("ent_user"), application)
    with pytest.raises(NotAllowed):  # the province does not keep this list
        library.approve(world.user("gov_zhejiang"), application)
    with pytest.raises(NotAllowed):
        library.withdraw(world.user("gov_jiashan"), application, reason="x")
    with pytest.raises(NotAllowed):
        library.apply(world.user("bank_staff"), {})
    with pytest.raises(NotAllowed):
        library.propose_version(world.user("gov_zhejiang"), green)
    # Over the API: another enterprise and another region's government get 404.
    assert Caller(world.user("ent2_user")).get(f"/applications/{application.pk}").status_code == 404
    other = Caller(world.user("gov_jiangsu")).post(f"/applications/{application.pk}/approve", {})
    assert other.status_code == 404
    assert (
        Caller(world.user("ent_user"))
        .post(f"/applications/{application.pk}/approve", {})
        .status_code
        == 403
    )
    application.refresh_from_db()
    assert application.status == LibraryStatus.SUBMITTED


def test_bad_input_by_field_nothing_written(world, green):
    caller = Caller(world.user("ent_user"))
    foreign = project_of(world.ent2, "别人的项目")
    response = caller.post(
        "/applications",
        {"item_code": "9.9.9", "description": "", "evidence": [], "project_id": foreign.pk},
    )
    assert response.status_code == 422
    assert fields(response) == {"item_code", "description", "evidence", "project_id"}
    response = caller.post(
        "/applications",
        {"item_code": "1.1", "description": "x", "evidence": [{"number": "无名称"}]},
    )
    assert response.status_code == 422
    assert fields(response) == {"item_code", "evidence[1].name"}  # 1.1 has level-3 items
    reject = Caller(world.user("gov_jiashan_staff"))
    good = caller.post(
        "/applications", {"item_code": "1.1.1", "description": "锅炉", "evidence": EVIDENCE}
    )
    assert good.status_code == 201, good.content
    again = caller.post(
        "/applications", {"item_code": "1.1.2", "description": "窑炉", "evidence": EVIDENCE}
    )
    assert again.status_code == 422 and fields(again) == {"green_list_id"}
    pk = good.json()["id"]
    assert reject.post(f"/applications/{pk}/reject", {"note": ""}).status_code == 422
    assert LibraryApplication.objects.count() == 1
    assert LibraryApplication.objects.get().status == LibraryStatus.SUBMITTED
    done = reject.post(f"/applications/{pk}/reject", {"note": "证明材料不足"})
    assert done.status_code == 200 and done.json()["status"] == "rejected"
    assert reject.post(f"/applications/{pk}/approve", {}).status_code == 409


def test_product_requiring_the_green_list(world, green):
    conditions = el.ProductConditions(product_kind="credit", required_lists=("green",))

    def lists_failed() -> bool:
        result = el.evaluate(conditions, enterprise_facts(world.ent))
        return any(f.condition == "lists" for f in result.failed)

    application = apply(world)
    library.approve(world.user("gov_jiashan_staff"), application)
    version, _diff = library.propose_version(world.user("gov_jiashan_staff"), green)
    assert lists_failed()  # approved and drafted, not yet published
    submit_version(world.user("gov_jiashan_staff"), version)
    publish_version(world.user("gov_jiashan"), version)
    assert not lists_failed()


def _demand(enterprise, amount, *, project=None, state=DemandState.DISBURSED, disbursed=None):
    return Demand.objects.create(
        enterprise=enterprise,
        project=project,
        kind="debt",
        amount=Decimal(amount),
        term_months=12,
        purpose="节能改造",
        state=state,
        granted_amount=Decimal(disbursed) if disbursed else None,
        disbursed_amount=Decimal(disbursed) if disbursed else None,
    )


def test_stats_equal_a_direct_sum_and_are_scoped(world, green):
    project = project_of(world.ent2)
    staff = world.user("gov_jiashan_staff")
    for application in (
        apply(world),
        apply(world, "ent2_user", project_id=project.pk, item_code="3.2.2"),
    ):
        library.approve(staff, application)
    publish(world, green)
    _demand(world.ent, "1000000.10", disbursed="800000.05")
    _demand(world.ent, "250000.00", state=DemandState.PUBLISHED)
    _demand(world.ent, "999.00", state=DemandState.DRAFT)  # never published: left out
    _demand(world.ent2, "3000000.00", project=project, disbursed="3000000.00")
    _demand(world.ent2, "70000.00")  # ent2 itself is not in the library
    summary = library_stats.summarise(world.user("gov_jiashan"))
    by = {r.category_code: r for r in summary.by_category}
    direct = Demand.objects.exclude(state=DemandState.DRAFT)
    ent = direct.filter(enterprise=world.ent)
    assert by["1"].demands == ent.count() == 2
    assert by["1"].amount == sum(d.amount for d in ent) == Decimal("1250000.10")
    assert by["1"].disbursed == Decimal("800000.05")
    assert by["3"].amount == Decimal("3000000.00") and by["3"].subjects == 1
    assert summary.total.amount == by["1"].amount + by["3"].amount
    assert [(r.category_code, r.region_code) for r in summary.rows] == [
        ("1", JIASHAN),
        ("3", JIASHAN),
    ]
    # Another province sees nothing; institutions and enterprises get 404 over the API.
    assert library_stats.summarise(world.user("gov_jiangsu")).rows == []
    assert Caller(world.user("bank_staff")).get("/stats").status_code == 404
    response = Caller(world.user("gov_jiashan")).get("/stats")
    assert response.status_code == 200
    assert Decimal(response.json()["total"]["amount"]) == summary.total.amount


def test_visibility(world, green):
    mine = apply(world)
    apply(world, "ent2_user")
    assert list(LibraryApplication.objects.visible_to(world.user("ent_user"))) == [mine]
    assert LibraryApplication.objects.visible_to(world.user("gov_jiashan")).count() == 2
    assert not LibraryApplication.objects.visible_to(world.user("gov_jiangsu")).exists()
    assert not LibraryApplication.objects.visible_to(world.user("bank_staff")).exists()
    library.approve(world.user("gov_jiashan_staff"), mine)
    publish(world, green)
    # The published library: every role in or above the region; not 江苏.
    for name in ("ent2_user", "bank_staff", "gov_zhejiang", "admin"):
        listed = Caller(world.user(name)).get("/entries")
        assert [e["id"] for e in listed.json()["results"]] == [mine.pk], name
    assert Caller(world.user("gov_jiangsu")).get("/entries").json()["results"] == []
