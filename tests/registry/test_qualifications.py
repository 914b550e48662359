"""Qualifications: validity computed from the date (expiry needs no job),
history kept (renewals are new rows, corrections audited), and the filter."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.registry import services
from chanrong.registry.models import Enterprise, Qualification

pytestmark = pytest.mark.django_db

HIGH_TECH = {
    "kind": "high_tech",
    "issuer": "浙江省科学技术厅",
    "certificate_no": "GR202333001234",
    "valid_from": "2023-12-08",
    "valid_until": "2026-03-31",
}


def test_a_qualification_counts_up_to_and_including_its_end_date(world, today):
    q = services.add_qualification(world.user("gov_jiashan"), world.ent, HIGH_TECH)
    for day, active in (
        (date(2023, 12, 7), False),
        (date(2023, 12, 8), True),
        (date(2026, 3, 31), True),
        (date(2026, 4, 1), False),
    ):
        assert Qualification.objects.active_on(day).filter(pk=q.pk).exists() is active
        assert q.is_active(day) is active
    today.set(date(2026, 3, 31))
    assert list(Enterprise.objects.with_active_qualification("high_tech")) == [world.ent]
    today.set(date(2026, 4, 1))  # nothing ran in between: the date alone decides
    assert not Enterprise.objects.with_active_qualification("high_tech").exists()
    assert services.eligibility_facts(world.ent)["qualifications"] == frozenset()


def test_renewal_is_a_new_row_and_corrections_keep_the_old_values(world, today):
    gov = world.user("gov_jiashan")
    first = services.add_qualification(gov, world.ent, HIGH_TECH)
    renewal = services.add_qualification(
        gov,
        world.ent,
        {
            **HIGH_TECH,
            "certificate_no": "GR202633000001",
            "valid_from": "2026-04-01",
            "valid_until": "",
        },
    )
    assert Qualification.objects.filter(enterprise=world.ent).count() == 2
    assert first.pk != renewal.pk and renewal.valid_until is None
    services.update_qualification(
        world.user("ent_user"), first, {"certificate_no": "GR202333009999"}
    )
    entry = AuditEntry.objects.filter(action="qualification.update").latest("seq")
    # The enterprise's correction of a verified certificate makes it declared again.
    assert entry.changes == {
        "certificate_no": ["GR202333001234", "GR202333009999"],
        "source": ["government", "enterprise"],
        "status": ["verified", "declared"],
    }
    first.refresh_from_db()
    assert first.source == "enterprise"  # who last vouched for it
    # Re-recording the same certificate (a re-import) does not duplicate it.
    again = services.add_qualification(
        gov, world.ent, {**HIGH_TECH, "certificate_no": "GR202333009999"}
    )
    assert again.pk == first.pk
    assert Qualification.objects.filter(enterprise=world.ent).count() == 2


def test_revocation_ends_the_period_early_and_is_audited(world, today):
    gov = world.user("gov_jiashan")
    q = services.add_qualification(gov, world.ent, {**HIGH_TECH, "valid_until": None})
    services.revoke_qualification(gov, q, effective="2026-03-10", reason="复核不合格")
    q.refresh_from_db()
    assert q.valid_until == date(2026, 3, 9)
    assert not q.is_active()
    entry = AuditEntry.objects.filter(action="qualification.revoke").latest("seq")
    assert entry.changes == {"valid_until": [None, "2026-03-09"], "reason": "复核不合格"}
    with pytest.raises(ValidationFailed) as exc:
        services.revoke_qualification(gov, q, effective="2026-03-12", reason="再次撤销")
    assert exc.value.errors[0].message == "该资质在此之前已经到期"


def test_a_certificate_recorded_by_government_is_revoked_only_by_government(world, client):
    """The enterprise was offered 撤销 on a 高新技术企业 certificate the county
    had recorded; now the link is gone, the form is refused and the service
    says who may; what it declared itself it may still withdraw."""
    gov, ent_user = world.user("gov_jiashan"), world.user("ent_user")
    certified = services.add_qualification(gov, world.ent, {**HIGH_TECH, "valid_until": None})
    declared = services.add_qualification(
        ent_user,
        world.ent,
        {**HIGH_TECH, "kind": "tech_sme", "certificate_no": "2024330421A0001", "valid_until": None},
    )
    assert not services.can_revoke_qualification(ent_user, certified)
    assert services.can_revoke_qualification(ent_user, declared)
    assert services.can_revoke_qualification(gov, certified)
    with pytest.raises(NotAllowed):
        services.revoke_qualification(ent_user, certified, effective="2026-03-10", reason="不想要")
    client.force_login(ent_user)
    page = client.get(world.ent.get_absolute_url()).content.decode()

    def revoke_url(q):
        return reverse("registry:qualification_revoke", args=[world.ent.pk, q.pk])

    assert revoke_url(declared) in page
    assert revoke_url(certified) not in page
    assert client.get(revoke_url(certified)).status_code == 403
    posted = client.post(revoke_url(certified), {"effective": "2026-03-10", "reason": "x"})
    assert posted.status_code == 403
    certified.refresh_from_db()
    assert certified.valid_until is None


def test_qualification_validation_messages(world, today):
    gov = world.user("gov_jiashan")
    with pytest.raises(ValidationFailed) as exc:
        services.add_qualification(
            gov, world.ent, {"kind": "listed", "issuer": "", "valid_from": "昨天", "extra": 1}
        )
    errors = {e.field: e.message for e in exc.value.errors}
    assert errors["issuer"] == "必填"
    assert errors["valid_from"].startswith("无法识别的日期：昨天")
    assert errors["extra"] == "不允许的字段"
    with pytest.raises(ValidationFailed) as exc:
        services.add_qualification(gov, world.ent, {**HIGH_TECH, "kind": "上市/挂牌"})
    assert {e.field: e.message for e in exc.value.errors} == {"board": "上市/挂牌须注明板块"}
    with pytest.raises(ValidationFailed) as exc:
        services.add_qualification(gov, world.ent, {**HIGH_TECH, "board": "科创板"})
    assert exc.value.errors[0].message == "只有上市/挂牌或上市后备企业才填写板块"
    with pytest.raises(ValidationFailed) as exc:
        services.add_qualification(gov, world.ent, {**HIGH_TECH, "valid_until": "2020-01-01"})
    assert exc.value.errors[0].message == "有效期截止日不能早于生效日期"
    listed = services.add_qualification(
        gov, world.ent, {**HIGH_TECH, "kind": "上市/挂牌", "board": "科创板", "valid_until": ""}
    )
    assert listed.label == "上市/挂牌（科创板）"
    assert Qualification.objects.count() == 1


def test_who_may_record_qualifications(world, today):
    services.add_qualification(world.user("ent_user"), world.ent, HIGH_TECH)
    assert Qualification.objects.get().source == "enterprise"
    for username in ("ent2_user", "bank_staff", "gov_jiangsu"):
        with pytest.raises(NotAllowed):
            services.add_qualification(world.user(username), world.ent, HIGH_TECH)
    # Institutions see the qualifications of enterprises that authorised them only.
    assert Qualification.objects.visible_to(world.user("bank_staff")).count() == 1
    assert Qualification.objects.visible_to(world.user("bank2_staff")).count() == 0
