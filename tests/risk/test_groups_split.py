"""The split by policy group summed by the database (services.groups.split)
against the rule it replaced, written here once more as it was: every loan
of the viewer's book fetched, its balance rebuilt in Python from its
repayments, each group's members asked for and the rows added one by one.

The book covers repayments (before and after the day asked), a renewed, a
written-off, a recalled and a settled loan, a loan without a rate and one
without 担保方式, a loan disbursed after the day asked, demands with
dispatches claimed and not, and a member of every group; it is read by
every kind of viewer (a bank, a county, a province, another province, the
nation, the platform) over several periods and days. Also: the statements
do not grow with the book."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chanrong.demands import services as demand_services
from chanrong.demands.models import DemandState, Dispatch
from chanrong.demands.stats import StatRow
from chanrong.insights import groups as policy_groups
from chanrong.registry.models import (
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListType,
    ListVersion,
    Project,
    Qualification,
    QualificationKind,
    VersionStatus,
)
from chanrong.risk.models import Collateral, LoanAccount, Repayment
from chanrong.risk.services import groups, loanbook, repayments
from chanrong.supplychain.models import Chain, ChainKeeper
from tests.conftest import JIASHAN, _enterprise
from tests.demands.conftest import bank_products, dispatch_of, make_demand  # noqa: F401

pytestmark = pytest.mark.django_db

VIEWERS = (
    "admin",
    "gov_national",
    "gov_zhejiang",
    "gov_jiashan",
    "gov_jiangsu",
    "bank_manager",
    "bank_staff",
    "bank2_staff",
)


# --- the rule as it was (services.groups before the database summed it) --------------------------


@dataclass
class OldRow:
    key: str
    label: str
    definition: str = ""
    loans: int = 0
    amount: Decimal = Decimal(0)
    balance: Decimal = Decimal(0)
    balance_loans: int = 0
    weighted: Decimal = Decimal(0)
    rated: Decimal = Decimal(0)
    demand: StatRow | None = field(default=None)

    @property
    def avg_rate(self) -> Decimal | None:
        if not self.rated:
            return None
        return (self.weighted / self.rated).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    def add_loan(self, loan: dict[str, Any], query, balance: Decimal) -> None:
        if query.start <= loan["disbursed_on"] <= query.end:
            self.loans += 1
            self.amount += loan["principal"]
            if loan["rate"] is not None:
                self.weighted += loan["principal"] * loan["rate"]
                self.rated += loan["principal"]
        if balance > 0:
            self.balance += balance
            self.balance_loans += 1


def old_balance_on(loan: dict[str, Any], repaid: Decimal, day) -> Decimal:
    if loan["disbursed_on"] > day:
        return Decimal(0)
    if loan["closed_on"] is not None and loan["closed_on"] <= day:
        return Decimal(0)
    return max(loan["principal"] - repaid, Decimal(0))


def old_demand_stat(members: set[int] | None, rows, dispatches) -> StatRow:
    stat = StatRow("", "")
    chosen: set[int] = set()
    for pk, enterprise_id, amount, state, disbursed_amount in rows:
        if members is not None and enterprise_id not in members:
            continue
        chosen.add(pk)
        stat.demands += 1
        stat.demand_amount += amount
        if state == DemandState.DISBURSED and disbursed_amount is not None:
            stat.financings += 1
            stat.financing_amount += disbursed_amount
    for demand_id, claimed_at in dispatches:
        if demand_id in chosen:
            stat.dispatches += 1
            stat.claims += claimed_at is not None
    return stat


def old_split(actor, query) -> tuple[OldRow, list[OldRow]]:
    loans_qs = groups._in_region(
        LoanAccount.objects.visible_to(actor).filter(disbursed_on__lte=max(query.end, query.as_of)),
        query.region,
    )
    columns = ("pk", "enterprise_id", "principal", "rate", "disbursed_on", "closed_on")
    loans = {row["pk"]: row for row in loans_qs.values(*columns)}
    repaid = dict(
        Repayment.objects.filter(loan__in=loans_qs, paid_on__lte=query.as_of)
        .values("loan_id")
        .annotate(total=Sum("principal"))
        .values_list("loan_id", "total")
    )
    balances = {
        pk: old_balance_on(row, repaid.get(pk) or Decimal(0), query.as_of)
        for pk, row in loans.items()
    }
    demands = groups._demands(actor, query)
    demand_rows = list(
        demands.values_list("pk", "enterprise_id", "amount", "state", "disbursed_amount")
    )
    dispatches = list(
        Dispatch.objects.visible_to(actor)
        .filter(demand__in=demands)
        .values_list("demand_id", "claimed_at")
    )
    total = OldRow("", "合计")
    for pk, row in loans.items():
        total.add_loan(row, query, balances[pk])
    total.demand = old_demand_stat(None, demand_rows, dispatches)
    filters = {
        "first_loan": groups.first_loans,
        "credit": groups.credit_loans,
        "secured": groups.secured_loans,
    }
    rows = []
    for key, label, definition in groups.group_choices():
        if query.group and key != query.group:
            continue
        row = OldRow(key, label, definition)
        if key in filters:
            for pk in set(filters[key](loans_qs).values_list("pk", flat=True)):
                row.add_loan(loans[pk], query, balances[pk])
        else:
            members = set(policy_groups.members(key, query.as_of).values_list("pk", flat=True))
            for pk, loan in loans.items():
                if loan["enterprise_id"] in members:
                    row.add_loan(loan, query, balances[pk])
            row.demand = old_demand_stat(members, demand_rows, dispatches)
        rows.append(row)
    return total, rows


def figures(row) -> tuple:
    """What a row shows (page, API, export), Decimals as their text so that
    a different scale (1000000 vs 1000000.00) counts as a difference."""
    demand = row.demand
    shown = (
        row.key,
        row.loans,
        str(row.amount),
        str(row.balance),
        row.balance_loans,
        str(row.avg_rate),
    )
    if demand is None:
        return (*shown, None)
    return (
        *shown,
        demand.demands,
        str(demand.demand_amount),
        demand.financings,
        str(demand.financing_amount),
        demand.dispatches,
        demand.claims,
        demand.claim_rate,
        demand.success_rate,
    )


# --- the book ------------------------------------------------------------------------------------


@pytest.fixture
def book(world, bank_products, make_demand):  # noqa: F811
    today = timezone.localdate()

    def day(n: int) -> str:
        return (today - timedelta(days=n)).isoformat()

    def report(user, ent, no, principal, rate, days_ago, kind):
        return loanbook.report_loan(
            world.user(user),
            {
                "uscc": ent.uscc,
                "contract_no": no,
                "principal": principal,
                "rate": rate,
                "collateral": kind,
                "disbursed_on": day(days_ago),
                "maturity_on": (today + timedelta(days=400)).isoformat(),
            },
        )

    def repay(loan, days_ago, principal, user="bank_staff"):
        repayments.record_repayment(
            world.user(user), loan, {"paid_on": day(days_ago), "principal": principal}
        )

    ent3 = _enterprise("嘉善群体样本一有限公司", JIASHAN, "C39", 21)
    ent4 = _enterprise("嘉善群体样本二有限公司", JIASHAN, "C26", 22)
    # ent: a credit loan repaid twice (before and after day 45), a renewed
    # mortgage, a platform loan through a demand; ent2: a loan without 担保方式
    # or rate, a written-off guarantee, a settled credit loan; ent_js (苏州): a
    # recalled pledge; ent3: a loan disbursed 3 days ago (无贷户 before then).
    a = report("bank_staff", world.ent, "A-1", "1000000.00", "3.85", 400, Collateral.CREDIT)
    repay(a, 50, "200000.00")
    repay(a, 5, "100000.50")
    b = report("bank2_staff", world.ent, "B-1", "500000", "5", 60, Collateral.MORTGAGE)
    loanbook.renew(
        world.user("bank2_staff"),
        b,
        {
            "contract_no": "B-2",
            "on": day(20),
            "maturity_on": (today + timedelta(days=365)).isoformat(),
            "rate": "4.5",
        },
    )
    report("bank_staff", world.ent2, "C-1", "300000", "", 30, "")
    d = report("bank_staff", world.ent2, "D-1", "200000", "4.35", 200, Collateral.GUARANTEE)
    repay(d, 100, "50000")
    loanbook.write_off(world.user("bank_manager"), d, {"on": day(10), "note": "核销"})
    g = report("bank2_staff", world.ent2, "G-1", "100000", "3.1", 300, Collateral.CREDIT)
    repay(g, 60, "100000", user="bank2_staff")
    e = report("bank2_staff", world.ent_js, "E-1", "800000", "3.65", 100, Collateral.PLEDGE)
    loanbook.recall(world.user("bank2_staff"), e, {"on": day(3), "reason": "经营恶化"})
    report("bank_staff", ent3, "F-1", "123456.78", "4.123456", 3, Collateral.CREDIT)
    report("bank_staff", world.ent_js, "H-1", "654321.09", "6.000001", 45, Collateral.CREDIT)

    # Demands: ent's goes to a loan (claimed, offered, disbursed); ent2's stays open.
    demand = make_demand()
    staff = world.user("bank_staff")
    dispatch = dispatch_of(demand, world.bank)
    demand_services.claim_dispatch(staff, dispatch)
    offer = demand_services.make_offer(staff, dispatch, {"amount_wan": 200, "term_months": 12})
    demand_services.accept_offer(world.user("ent_user"), offer)
    demand_services.record_result(
        staff,
        dispatch,
        "disbursed",
        {"amount_wan": 180, "rate": "4.1", "term_months": 12, "disbursed_on": today.isoformat()},
    )
    make_demand(user="ent2_user", amount_wan=50)

    # A member of every enterprise group.
    for ent, kind in (
        (world.ent, QualificationKind.SPECIALISED_SME),
        (world.ent_js, QualificationKind.LITTLE_GIANT),
        (ent3, QualificationKind.TECH_SME),
        (world.ent2, QualificationKind.HIGH_TECH),
    ):
        Qualification.objects.create(
            enterprise=ent, kind=kind, issuer="浙江省科技厅", valid_from=today - timedelta(400)
        )
    for list_type, ent in ((ListType.GREEN, world.ent), (ListType.KEY_ENTERPRISES, world.ent2)):
        lst = EnterpriseList.objects.create(
            list_type=list_type,
            name=f"{list_type}名单",
            agency=world.gov_jiashan,
            region_id=JIASHAN,
        )
        version = ListVersion.objects.create(list=lst, number=1)
        ListEntry.objects.create(version=version, enterprise=ent, change=EntryChange.ADDED)
        ListVersion.objects.filter(pk=version.pk).update(
            status=VersionStatus.PUBLISHED,
            effective_from=today - timedelta(days=30),
            published_at=timezone.now(),
        )
    world.ent_js.chongqing_class = world.ent_js._meta.get_field("chongqing_class").choices[0][0]
    world.ent_js.save(update_fields=["chongqing_class"])
    Project.objects.create(
        owner=ent3,
        name="技改项目",
        kind="tech_upgrade",
        project_class=Project._meta.get_field("project_class").choices[0][0],
        total_investment=Decimal("5000000"),
        region_id=JIASHAN,
    )
    Chain.objects.create(
        name="嘉善装备产业链",
        region_id=JIASHAN,
        lead=world.ent2,
        kept_by=ChainKeeper.AGENCY,
        agency=world.gov_jiashan,
    )
    return SimpleNamespace(today=today, ent3=ent3, ent4=ent4)


def _queries(book, world):
    today = book.today
    queries = [
        dict(),
        dict(start=today - timedelta(days=500), end=today, as_of=today - timedelta(days=45)),
        dict(start=today - timedelta(days=500), end=today - timedelta(days=25), as_of=today),
        dict(start=today - timedelta(days=70), end=today - timedelta(days=40)),
        dict(start=today - timedelta(days=500), end=today, group="credit"),
        dict(start=today - timedelta(days=500), end=today, group="high_tech"),
        dict(start=today - timedelta(days=500), end=today, group="no_loan", as_of=today - timedelta(days=10)),
        dict(start=today - timedelta(days=500), end=today, region=JIASHAN),
    ]  # fmt: skip
    return [groups.clean_query(**q) for q in queries]


def test_every_group_has_a_member_with_loans(world, book):
    """The book reaches every group (else the comparison below proves little)."""
    query = groups.clean_query(
        start=book.today - timedelta(days=500), as_of=book.today - timedelta(days=10)
    )
    split = groups.split(world.user("admin"), query)
    assert {row.key for row in split.rows} == {k for k, _l, _d in groups.group_choices()}
    for row in split.rows:
        assert row.loans, row.key
    assert split.total.demand.dispatches and split.total.demand.claims
    assert split.total.demand.financings == 1


@pytest.mark.parametrize("viewer", VIEWERS)
def test_split_matches_the_rule_it_replaced(world, book, viewer):
    actor = world.user(viewer)
    for query in _queries(book, world):
        split = groups.split(actor, query)
        total, rows = old_split(actor, query)
        assert figures(split.total) == figures(total), (viewer, query)
        assert [figures(r) for r in split.rows] == [figures(r) for r in rows], (viewer, query)
        assert [(r.label, r.definition) for r in split.rows] == [
            (r.label, r.definition) for r in rows
        ]


def test_split_statements_do_not_grow_with_the_book(world, book):
    """Two statements (loans with their repayments, demands with their
    dispatches), the same text whether the book holds ten loans or twenty."""
    actor = world.user("gov_zhejiang")
    query = groups.clean_query(start=book.today - timedelta(days=500))

    def statements():
        with CaptureQueriesContext(connection) as captured:
            groups.split(actor, query)
        return [q["sql"] for q in captured.captured_queries]

    statements()  # the viewer's region, read once and cached
    before = statements()
    # On PostgreSQL the two run with JIT off (SET LOCAL before, and after
    # inside the test's transaction the default back).
    assert [sql.split()[0] for sql in before if not sql.startswith("SET ")] == ["SELECT"] * 2
    for n in range(10):
        ent = _enterprise(f"嘉善扩容样本{n}有限公司", JIASHAN, "C39", 60 + n)
        loan = loanbook.report_loan(
            world.user("bank_staff"),
            {
                "uscc": ent.uscc,
                "contract_no": f"Y-{n}",
                "principal": "100000",
                "rate": "4",
                "collateral": "信用",
                "disbursed_on": (book.today - timedelta(days=5 + n)).isoformat(),
                "maturity_on": (book.today + timedelta(days=300)).isoformat(),
            },
        )
        repayments.record_repayment(
            world.user("bank_staff"),
            loan,
            {"paid_on": (book.today - timedelta(days=1)).isoformat(), "principal": "1000"},
        )
    assert statements() == before
