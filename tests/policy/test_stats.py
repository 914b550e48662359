"""Statistics of the programmes (services.stats, /policy/stats/) and the
indicator system's 财政支持 figures computed from the policy tables
(policy.sources through insights): each equals the sum of the policy rows
for the region and period asked, and nothing outside them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.test import Client
from openpyxl import load_workbook

from chanrong.core.errors import NotFound, ValidationFailed
from chanrong.core.models import AuditEntry, Region
from chanrong.insights.models import IndicatorDefinition
from chanrong.insights.services import indicator_value
from chanrong.insights.sources import get_source
from chanrong.policy import services, sources
from chanrong.policy.models import Application, ApplicationState, BridgeDraw, LossClaim
from chanrong.policy.services import stats

from .conftest import make_loan, make_programme
from .poolkit import make_bridge, make_riskpool

pytestmark = pytest.mark.django_db

YEAR = (date(2026, 1, 1), date(2026, 12, 31))
PERIOD = {"period_start": "2026-01-10", "period_end": "2026-06-30"}
GUARANTEE = {
    "method": "share",
    "share": "50",
    "fee_rate_ceiling": "1",
    "day_count": "act360",
}


def _paid(pw, programme, loan, user, paid_cost, voucher, paid_on):
    app = services.apply(pw.user(user), programme, {**PERIOD, "paid_cost": paid_cost}, loan=loan)
    app = services.verify(pw.user("gov_jiashan"), app)
    app = services.approve(pw.user("fin_admin"), app, today=date(2026, 7, 6))
    services.close_notices(today=date(2026, 8, 1))
    app.refresh_from_db()
    return services.pay(pw.user("fin_staff"), app, voucher, paid_on)


@pytest.fixture
def figures(policy_world):
    """Two 贴息 payments (嘉善农商行, 工商银行), a rejection, a guarantee-fee
    subsidy still in 公示, a bridge draw repaid and a loss compensated."""
    pw = policy_world
    world = pw.world
    interest = make_programme(pw, requires_bank_confirmation=False)
    first = _paid(pw, interest, make_loan(pw), "ent_user", "90000", "GK-2026-0001", "2026-08-02")
    second = _paid(
        pw,
        interest,
        make_loan(
            pw, world.ent2, no="JS-2026-002", institution=world.bank2, principal=Decimal("2000000")
        ),
        "ent2_user",
        "40000",
        "GK-2026-0002",
        "2026-09-15",
    )
    refused = services.apply(
        pw.user("ent_user"),
        interest,
        {**PERIOD, "paid_cost": "10000"},
        loan=make_loan(pw, no="JS-2026-003", principal=Decimal("800000")),
    )
    services.reject(pw.user("gov_jiashan"), refused, "材料不全")
    fee = make_programme(
        pw,
        "guarantee_fee",
        GUARANTEE,
        name="嘉善县融资担保费补贴",
        requires_bank_confirmation=False,
    )
    guaranteed = make_loan(
        pw,
        world.ent2,
        no="JS-2026-004",
        guarantor=world.bank2,
        guarantee_fee_rate=Decimal("0.8"),
        confirmed_at="2026-01-10T10:00:00+08:00",
        principal=Decimal("3000000"),
    )
    make_loan(
        pw,
        no="JS-2026-005",
        guarantor=world.bank2,
        guarantee_fee_rate=Decimal("1.2"),
        confirmed_at="2026-02-10T10:00:00+08:00",
        principal=Decimal("1000000"),
        loan_date=date(2026, 2, 10),
    )
    in_notice = services.apply(
        pw.user("ent2_user"), fee, {**PERIOD, "paid_cost": "11000"}, loan=guaranteed
    )
    services.verify(pw.user("fin_staff"), in_notice)
    in_notice = services.approve(pw.user("fin_admin"), in_notice, today=date(2026, 7, 20))
    # 转贷应急: asked, approved, drawn, repaid.
    fund = make_bridge(pw, on=date(2026, 1, 5))
    maturing = make_loan(
        pw,
        no="JS-2025-010",
        loan_date=date(2025, 9, 10),
        maturity_date=date(2026, 9, 10),
        principal=Decimal("2000000"),
        confirmed_at="2025-09-10T10:00:00+08:00",
    )
    draw = services.request_draw(
        pw.user("bank_staff"),
        fund,
        maturing,
        {"amount": "2000000", "commitment_no": "XD-1"},
        today=date(2026, 9, 5),
    )
    draw = services.approve_draw(pw.user("fin_admin"), draw)
    draw = services.draw_funds(
        pw.user("fin_admin"), draw, drawn_on="2026-09-10", today=date(2026, 9, 10)
    )
    renewed = make_loan(
        pw,
        no="JS-2026-011",
        loan_date=date(2026, 9, 14),
        maturity_date=date(2027, 9, 14),
        principal=Decimal("2000000"),
        confirmed_at="2026-09-14T10:00:00+08:00",
    )
    services.repay_draw(
        pw.user("fin_admin"), draw, renewed, repaid_on="2026-09-14", today=date(2026, 9, 14)
    )
    # 风险补偿: registered, loss claimed, compensated.
    pool = make_riskpool(pw, capital="1000000", on=date(2026, 1, 5))
    risky = make_loan(pw, world.ent2, no="JS-2026-020", confirmed_at="2026-01-10T10:00:00+08:00")
    registration = services.register_in_pool(
        pw.user("bank_staff"), pool, risky, today=date(2026, 2, 1)
    )
    claim = services.file_claim(
        pw.user("bank_staff"), registration, {"loss": "300000"}, today=date(2026, 10, 8)
    )
    claim = services.pay_claim(
        pw.user("fin_admin"), claim, paid_on="2026-10-20", today=date(2026, 10, 20)
    )
    return {
        "pw": pw,
        "interest": interest,
        "fee": fee,
        "paid": [first, second],
        "refused": refused,
        "in_notice": in_notice,
        "draw": BridgeDraw.objects.get(pk=draw.pk),
        "claim": LossClaim.objects.get(pk=claim.pk),
    }


def _sum(values) -> Decimal:
    return sum(values, Decimal(0))


def test_totals_by_programme_equal_the_rows(figures):
    pw = figures["pw"]
    result = stats.summarise(pw.user("fin_admin"), stats.Filters(*YEAR))
    paid = figures["paid"]
    by_key = {r.key: r for r in result.rows}
    interest = by_key[str(figures["interest"].pk)]
    assert interest.paid_count == 2
    assert interest.paid_amount == _sum(a.amount for a in paid)
    assert interest.filed == 3  # the rejected one was filed too
    fee = by_key[str(figures["fee"].pk)]
    assert (fee.committed_count, fee.committed_amount) == (1, figures["in_notice"].amount)
    assert fee.paid_amount == 0
    bridge = [r for r in result.rows if r.bridge_count]
    assert len(bridge) == 1 and bridge[0].bridge_amount == Decimal("2000000")
    compensation = [r for r in result.rows if r.compensation_count]
    assert compensation[0].compensation_amount == figures["claim"].compensation == Decimal("150000")
    total = result.total
    assert total.paid_amount == _sum(r.paid_amount for r in result.rows)
    assert total.support == total.paid_amount + Decimal("150000")
    # Months: paid in August and September, compensation in October, the draw in September.
    months = {p.label: p for p in result.months}
    assert months["2026-08"].paid == paid[0].amount
    assert months["2026-09"].paid == paid[1].amount
    assert months["2026-09"].bridge == Decimal("2000000")
    assert months["2026-10"].compensation == Decimal("150000")
    assert [p.label for p in result.years] == ["2026"]


@pytest.mark.parametrize("group_by", list(stats.GROUPS))
def test_every_grouping_adds_up_to_the_same_total(figures, group_by):
    pw = figures["pw"]
    whole = stats.summarise(pw.user("fin_admin"), stats.Filters(*YEAR)).total
    result = stats.summarise(pw.user("fin_admin"), stats.Filters(*YEAR, group_by))
    for name in (
        "filed",
        "paid_amount",
        "committed_amount",
        "bridge_amount",
        "compensation_amount",
    ):
        assert getattr(result.total, name) == getattr(whole, name), (group_by, name)
    assert all(r.label for r in result.rows)


def test_groups_by_bank_size_and_industry(figures):
    pw = figures["pw"]
    world = pw.world
    first, second = figures["paid"]
    banks = {
        r.key: r for r in stats.summarise(pw.user("fin_admin"), stats.Filters(*YEAR, "bank")).rows
    }
    assert banks[str(world.bank2.pk)].paid_amount == second.amount
    assert banks[str(world.bank.pk)].paid_amount == first.amount
    assert banks[str(world.bank.pk)].bridge_amount == Decimal("2000000")
    assert banks[str(world.bank.pk)].label == "嘉善农商行"
    sections = stats.summarise(pw.user("fin_admin"), stats.Filters(*YEAR, "industry")).rows
    assert [r.key for r in sections] == ["C"]  # both enterprises are manufacturers (C34, C26)
    assert sections[0].label.startswith("C ")
    regions = stats.summarise(pw.user("gov_zhejiang"), stats.Filters(*YEAR, "region")).rows
    assert [r.label for r in regions] == ["嘉兴市"]


def test_scope_follows_the_viewer(figures):
    pw = figures["pw"]
    mine = stats.summarise(pw.user("gov_jiashan"), stats.Filters(*YEAR)).total
    assert mine.paid_count == 2
    everything = stats.summarise(pw.user("admin"), stats.Filters(*YEAR)).total
    assert everything.paid_amount == mine.paid_amount
    elsewhere = stats.summarise(pw.user("gov_jiangsu"), stats.Filters(*YEAR))
    assert elsewhere.rows == [] and elsewhere.total.empty
    for name in ("ent_user", "bank_staff"):
        with pytest.raises(NotFound):
            stats.summarise(pw.user(name), stats.Filters(*YEAR))
    # Another period: nothing paid in 2025.
    assert stats.summarise(
        pw.user("admin"), stats.Filters(date(2025, 1, 1), date(2025, 12, 31))
    ).total.empty


def test_filters_are_checked_by_field():
    with pytest.raises(ValidationFailed) as exc:
        stats.parse_filters(
            {"start": "2026-13-01", "end": "2020-01-01", "group_by": "x", "kind": "y"}
        )
    fields = {e.field for e in exc.value.errors}
    assert fields == {"start", "group_by", "kind"}
    with pytest.raises(ValidationFailed) as exc:
        stats.parse_filters({"start": "2026-05-01", "end": "2026-01-01"})
    assert [e.field for e in exc.value.errors] == ["end"]
    parsed = stats.parse_filters({"start": "2026-01-01", "end": "2026-06-30", "group_by": "size"})
    assert (parsed.start, parsed.end, parsed.group_by, parsed.kind) == (
        date(2026, 1, 1),
        date(2026, 6, 30),
        "size",
        "",
    )


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_page_with_charts_and_a_table(figures):
    pw = figures["pw"]
    response = _client(pw.user("fin_admin")).get(
        "/policy/stats/", {"start": "2026-01-01", "end": "2026-12-31", "group_by": "programme"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-chart="policy-month-chart"' in html and 'id="policy-month-chart"' in html
    assert "vendor/echarts/echarts.min.js" in html and "cdn" not in html.lower()
    assert figures["interest"].name in html
    assert 'data-testid="stats-table"' in html


def test_bad_filters_are_shown_by_field_never_a_500(figures):
    pw = figures["pw"]
    response = _client(pw.user("fin_admin")).get(
        "/policy/stats/", {"start": "yesterday", "end": "2026-01-01", "group_by": "nope"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "日期格式应为 YYYY-MM-DD" in html and "未知的分组方式" in html
    assert (
        _client(pw.user("fin_admin")).get("/policy/stats/export/", {"start": "x"}).status_code
        == 404
    )


def test_only_government_and_platform_see_the_page(figures):
    pw = figures["pw"]
    for name in ("ent_user", "bank_staff"):
        assert _client(pw.user(name)).get("/policy/stats/").status_code == 404
        assert _client(pw.user(name)).get("/policy/stats/export/").status_code == 404
    assert Client().get("/policy/stats/").status_code == 302  # to the login page
    assert _client(pw.user("admin")).get("/policy/stats/").status_code == 200


def test_export_is_the_table_and_is_audited(figures):
    pw = figures["pw"]
    before = AuditEntry.objects.filter(action="policy.stats.export").count()
    response = _client(pw.user("fin_admin")).get(
        "/policy/stats/export/", {"start": "2026-01-01", "end": "2026-12-31", "group_by": "kind"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "政策类型" and rows[0][3] == "拨付金额（元）"
    by_label = {r[0]: r for r in rows[1:] if r and r[0]}
    paid = _sum(a.amount for a in figures["paid"])
    assert Decimal(str(by_label["贷款贴息"][3])) == paid
    assert Decimal(str(by_label["合计"][3])) == paid
    entry = AuditEntry.objects.filter(action="policy.stats.export").order_by("-pk").first()
    assert AuditEntry.objects.filter(action="policy.stats.export").count() == before + 1
    assert entry.actor_name == "fin_admin" and entry.changes["group_by"] == "kind"


# --- the indicator system's computed figures --------------------------------------------


def test_sources_equal_the_policy_rows_for_region_and_period(figures):
    paid = figures["paid"]
    interest = _sum(a.amount for a in paid)
    assert interest == _sum(
        Application.objects.filter(
            state=ApplicationState.PAID, programme__kind="interest", paid_on__range=YEAR
        ).values_list("amount", flat=True)
    )
    assert sources.interest_subsidy("330421", *YEAR) == interest
    assert sources.interest_subsidy("33", *YEAR) == interest
    assert sources.interest_subsidy("", None, date(2026, 12, 31)) == interest
    assert sources.interest_subsidy("3205", *YEAR) == 0  # 苏州: none of it
    # Only what was paid in the period: August's payment, not September's.
    assert sources.interest_subsidy("330421", date(2026, 8, 1), date(2026, 8, 31)) == paid[0].amount
    assert sources.risk_compensation("330421", *YEAR) == Decimal("150000.00")
    assert sources.risk_compensation("330421", date(2026, 1, 1), date(2026, 10, 19)) == 0
    assert sources.bridge_amount("330421", *YEAR) == Decimal("2000000.00")
    assert sources.bridge_count("330421", *YEAR) == 1
    assert sources.bridge_count("330421", date(2026, 9, 11), date(2026, 12, 31)) == 0
    # 担保费率: loans guaranteed in the period, weighted by amount:
    # (3,000,000 × 0.8 + 1,000,000 × 1.2) ÷ 4,000,000 = 0.9 %
    assert sources.guarantee_fee_rate("330421", *YEAR) == Decimal("0.9000")
    assert sources.guarantee_fee_rate("330421", date(2026, 2, 1), date(2026, 12, 31)) == Decimal(
        "1.2000"
    )
    assert sources.guarantee_fee_rate("3205", *YEAR) is None


def test_indicators_are_computed_from_the_policy_app(figures):
    paid = _sum(a.amount for a in figures["paid"])
    jiashan = Region.objects.get(code="330421")
    expected = {
        "interest-subsidy": paid / Decimal(100_000_000),
        "risk-compensation": Decimal("150000") / Decimal(100_000_000),
        "bridge-fund-amount": Decimal("2000000") / Decimal(100_000_000),
        "bridge-fund-count": Decimal(1),
        "average-guarantee-fee-rate": Decimal("0.9"),
    }
    for code, value in expected.items():
        definition = IndicatorDefinition.objects.get(code=code)
        assert definition.category == "财政支持"
        assert get_source(definition.source) is not None, code
        actual = indicator_value(definition, jiashan, *YEAR)
        assert actual.computed, code
        assert actual.value == value, code


def test_catalogue_keeps_the_32_and_adds_three(figures):
    from chanrong.insights import catalogue

    assert len(catalogue.STANDARD) == 32
    names = {e.code: e.name for e in catalogue.STANDARD}
    assert names["interest-subsidy"] == "贷款贴息资金（亿元）"
    assert names["risk-compensation"] == "风险补偿资金（亿元）"
    assert IndicatorDefinition.objects.count() == 32 + len(catalogue.PLATFORM)
    pw = figures["pw"]
    html = _client(pw.user("gov_jiashan")).get("/insights/indicators/").content.decode()
    for name in (
        "贷款贴息资金（亿元）",
        "转贷应急资金（亿元）",
        "转贷应急笔数（笔）",
        "平均担保费率（%）",
    ):
        assert name in html
