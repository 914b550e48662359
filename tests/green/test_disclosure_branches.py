"""A branch (分支机构) that publishes its own environmental information files
its own JR/T 0227-2021 form beside its head office's: opened by the
institution's users for one of its branches (another institution's branch is
a field error), one per branch and year; agencies see and return a branch's
form where the branch is; the checklist lists each institution with its
branches in the region and which of them filed — services, pages, API."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from chanrong.core.errors import NotAllowed, NotFound, ValidationFailed
from chanrong.finance.models import Branch, BranchLevel
from chanrong.green.models import SECTION_KEYS, Disclosure, DisclosureState
from chanrong.green.services import disclosure as svc
from tests.conftest import SUZHOU_GUSU


def last_year() -> int:
    """The year disclosed: read at use, not at import (a run collected before
    Beijing's New Year and run after it would otherwise disagree with the services)."""
    return timezone.localdate().year - 1


FULL = {
    "sections": {key: f"本分行{key}情况说明。" for key in SECTION_KEYS},
    "green_loan_balance": "120000000.00",
    "total_loan_balance": "3000000000.00",
    "financed_emissions": "15200.5",
    "operational_emissions": "830",
}


@pytest.fixture
def suzhou_branch(world) -> Branch:
    """The 嘉善 bank's branch in 苏州 (outside 嘉善, inside 江苏)."""
    return Branch.objects.create(
        institution=world.bank, name="嘉善农商行苏州分行", level=BranchLevel.MUNICIPAL,
        region_id=SUZHOU_GUSU,
    )  # fmt: skip


def _filed(world, branch) -> Disclosure:
    form = svc.open_disclosure(world.user("bank_staff"), last_year(), branch.pk)
    svc.save_disclosure(world.user("bank_staff"), form, FULL)
    return svc.submit(world.user("bank_manager"), form)


def test_a_branch_opens_its_own_form_beside_the_head_office(world, suzhou_branch):
    staff = world.user("bank_staff")
    head = svc.open_disclosure(staff, last_year())
    local = svc.open_disclosure(staff, last_year(), str(world.bank_branch.pk))
    assert head.branch_id is None and local.branch_id == world.bank_branch.pk
    assert head.pk != local.pk
    assert (
        svc.open_disclosure(staff, last_year(), world.bank_branch.pk).pk == local.pk
    )  # idempotent
    assert local.filer_name == "嘉善农商行营业部"
    other = Branch.objects.create(
        institution=world.bank2, name="工商银行嘉善支行", level=BranchLevel.SUB,
        region_id=world.bank_branch.region_id,
    )  # fmt: skip
    for bad in (other.pk, 999999, "x"):
        with pytest.raises(ValidationFailed) as exc:
            svc.open_disclosure(staff, last_year(), bad)
        assert [e.field for e in exc.value.errors] == ["branch"]
    with pytest.raises(ValidationFailed) as exc:
        svc.open_disclosure(staff, 2019, other.pk)  # both wrong: both named
    assert {e.field for e in exc.value.errors} == {"year", "branch"}
    assert Disclosure.objects.count() == 2


def test_agencies_see_and_return_a_branch_form_where_the_branch_is(world, suzhou_branch):
    form = _filed(world, suzhou_branch)
    assert form.state == DisclosureState.SUBMITTED
    assert svc.disclosure_for(world.user("gov_jiangsu"), form.pk) == form
    with pytest.raises(NotFound):  # the bank is based in 嘉善, this branch is not
        svc.disclosure_for(world.user("gov_jiashan"), form.pk)
    with pytest.raises(NotAllowed):
        svc.return_for_revision(world.user("gov_jiashan"), form, {"reason": "请补充"})
    svc.return_for_revision(world.user("gov_jiangsu"), form, {"reason": "请补充苏州分行数据"})
    form.refresh_from_db()
    assert form.state == DisclosureState.RETURNED


def test_checklist_lists_each_institution_with_its_local_branches(world, suzhou_branch):
    _filed(world, world.bank_branch)
    svc.open_disclosure(world.user("bank_staff"), last_year(), suzhou_branch.pk)  # a draft
    gov = world.user("gov_jiashan")
    rows = list(svc.checklist(gov, last_year()))
    # The head office has not filed: a branch's form is not the head office's.
    assert {r.pk: r.d_state for r in rows}[world.bank.pk] is None
    branches = svc.branch_checklist(gov, last_year(), [r.pk for r in rows])
    # Only the branch in 嘉善; the 苏州 branch is not 嘉善's to see.
    (row,) = branches[world.bank.pk]
    assert row["branch"] == world.bank_branch and row["state"] == DisclosureState.SUBMITTED
    assert svc.branch_summary(gov, last_year()) == {
        "total": 1,
        "submitted": 1,
        "returned": 0,
        "draft": 0,
    }
    national = svc.branch_checklist(world.user("gov_national"), last_year(), [world.bank.pk])
    by_branch = {r["branch"].pk: r for r in national[world.bank.pk]}
    assert by_branch[suzhou_branch.pk]["state"] == DisclosureState.DRAFT
    assert not by_branch[suzhou_branch.pk]["visible"]  # drafts: what is missing only
    assert len(by_branch[suzhou_branch.pk]["missing"]) == len(SECTION_KEYS)
    with pytest.raises(NotAllowed):
        svc.branch_checklist(world.user("bank_staff"), last_year(), [world.bank.pk])


def test_pages_and_api(world, suzhou_branch):
    staff, gov = Client(), Client()
    staff.force_login(world.user("bank_staff"))
    gov.force_login(world.user("gov_jiashan"))
    page = staff.get("/green/disclosures/")
    assert page.status_code == 200 and 'name="branch"' in page.text
    assert "嘉善农商行苏州分行" in page.text
    response = staff.post(
        "/green/disclosures/open/", {"year": last_year(), "branch": world.bank_branch.pk}
    )
    form = Disclosure.objects.get(branch=world.bank_branch)
    assert response.status_code == 302 and response["Location"].endswith(f"/{form.pk}/")
    assert "嘉善农商行营业部" in staff.get(response["Location"]).text
    api = staff.post(
        "/api/v1/green/disclosures",
        {"year": last_year(), "branch_id": suzhou_branch.pk},
        content_type="application/json",
    )
    assert api.status_code == 201
    assert api.json()["branch_name"] == "嘉善农商行苏州分行"
    bad = staff.post(
        "/api/v1/green/disclosures", {"year": last_year(), "branch_id": 999999},
        content_type="application/json",
    )  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "branch"
    svc.save_disclosure(world.user("bank_staff"), form, FULL)
    svc.submit(world.user("bank_manager"), form)
    checklist = gov.get("/green/disclosures/checklist/", {"year": last_year()})
    assert checklist.status_code == 200
    assert f'data-branch="{world.bank_branch.pk}"' in checklist.text
    assert f'data-branch="{suzhou_branch.pk}"' not in checklist.text
    assert 'data-testid="count-branch-submitted">1<' in checklist.text
