"""The registry's demo builder: what a visitor should find, consistent with
the services' rules, and the same world for the same seed."""

from __future__ import annotations

import hashlib

import pytest
from django.db.models import Count

from chanrong.demo import services as demo
from chanrong.demo.builders import registry as builder
from chanrong.demo.builders.base import DemoContext, default_today
from chanrong.registry import services
from chanrong.registry.models import (
    Enterprise,
    ListEntry,
    ListVersion,
    OperatingRecord,
    Qualification,
    ReviewStatus,
    TaxCreditGrade,
    VersionStatus,
)
from tests.module_demo import demo_for_module

pytestmark = pytest.mark.django_db
SCALE = 0.05
# The build day: the registry's dates are placed relative to it.
ON = default_today()


def _digest() -> str:
    hasher = hashlib.sha256()
    for label, rows in builder.digest_rows():
        hasher.update(label.encode())
        for row in rows:
            hasher.update(repr(row).encode())
    return hasher.hexdigest()


def _build(seed: int, reset: bool = False) -> dict:
    demo.build_demo(seed=seed, scale=SCALE, today=ON, reset=reset)
    if ListVersion.objects.exists():  # the lead has wired the builder into the demo
        return {}
    ctx = DemoContext(seed=seed, scale=SCALE, password_hash="x", today=ON)
    builder.build(ctx)
    return ctx.counts


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """Built once for the module (tests/module_demo.py); each test sees it fresh."""
    with demo_for_module(django_db_blocker, seed=11, scale=SCALE, today=ON):
        yield {}


def test_the_demo_accounts_find_the_registry_filled(built):
    ent = Enterprise.objects.get(name="嘉善精工机械有限公司")
    ent2 = Enterprise.objects.get(name="嘉善新材料科技有限公司")
    assert ent.founded_on and ent.main_products and ent.tax_grade == "A"
    admin = ent.users.get().__class__.objects.get(username="admin")
    current, past = services.enterprise_memberships(admin, ent, ON)
    assert "嘉善县制造业重点企业白名单" in {e.version.list.name for e in current}
    current, past = services.enterprise_memberships(admin, ent2, ON)
    assert "嘉善县制造业重点企业白名单" in {p.list.name for p in past}
    assert "嘉善县制造业重点企业白名单" not in {e.version.list.name for e in current}
    assert set(Qualification.objects.filter(enterprise=ent).values_list("kind", flat=True)) >= {
        "high_tech",
        "specialised_sme",
    }
    assert OperatingRecord.objects.filter(enterprise=ent).count() == 24
    assert OperatingRecord.objects.filter(
        enterprise=ent, review_status=ReviewStatus.FLAGGED
    ).exists()
    # gov_jiashan has a version waiting for approval.
    waiting = ListVersion.objects.get(status=VersionStatus.SUBMITTED)
    gov = admin.__class__.objects.get(username="gov_jiashan")
    assert {"reject", "publish"} <= set(services.version_actions(gov, waiting))


def test_lists_have_two_published_versions_that_chain(built):
    for name in ("嘉善县制造业重点企业白名单", "嘉兴市金融守信红名单", "嘉善县失信黑名单"):
        v1, v2 = ListVersion.objects.filter(list__name=name, status="published").order_by("number")
        assert (v2.effective_from - v1.effective_until).days == 1
        assert v1.effective_until < v2.effective_from and v2.effective_until is None
        diff = services.compare_versions(v1, v2)
        assert diff.removed, name
        assert all(diff.removal_reasons.get((e.enterprise_id, e.project_id)) for e in diff.removed)
    # Nobody is on the black list and on a red or white list at the same time.
    black = set(
        ListEntry.objects.in_force(ON)
        .filter(version__list__list_type="black")
        .values_list("enterprise", flat=True)
    )
    others = set(
        ListEntry.objects.in_force(ON)
        .filter(version__list__list_type__in=["red", "key_enterprises"])
        .values_list("enterprise", flat=True)
    )
    assert black and not black & others


def test_generated_rows_follow_the_rules(built):
    # Flags are what the services would derive; confirmed rows carry a note.
    for record in OperatingRecord.objects.exclude(review_status=ReviewStatus.OK):
        assert record.flags
        if record.review_status == ReviewStatus.CONFIRMED:
            assert record.review_note and record.reviewed_by_id
    assert (
        not OperatingRecord.objects.filter(review_status=ReviewStatus.OK).exclude(flags=[]).exists()
    )
    # Some qualifications have expired, most are active.
    assert Qualification.objects.expired_on(ON).exists()
    assert (
        Qualification.objects.active_on(ON).count()
        > Qualification.objects.expired_on(ON).count() / 2
    )
    # The latest grade on the enterprise matches its latest yearly row.
    for enterprise in Enterprise.objects.exclude(tax_grade="")[:50]:
        latest = TaxCreditGrade.objects.filter(enterprise=enterprise).order_by("-year").first()
        assert (latest.year, latest.grade) == (enterprise.tax_grade_year, enterprise.tax_grade)
    # One row per version and subject.
    assert not (
        ListEntry.objects.values("version", "enterprise", "project")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .exists()
    )


def test_same_seed_same_registry(built):
    first = _digest()
    _build(11, reset=True)
    assert _digest() == first
    _build(12, reset=True)
    assert _digest() != first
