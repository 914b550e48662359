"""The split by policy group kept as of a day (services.group_sums): for
every kind of viewer (a bank, a county, a province, another province, the
nation, the platform), with and without the page's region and group
filters, the kept figures are those the live split gives for the kept
date, field by field, money to the 分; the page and the 统计分析 panel read
them (数据截至) without a statement to the loan book; other dates, an old
snapshot or one made with other groups are computed live (实时计算); a
government user's refresh request is audited and enqueued once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chanrong.core.models import AuditEntry
from chanrong.risk.models import GroupSplitSnapshot, GroupSplitSum, LoanAccount
from chanrong.risk.services import group_sums, groups, loanbook
from tests.conftest import JIASHAN, SUZHOU_GUSU, _enterprise
from tests.risk.test_groups_split import VIEWERS, book, figures  # noqa: F401

# the book of test_groups_split: every kind of loan, demands, a member of every group
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("book")]

FILTERS = (
    {},
    {"region": JIASHAN},
    {"region": SUZHOU_GUSU},
    {"region": "330000"},
    {"group": "credit"},
    {"group": "high_tech"},
    {"group": "no_loan", "region": JIASHAN},
    {"group": "first_loan", "region": "320000"},
)


def _shown(split) -> tuple:
    return figures(split.total), [figures(row) for row in split.rows]


@pytest.mark.parametrize("viewer", VIEWERS)
def test_kept_figures_are_the_live_figures_of_the_kept_day(world, viewer):
    snapshot = group_sums.refresh()
    assert snapshot.as_of == timezone.localdate()
    actor = world.user(viewer)
    for params in FILTERS:
        shown = group_sums.page_split(actor, params)
        assert not shown.live and shown.as_of == snapshot.as_of, params
        live = groups.split(
            actor,
            groups.clean_query(
                group=params.get("group", ""),
                region=params.get("region", ""),
                start=snapshot.as_of.replace(month=1, day=1),
                end=snapshot.as_of,
                as_of=snapshot.as_of,
            ),
        )
        assert _shown(shown.split) == _shown(live), (viewer, params)
        assert [(r.label, r.definition) for r in shown.split.rows] == [
            (r.label, r.definition) for r in live.rows
        ]


def test_the_book_is_in_the_kept_window(world):
    """Loans and demands of this year reach the default view (else the
    comparison above proves little); the whole book's balances do."""
    group_sums.refresh()
    split = group_sums.page_split(world.user("admin"), {}).split
    assert split.total.balance_loans >= 4 and split.total.demand.dispatches
    assert any(row.balance for row in split.rows if row.key == "credit")


def test_a_bank_reads_only_its_own_rows(world):
    group_sums.refresh()
    bank = group_sums.page_split(world.user("bank_staff"), {}).split
    other = group_sums.page_split(world.user("bank2_staff"), {}).split
    every = group_sums.page_split(world.user("admin"), {}).split
    assert bank.total.balance_loans + other.total.balance_loans == every.total.balance_loans
    assert bank.total.balance + other.total.balance == every.total.balance
    ids = set(GroupSplitSum.objects.values_list("institution_id", flat=True))
    assert ids == {None, world.bank.pk, world.bank2.pk}


def test_other_dates_and_unusable_snapshots_are_computed_live(world):
    actor = world.user("gov_jiashan")
    assert group_sums.page_split(actor, {}).live  # no snapshot yet
    snapshot = group_sums.refresh()
    day = snapshot.as_of
    assert not group_sums.page_split(actor, {"to": day.isoformat()}).live  # the same dates
    earlier = (day - timedelta(days=1)).isoformat()
    for params in ({"as_of": earlier}, {"from": "2020-01-01"}):
        if params.get("as_of") and day.month == 1 and day.day == 1:
            continue
        shown = group_sums.page_split(actor, params)
        assert shown.live and shown.snapshot == snapshot, params
    # made with other groups (a group registered since) or in another year
    GroupSplitSnapshot.objects.filter(pk=snapshot.pk).update(group_keys=["credit"])
    assert group_sums.page_split(actor, {}).live
    GroupSplitSnapshot.objects.filter(pk=snapshot.pk).update(
        group_keys=snapshot.group_keys, as_of=day.replace(year=day.year - 1)
    )
    assert group_sums.page_split(actor, {}).live


def _loan_statements(queries) -> list[str]:
    table = LoanAccount._meta.db_table
    return [q["sql"] for q in queries.captured_queries if table in q["sql"]]


def _get(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return response.content.decode(), queries


@pytest.mark.parametrize("viewer", ["gov_jiashan", "bank_manager"])
def test_the_page_reads_the_kept_sums(world, client, viewer):
    client.force_login(world.user(viewer))
    html, live = _get(client, "/risk/groups/")
    assert 'data-figures="live"' in html and _loan_statements(live)
    snapshot = group_sums.refresh()
    html, kept = _get(client, "/risk/groups/")
    assert f"数据截至 {snapshot.as_of.isoformat()}" in html
    assert _loan_statements(kept) == []
    assert ('data-testid="refresh-group-sums"' in html) == viewer.startswith("gov")
    # a region filter is kept too; other dates are live
    html, _q = _get(client, f"/risk/groups/?region={JIASHAN}&group=credit")
    assert 'data-figures="snapshot"' in html
    html, _q = _get(client, "/risk/groups/?from=2020-01-01")
    assert 'data-figures="live"' in html
    # bad input: 422 with the kept default view, never a 500
    response = client.get("/risk/groups/?as_of=nonsense&region=12")
    assert response.status_code == 422 and 'data-figures="snapshot"' in response.content.decode()


def test_the_dashboard_panel_reads_the_kept_sums(world, client):
    client.force_login(world.user("gov_jiashan"))
    group_sums.refresh()
    html, queries = _get(client, "/insights/")
    assert 'data-testid="group-panel"' in html and 'data-figures="snapshot"' in html
    before = len(_loan_statements(queries))
    for n in range(3):  # a bigger book: no more loan statements
        ent = _enterprise(f"嘉善快照样本{n}有限公司", JIASHAN, "C39", 80 + n)
        loanbook.report_loan(
            world.user("bank_staff"),
            {
                "uscc": ent.uscc,
                "contract_no": f"K-{n}",
                "principal": "100000",
                "rate": "4",
                "collateral": "信用",
                "disbursed_on": timezone.localdate().isoformat(),
                "maturity_on": (timezone.localdate() + timedelta(days=300)).isoformat(),
            },
        )
    _html, again = _get(client, "/insights/")
    assert len(_loan_statements(again)) == before


def test_a_government_user_asks_for_a_refresh(world, client, django_capture_on_commit_callbacks):
    gov = world.user("gov_jiashan")
    client.force_login(gov)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/risk/groups/refresh/?region={JIASHAN}")
    assert response.status_code == 302 and response["Location"] == f"/risk/groups/?region={JIASHAN}"
    snapshot = GroupSplitSnapshot.objects.get()
    assert snapshot.requested_by == gov and snapshot.refresh_pending
    assert snapshot.computed_at is None and len(callbacks) == 1
    entry = AuditEntry.objects.get(action="risk.group_sums.request")
    assert entry.actor_name == "gov_jiashan"
    html = client.get("/risk/groups/").content.decode()
    assert 'data-figures="pending"' in html and 'data-figures="live"' in html
    with django_capture_on_commit_callbacks() as callbacks:
        client.post("/risk/groups/refresh/")
    assert callbacks == []
    assert AuditEntry.objects.filter(action="risk.group_sums.request").count() == 1
    from chanrong.risk.tasks import refresh_group_sums_now

    refresh_group_sums_now.call()
    snapshot.refresh_from_db()
    assert snapshot.computed_at is not None and not snapshot.refresh_pending
    assert 'data-figures="snapshot"' in client.get("/risk/groups/").content.decode()
    # a bank may not ask (403); an enterprise has no such page (404); GET is refused
    client.force_login(world.user("bank_staff"))
    assert client.post("/risk/groups/refresh/").status_code == 403
    client.force_login(world.user("ent_user"))
    assert client.post("/risk/groups/refresh/").status_code == 404
    client.force_login(gov)
    assert client.get("/risk/groups/refresh/").status_code == 405


def test_the_nightly_refresh_is_a_periodic_job():
    from chanrong.core import periodic

    paths = {job.name for job in periodic.jobs()}
    assert "chanrong.risk.tasks.refresh_group_sums" in paths
