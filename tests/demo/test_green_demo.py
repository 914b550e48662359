"""The demo's green steps show what issue 18 built: library applications on
items of the complete 2019 catalogue, loans' green categories the catalogue
has, the published grid factors, and branches' own environmental
disclosures (the demo bank's branch in 嘉善 submitted) on the checklist."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from chanrong.accounts.models import User
from chanrong.green.models import (
    CatalogueItem,
    Disclosure,
    DisclosureState,
    EmissionFactor,
    LibraryApplication,
)
from chanrong.green.services import catalogue
from chanrong.green.services import disclosure as disclosure_svc
from chanrong.risk.models import LoanAccount

pytestmark = pytest.mark.django_db


def test_green_steps(demo):
    items = CatalogueItem.objects.filter(edition__code="2019")
    assert [items.filter(level=n).count() for n in (1, 2, 3)] == [6, 30, 211]
    applied = set(LibraryApplication.objects.values_list("item__code", flat=True))
    assert applied and applied <= set(items.filter(level=3).values_list("code", flat=True))
    categories = set(
        LoanAccount.objects.exclude(green_category="").values_list("green_category", flat=True)
    )
    assert categories and all(catalogue.code_known(code) for code in categories)
    grid = dict(
        EmissionFactor.objects.filter(code="grid_electricity", region__isnull=True).values_list(
            "year", "factor"
        )
    )
    assert grid[2022] == Decimal("0.5366")

    year = timezone.localdate().year - 1
    branch_forms = Disclosure.objects.filter(year=year, branch__isnull=False)
    assert branch_forms.filter(state=DisclosureState.SUBMITTED).exists()
    manager = User.objects.get(username="bank_manager")
    assert branch_forms.filter(
        institution_id=manager.institution_id, state=DisclosureState.SUBMITTED
    ).exists()
    gov = User.objects.get(username="gov_jiashan")
    rows = list(disclosure_svc.checklist(gov, year))
    by_institution = disclosure_svc.branch_checklist(gov, year, [r.pk for r in rows])
    states = [b["state"] for rows_ in by_institution.values() for b in rows_]
    assert DisclosureState.SUBMITTED in states and None in states  # filed, and not
