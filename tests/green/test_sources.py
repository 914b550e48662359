"""The green indicators (issue 18 part 6): the library's enterprises and
projects (时点, from the published green list), 绿色贷款余额 by use (时点, the
loan book) and 绿色融资额 (时期) — each against a direct count or sum, by
region equal to one region at a time, and a stock never summed over time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Region
from chanrong.green import sources as green
from chanrong.insights import catalogue, services
from chanrong.insights.models import IndicatorDefinition
from chanrong.registry.models import (
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListType,
    ListVersion,
    Project,
    VersionStatus,
)
from chanrong.risk import sources_green as loans
from chanrong.risk.models import LoanAccount, LoanStatus, Repayment

JIASHAN = "330421"
END_2022, END_2023 = date(2022, 12, 31), date(2023, 12, 31)


def _loan(world, enterprise, principal, disbursed, **kw) -> LoanAccount:
    return LoanAccount.objects.create(
        enterprise=enterprise, institution=world.bank, source="reported", principal=D(principal),
        outstanding=D(principal), disbursed_on=disbursed, maturity_on=date(2026, 1, 1), **kw,
    )  # fmt: skip


@pytest.fixture
def library(world):
    """A 嘉善 green list: ent and a project of ent2 from 2023; ent2 itself
    from 2023 to mid-2024 (removed in version 2)."""
    project = Project.objects.create(
        owner=world.ent2, name="屋顶分布式光伏", kind="new", stage="construction",
        region_id=JIASHAN, total_investment=D(8_000_000),
    )  # fmt: skip
    green_list = EnterpriseList.objects.create(
        list_type=ListType.GREEN, name="嘉善绿色库", agency=world.gov_jiashan, region_id=JIASHAN
    )
    v1 = ListVersion.objects.create(list=green_list, number=1)
    ListEntry.objects.create(version=v1, enterprise=world.ent, change=EntryChange.ADDED)
    ListEntry.objects.create(version=v1, enterprise=world.ent2, change=EntryChange.ADDED)
    ListEntry.objects.create(
        version=v1, enterprise=world.ent2, project=project, change=EntryChange.ADDED
    )
    ListVersion.objects.filter(pk=v1.pk).update(
        status=VersionStatus.PUBLISHED,
        effective_from=date(2023, 1, 1),
        effective_until=date(2024, 6, 30),
    )
    v2 = ListVersion.objects.create(list=green_list, number=2)
    ListEntry.objects.create(version=v2, enterprise=world.ent, change=EntryChange.KEPT)
    ListEntry.objects.create(version=v2, enterprise=world.ent2, change=EntryChange.REMOVED)
    ListVersion.objects.filter(pk=v2.pk).update(
        status=VersionStatus.PUBLISHED, effective_from=date(2024, 7, 1)
    )
    return project


def test_library_counts_follow_the_versions_in_force(world, library):
    assert green.library_enterprises(JIASHAN, None, END_2022) == 0
    assert green.library_enterprises(JIASHAN, None, END_2023) == 2
    assert green.library_projects(JIASHAN, None, END_2023) == 1
    assert green.library_enterprises(JIASHAN, None, date(2024, 12, 31)) == 1  # ent2 removed
    assert green.library_enterprises("32", None, END_2023) == 0  # 江苏
    assert green.library_enterprises_by_region("33", None, END_2023) == {JIASHAN: D(2)}


def test_loan_figures_against_direct_sums(world, library):
    # a: green by use, 5 M from 2022, 1 M repaid in 2023
    a = _loan(world, world.ent_js, 5_000_000, date(2022, 3, 1), green_category="3.2.1")
    Repayment.objects.create(loan=a, paid_on=date(2023, 6, 30), principal=D(1_000_000))
    # b: not green by use, to ent (green-listed from 2023), disbursed 2023: green financing
    b = _loan(world, world.ent, 2_000_000, date(2023, 4, 1))
    # c: renewal of b in 2023: not new financing
    LoanAccount.objects.filter(pk=b.pk).update(
        status=LoanStatus.RENEWED, closed_on=date(2023, 9, 1)
    )
    _loan(world, world.ent, 2_000_000, date(2023, 9, 1), renewed_from=b)
    # d: to ent before it was listed: not green financing
    _loan(world, world.ent, 3_000_000, date(2022, 6, 1))
    assert loans.green_purpose_balance("", None, END_2022) == D(5_000_000)
    assert loans.green_purpose_balance("", None, END_2023) == D(4_000_000)
    assert loans.green_purpose_balance(JIASHAN, None, END_2023) == D(0)  # a is in 苏州
    assert loans.green_financing("", date(2023, 1, 1), END_2023) == D(2_000_000)  # b only
    assert loans.green_financing("", None, END_2023) == D(7_000_000)  # a + b
    for fn, by_region in (
        (loans.green_purpose_balance, loans.green_purpose_balance_by_region),
        (loans.green_financing, loans.green_financing_by_region),
        (green.library_enterprises, green.library_enterprises_by_region),
        (green.library_projects, green.library_projects_by_region),
    ):
        for start, end in ((None, END_2022), (date(2023, 1, 1), END_2023)):
            grouped = by_region("", start, end)
            for code in (JIASHAN, "320508"):
                assert grouped.get(code, D(0)) == fn(code, start, end)


def test_catalogue_reads_a_stock_at_the_end_never_summed(world, library):
    defs = {d.code: d for d in IndicatorDefinition.objects.filter(code__startswith="green-")}
    assert defs["green-library-enterprises"].source == catalogue.SOURCE_GREEN_ENTERPRISES
    assert defs["green-loans-by-purpose"].kind == "stock"
    assert defs["green-financing-amount"].kind == "period"
    jiashan = Region.objects.get(code=JIASHAN)
    count = defs["green-library-enterprises"]
    value = services.aggregate_over_time(count, jiashan, date(2023, 1, 1), date(2024, 12, 31))
    assert value.computed and value.value == 1  # the level at the end, not 2 + 1
    with pytest.raises(ValidationFailed) as exc:
        services.aggregate_over_time(
            count, jiashan, date(2023, 1, 1), date(2024, 12, 31), how="sum"
        )
    assert exc.value.errors[0].field == "aggregate"
    with pytest.raises(ValidationFailed):  # a 时期 indicator may not read the stock
        services.check_definition(kind="period", unit="个", source=catalogue.SOURCE_GREEN_PROJECTS)
