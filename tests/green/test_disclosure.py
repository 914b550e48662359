"""Institutions' environmental information disclosure (JR/T 0227-2021): the
form's checks, its transition table and actors, who sees what, and the
government's checklist of who has filed — through the services, the pages
and the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import AuditEntry, Notification
from chanrong.green.models import SECTION_KEYS, Disclosure, DisclosureState
from chanrong.green.services import disclosure as svc


def last_year() -> int:
    """The year disclosed: read at use, not at import (a run collected before
    Beijing's New Year and run after it would otherwise disagree with the services)."""
    return timezone.localdate().year - 1


FULL = {
    "sections": {key: f"本行{key}情况说明。" for key in SECTION_KEYS},
    "green_loan_balance": "1200000000.00",
    "total_loan_balance": "30000000000.00",
    "financed_emissions": "152000.5",
    "operational_emissions": "8300",
}


def _fields(exc) -> set[str]:
    return {e.field for e in exc.value.errors}


@pytest.fixture
def draft(world) -> Disclosure:
    return svc.open_disclosure(world.user("bank_staff"), last_year())


def test_form_checks_every_field_at_once_and_writes_nothing(world, draft):
    staff = world.user("bank_staff")
    bad = {
        "sections": {"overview": "x" * (svc.SECTION_MAX + 1), "nonsense": "?"},
        "green_loan_balance": "500",
        "total_loan_balance": "100",  # green above total
        "financed_emissions": "-1",
        "operational_emissions": "1.23456",  # 5 decimals
        "operational_electricity": "abc",
    }
    with pytest.raises(ValidationFailed) as exc:
        svc.save_disclosure(staff, draft, bad)
    assert _fields(exc) == {
        "sections.overview",
        "sections.nonsense",
        "green_loan_balance",
        "financed_emissions",
        "operational_emissions",
        "operational_electricity",
    }
    draft.refresh_from_db()
    assert draft.sections == {} and draft.green_loan_balance is None
    with pytest.raises(ValidationFailed):
        svc.open_disclosure(staff, 2019)  # before the standard
    assert svc.open_disclosure(staff, last_year()).pk == draft.pk  # idempotent


def test_workflow_actors_and_audit(world, draft):
    staff, manager = world.user("bank_staff"), world.user("bank_manager")
    gov, outsider = world.user("gov_jiashan_staff"), world.user("gov_jiangsu")
    svc.save_disclosure(staff, draft, {**FULL, "sections": {"overview": "概况"}})
    with pytest.raises(NotAllowed):
        svc.submit(staff, draft)  # staff fill, the manager submits
    with pytest.raises(ValidationFailed) as exc:
        svc.submit(manager, draft)  # ten sections missing, named
    assert _fields(exc) == {f"sections.{k}" for k in SECTION_KEYS if k != "overview"}
    svc.save_disclosure(staff, draft, FULL)
    svc.submit(manager, draft)
    assert draft.state == DisclosureState.SUBMITTED and draft.submitted_by == manager
    with pytest.raises(Conflict):
        svc.save_disclosure(staff, draft, FULL)  # no edits once submitted
    with pytest.raises(NotAllowed):
        svc.return_for_revision(outsider, draft, {"reason": "请补充"})  # not its region
    with pytest.raises(ValidationFailed):
        svc.return_for_revision(gov, draft, {"reason": "  "})
    svc.return_for_revision(gov, draft, {"reason": "投融资碳排放口径不清，请补充方法说明"})
    assert draft.state == DisclosureState.RETURNED and draft.return_reason
    assert Notification.objects.filter(recipient=staff, verb="green.disclosure").exists()
    svc.save_disclosure(staff, draft, {**FULL, "financed_emissions": "160000"})
    svc.submit(manager, draft)
    assert draft.state == DisclosureState.SUBMITTED
    assert draft.financed_emissions == Decimal("160000")
    actions = list(
        AuditEntry.objects.filter(object_id=str(draft.pk), action__startswith="green.disclosure")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "green.disclosure.open",
        "green.disclosure.save",
        "green.disclosure.save",
        "green.disclosure.submit",
        "green.disclosure.return",
        "green.disclosure.save",
        "green.disclosure.submit",
    ]


def test_visibility_drafts_stay_with_the_institution(world, draft):
    assert Disclosure.objects.visible_to(world.user("bank_staff")).filter(pk=draft.pk).exists()
    for name in ("gov_jiashan", "bank2_staff", "ent_user", "gov_jiangsu"):
        with pytest.raises(NotFound):
            svc.disclosure_for(world.user(name), draft.pk)
    svc.save_disclosure(world.user("bank_staff"), draft, FULL)
    svc.submit(world.user("bank_manager"), draft)
    assert svc.disclosure_for(world.user("gov_jiashan"), draft.pk) == draft
    assert svc.disclosure_for(world.user("gov_national"), draft.pk) == draft
    for name in ("bank2_staff", "ent_user", "gov_jiangsu"):
        with pytest.raises(NotFound):
            svc.disclosure_for(world.user(name), draft.pk)


def test_checklist_names_who_filed_and_what_is_missing(world, draft):
    svc.save_disclosure(world.user("bank_staff"), draft, {"sections": {"overview": "概况"}})
    rows = {r.pk: r for r in svc.checklist(world.user("gov_jiashan"), last_year())}
    # bank is based in 嘉善; bank2 (Beijing, no branch there) is not in 嘉善's list
    assert set(rows) == {world.bank.pk}
    assert rows[world.bank.pk].d_state == DisclosureState.DRAFT
    missing = svc.missing_titles(rows[world.bank.pk].d_sections)
    assert len(missing) == 10 and "年度概况" not in missing and "环境风险管理流程" in missing
    national = {r.pk: r for r in svc.checklist(world.user("gov_national"), last_year())}
    assert national[world.bank2.pk].d_state is None
    assert len(svc.missing_titles(national[world.bank2.pk].d_sections)) == len(SECTION_KEYS)
    with pytest.raises(NotAllowed):
        svc.checklist(world.user("bank_staff"), last_year())


def test_pages_and_api(world, draft):
    staff, manager, gov = Client(), Client(), Client()
    staff.force_login(world.user("bank_staff"))
    manager.force_login(world.user("bank_manager"))
    gov.force_login(world.user("gov_jiashan"))
    url = f"/api/v1/green/disclosures/{draft.pk}"
    bad = staff.put(url, {**FULL, "green_loan_balance": "-5"}, content_type="application/json")
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"green_loan_balance"}
    ok = staff.put(url, FULL, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["missing_sections"] == []
    assert staff.post(f"{url}/submit").status_code == 403
    assert gov.get(url).status_code == 404  # a draft
    # the page: the manager submits from the form
    page = manager.get(f"/green/disclosures/{draft.pk}/")
    assert page.status_code == 200 and "data-confirm" in page.text
    posted = {f"section_{k}": v for k, v in FULL["sections"].items()}
    posted |= {k: v for k, v in FULL.items() if k != "sections"} | {"then": "submit"}
    response = manager.post(f"/green/disclosures/{draft.pk}/save/", posted)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == DisclosureState.SUBMITTED
    assert "4.00%" in gov.get(f"/green/disclosures/{draft.pk}/").text  # 绿色信贷占比 shown
    checklist = gov.get("/api/v1/green/disclosures/checklist", {"year": last_year()})
    assert checklist.status_code == 200
    body = checklist.json()
    assert body["count"] == 1 and body["results"][0]["state"] == "submitted"
    page = gov.get("/green/disclosures/checklist/", {"year": last_year()})
    assert page.status_code == 200 and world.bank.name in page.text
    response = gov.post(f"/green/disclosures/{draft.pk}/return/", {"reason": ""})
    assert response.status_code == 422 and "请填写退回理由" in response.text
    response = gov.post(f"{url}/return", {"reason": "请补充"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "returned"
    assert staff.get("/green/disclosures/").status_code == 200
