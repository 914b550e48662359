"""Statistics by policy group and the 无贷户 list (risk.services.groups):
membership on hand-built rows, one split's figures computed by hand, bank
scoping, the list and its audited export, the 首贷培育 push, the API's
errors by field, and the 担保方式 of platform loans."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chanrong.accounts.services import create_token
from chanrong.core.models import AuditEntry, Notification
from chanrong.insights import groups as policy_groups
from chanrong.registry.models import Qualification, QualificationKind
from chanrong.risk.models import Collateral
from chanrong.risk.services import collateral, groups, loanbook, repayments
from tests.conftest import JIASHAN, _enterprise

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(world):
    """ent: a credit loan 700 days ago (its first: 100 万 at 4%, 20 万 repaid)
    at bank and a mortgage loan 50 days ago at bank2 (50 万 at 5%); ent2: a
    credit loan 30 days ago at bank (30 万 at 3%), its first, and 高新技术企业;
    ent3 in 嘉善 has no loan (无贷户)."""
    today = timezone.localdate()

    def report(user, ent, no, principal, rate, days_ago, kind):
        return loanbook.report_loan(
            world.user(user),
            {
                "uscc": ent.uscc,
                "contract_no": no,
                "principal": principal,
                "rate": rate,
                "collateral": kind,
                "disbursed_on": (today - timedelta(days=days_ago)).isoformat(),
                "maturity_on": (today + timedelta(days=300)).isoformat(),
            },
        )

    a = report("bank_staff", world.ent, "A-1", "1000000", "4", 700, "信用")
    repayments.record_repayment(
        world.user("bank_staff"),
        a,
        {"paid_on": (today - timedelta(days=10)).isoformat(), "principal": "200000"},
    )
    b = report("bank2_staff", world.ent, "B-1", "500000", "5", 50, "mortgage")
    c = report("bank_staff", world.ent2, "C-1", "300000", "3", 30, "credit")
    Qualification.objects.create(
        enterprise=world.ent2,
        kind=QualificationKind.HIGH_TECH,
        issuer="浙江省科技厅",
        valid_from=today - timedelta(days=400),
    )
    ent3 = _enterprise("嘉善无贷示范有限公司", JIASHAN, "C39", 9)
    return SimpleNamespace(a=a, b=b, c=c, ent3=ent3, today=today)


def _query(book, **kw):
    return groups.clean_query(
        start=book.today - timedelta(days=100), end=book.today, as_of=book.today, **kw
    )


def test_group_membership_on_hand_built_rows(world, book):
    day = book.today
    first = groups.first_loans(groups.LoanAccount.objects.all())
    assert set(first.values_list("contract_no", flat=True)) == {"A-1", "C-1"}
    assert set(groups.credit_loans(groups.LoanAccount.objects.all())) == {book.a, book.c}
    assert set(groups.secured_loans(groups.LoanAccount.objects.all())) == {book.b}
    assert set(policy_groups.members("high_tech", day)) == {world.ent2}
    no_loan = set(policy_groups.members("no_loan", day))
    assert book.ent3 in no_loan and world.ent_js in no_loan
    assert world.ent not in no_loan and world.ent2 not in no_loan
    # Before ent2's first loan it was a 无贷户 too.
    assert world.ent2 in set(policy_groups.members("no_loan", day - timedelta(days=31)))


def test_split_figures_by_hand(world, book):
    split = groups.split(world.user("gov_jiashan"), _query(book))
    rows = {row.key: row for row in split.rows}
    total = split.total
    # B and C in the period: 80 万; balances 80 + 50 + 30 万; (50×5 + 30×3) / 80 = 4.25%.
    assert (total.loans, total.amount) == (2, Decimal("800000"))
    assert (total.balance, total.balance_loans) == (Decimal("1600000"), 3)
    assert total.avg_rate == Decimal("4.2500")
    first = rows["first_loan"]
    assert (first.loans, first.amount, first.balance) == (1, Decimal("300000"), Decimal("1100000"))
    assert first.avg_rate == Decimal("3.0000")
    assert (rows["secured"].loans, rows["secured"].balance) == (1, Decimal("500000"))
    assert rows["credit"].balance == Decimal("1100000")
    assert (rows["high_tech"].loans, rows["high_tech"].amount) == (1, Decimal("300000"))
    assert rows["no_loan"].balance == 0
    # The balance at a past day comes from the history: before the repayment and before B, C.
    past = groups.split(
        world.user("gov_jiashan"),
        groups.clean_query(as_of=book.today - timedelta(days=60), group="credit"),
    )
    assert past.rows[0].balance == Decimal("1000000")


def test_split_sends_no_list_of_enterprise_ids(world, book):
    """The groups' members are asked for among the book's enterprises by
    subquery: the statements are the same text whether the book holds three
    enterprises or eight (a bank's book at scale 10 holds ~3,000, and ten
    groups each with a 3,000-id IN list cost seconds per page)."""
    actor, query = world.user("gov_jiashan"), _query(book)

    def statements():
        with CaptureQueriesContext(connection) as captured:
            groups.split(actor, query)
        return [q["sql"] for q in captured.captured_queries]

    statements()  # the first split reads and caches the viewer's region
    before = statements()
    for n in range(5):
        ent = _enterprise(f"嘉善扩展样本{n}有限公司", JIASHAN, "C39", 40 + n)
        loanbook.report_loan(
            world.user("bank_staff"),
            {
                "uscc": ent.uscc,
                "contract_no": f"X-{n}",
                "principal": "100000",
                "rate": "4",
                "collateral": "信用",
                "disbursed_on": (book.today - timedelta(days=5)).isoformat(),
                "maturity_on": (book.today + timedelta(days=300)).isoformat(),
            },
        )
    after = statements()
    assert groups.split(actor, query).total.loans == 7
    assert after == before


def test_a_bank_sees_only_its_own_loans(world, book):
    split = groups.split(world.user("bank_staff"), _query(book))
    assert split.total.balance == Decimal("1100000")
    assert {row.key: row.loans for row in split.rows}["secured"] == 0
    assert groups.split(world.user("bank2_staff"), _query(book)).total.balance == Decimal("500000")


def test_no_loan_list_page_export_and_push(world, book):
    client = Client()
    client.force_login(world.user("gov_jiashan"))
    page = client.get("/risk/no-loan/")
    assert page.status_code == 200
    assert list(page.context["enterprises"]) == [book.ent3]
    assert client.get("/risk/no-loan/?size=huge").status_code == 422
    response = client.get("/exports/risk_no_loan/?industry=C")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    entry = AuditEntry.objects.filter(object_id="risk_no_loan").latest("pk")
    assert entry.changes["rows"] == 1 and entry.actor_id == world.user("gov_jiashan").pk
    # The institution is a picker: an unknown id, a typed name or nothing is
    # refused beside the control and nothing is sent.
    assert b'data-picker="institutions"' in page.content
    for value, message in (
        ("999999", "不在您的管辖范围内"),
        ("某银行", "请从列表中选择"),
        ("", ""),
    ):
        refused = client.post("/risk/no-loan/send/?industry=C", {"institution": value})
        assert refused.status_code == 422
        assert message in refused.content.decode()
        assert 'id="n-institution_error"' in refused.content.decode()
    assert not AuditEntry.objects.filter(action="risk.no_loan.send").exists()
    assert not Notification.objects.filter(recipient=world.user("bank_staff")).exists()
    sent = client.post("/risk/no-loan/send/?industry=C", {"institution": world.bank.pk})
    assert sent.status_code == 302
    assert Notification.objects.filter(recipient=world.user("bank_staff")).exists()
    assert AuditEntry.objects.filter(action="risk.no_loan.send").count() == 1
    # A bank may not push; the page is not an enterprise's.
    bank = Client()
    bank.force_login(world.user("bank_staff"))
    assert bank.post("/risk/no-loan/send/", {"institution": world.bank.pk}).status_code == 403
    ent = Client()
    ent.force_login(world.user("ent_user"))
    assert ent.get("/risk/groups/").status_code == 404
    # The split page, and its panel on the 统计分析 page (insights).
    groups_page = client.get("/risk/groups/?group=credit")
    assert [row.key for row in groups_page.context["split"].rows] == ["credit"]
    assert b'data-testid="group-panel"' in client.get("/insights/").content


def test_api_split_and_errors_by_field(world, book):
    headers = {"Authorization": f"Bearer {create_token(None, world.user('gov_jiashan'), 't').raw}"}
    client = Client()
    ok = client.get("/api/v1/stats/groups", {"group": "secured"}, headers=headers)
    assert ok.status_code == 200
    assert [row["key"] for row in ok.json()["rows"]] == ["secured"]
    bad = client.get(
        "/api/v1/stats/groups",
        {"from": "yesterday", "as_of": "2999-01-01", "group": "nope", "region": "999999"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"from", "as_of", "group", "region"}
    listed = client.get("/api/v1/stats/no-loan", {"page_size": 1}, headers=headers)
    assert listed.status_code == 200
    assert listed.json()["results"][0]["uscc"] == book.ent3.uscc
    wrong = client.get("/api/v1/stats/no-loan", {"size": "huge"}, headers=headers)
    assert [e["field"] for e in wrong.json()["errors"]] == ["size"]
    bank_headers = {
        "Authorization": f"Bearer {create_token(None, world.user('bank_staff'), 't').raw}"
    }
    outreach = client.get("/api/v1/institutions/me/outreach?group=nope", headers=bank_headers)
    assert [e["field"] for e in outreach.json()["errors"]] == ["group"]
    assert (
        client.get(
            "/api/v1/institutions/me/outreach?group=no_loan", headers=bank_headers
        ).status_code
        == 200
    )
    ent_headers = {"Authorization": f"Bearer {create_token(None, world.user('ent_user'), 't').raw}"}
    assert client.get("/api/v1/stats/groups", headers=ent_headers).status_code == 404


def test_collateral_of_a_platform_loan_and_a_report():
    def demand(kind, required=False, guarantees=(), offered=()):
        product = SimpleNamespace(
            kind=kind, collateral_required=required, guarantee_options=list(guarantees)
        )
        return SimpleNamespace(
            accepted_offer=SimpleNamespace(product=product), collateral_offered=list(offered)
        )

    assert collateral.collateral_of_demand(demand("tax")) == Collateral.CREDIT
    assert collateral.collateral_of_demand(demand("mortgage")) == Collateral.MORTGAGE
    assert collateral.collateral_of_demand(demand("tech", True, (), ["ip"])) == Collateral.PLEDGE
    assert collateral.collateral_of_demand(demand("tech", True, (), ["ip", "real_estate"])) == (
        Collateral.MORTGAGE
    )
    assert collateral.collateral_of_demand(demand("order", False, ["corporate"])) == (
        Collateral.GUARANTEE
    )
    assert collateral.collateral_of_demand(demand("green")) == Collateral.CREDIT
    assert collateral.collateral_of_demand(SimpleNamespace(accepted_offer=None)) == ""


def test_a_bank_reports_collateral_on_its_loan(world, book):
    client = Client()
    client.force_login(world.user("bank_staff"))
    assert (
        client.post(f"/risk/loans/{book.c.pk}/collateral/", {"collateral": "x"}).status_code == 422
    )
    assert (
        client.post(f"/risk/loans/{book.c.pk}/collateral/", {"collateral": "pledge"}).status_code
        == 302
    )
    book.c.refresh_from_db()
    assert book.c.collateral == Collateral.PLEDGE
    assert AuditEntry.objects.filter(action="risk.loan.collateral").count() == 1
    # Another bank's loan is not visible to it.
    assert (
        client.post(f"/risk/loans/{book.b.pk}/collateral/", {"collateral": "credit"}).status_code
        == 404
    )
