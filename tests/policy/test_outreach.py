"""政策找人 / 免申即享: the set-based search equals `services.evaluate` run one
enterprise and one loan at a time, on a varied registry; notifying happens
once per programme and enterprise; 免申即享 builds applications the
enterprise confirms; the agency's page, its export, the command and the
daily job."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from chanrong.accounts.models import Role
from chanrong.core.errors import Conflict, NotAllowed
from chanrong.core.models import AuditEntry, Notification
from chanrong.core.templatetags.chanrong_ui import wan
from chanrong.demands.models import Demand, DemandState
from chanrong.finance.models import FinancialInstitution, InstitutionKind
from chanrong.policy import services
from chanrong.policy.models import (
    Application,
    ApplicationState,
    Loan,
    LoanSource,
    OutreachNotice,
)
from chanrong.policy.services import outreach
from chanrong.policy.services.applications import Claim, held_amounts
from chanrong.policy.services.loans import add_months
from chanrong.registry.models import (
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListSector,
    ListType,
    ListVersion,
    Project,
    Qualification,
    VersionStatus,
)
from tests.conftest import JIASHAN, _enterprise, _user

from .conftest import make_loan, make_programme

pytestmark = pytest.mark.django_db

DAY = date(2026, 7, 15)
SIZES = ("large", "medium", "small", "micro", "")
GRADES = ("A", "B", "M", "C", "D", "")
CLASSES = ("", "", "market", "strategic", "specialised")
PROJECT_CLASSES = ("integration", "upgrading", "going_global", "made_in_china_2025", "")
QUALIFICATIONS = ("high_tech", "tech_sme", "specialised_sme", "listing_reserve")
INDUSTRIES = ("C34", "C26", "C39", "C13", "C30")
PURPOSES = ("购置生产设备", "技改项目建设", "补充流动资金", "原材料采购", "厂房扩建（技改）")
#: 嘉善 mostly; 海盐 and 苏州 are outside the programme's region.
REGIONS = (JIASHAN,) * 8 + ("330424", "320508")
#: Dates that end months of different lengths, for terms computed from a demand.
EDGE_DAYS = (date(2025, 12, 31), date(2026, 1, 31), date(2025, 8, 31), date(2026, 3, 30))

ELIGIBILITIES = {
    "open": {},
    "registry": {
        "sizes": ["small", "micro", "medium"],
        "min_tax_grade": "B",
        "lists": ["white_list"],
        "qualifications": ["high_tech"],
    },
    "classes_and_loan": {
        "chongqing_classes": ["market", "strategic"],
        "project_classes": ["integration", "upgrading"],
        "loan_kinds": ["debt"],
        "term_min_months": 6,
        "term_max_months": 24,
        "amount_min": "500000",
        "amount_max": "12000000",
        "loan_date_from": "2025-06-01",
    },
    "words_and_lists": {
        "purpose_keywords": ["技改", "设备"],
        "industries_in": ["C3"],
        "industries_out": ["C39"],
        "lists": ["manufacturing_white_list"],
        "regions": [JIASHAN],
    },
    "short_terms": {"term_max_months": 1, "min_tax_grade": "M", "lists": ["red_list"]},
    "blacklist_allowed": {"exclude_blacklisted": False, "sizes": ["micro", "small"]},
}


def _version(lst, number, start, until, status=VersionStatus.PUBLISHED):
    return ListVersion.objects.create(
        list=lst,
        number=number,
        status=status,
        effective_from=start if status == VersionStatus.PUBLISHED else None,
        effective_until=until,
    )


def build_registry(pw, rng: random.Random, n: int = 90) -> list:
    """Enterprises of every shape, their qualifications, list memberships
    (in force, expired, not yet, removed, draft, through a project), projects,
    policy loans, disbursed demands and applications."""
    world = pw.world
    bank = world.bank
    other_bank = FinancialInstitution.objects.create(
        name="嘉善测试银行", short_name="测试行", kind=InstitutionKind.BANK, region_id=JIASHAN
    )
    enterprises = [world.ent, world.ent2, world.ent_js]
    for i in range(n):
        e = _enterprise(
            f"测试企业{i:03d}有限公司", rng.choice(REGIONS), rng.choice(INDUSTRIES), 100 + i
        )
        enterprises.append(e)
    for e in enterprises:
        e.size = rng.choice(SIZES)
        e.tax_grade = rng.choice(GRADES)
        e.chongqing_class = rng.choice(CLASSES)
        e.save(update_fields=["size", "tax_grade", "chongqing_class"])
    # world.ent qualifies for the open programme through a loan of its own.
    world.ent.size, world.ent.tax_grade = "small", "A"
    world.ent.save(update_fields=["size", "tax_grade"])

    for e in enterprises:
        for kind in rng.sample(QUALIFICATIONS, rng.randint(0, 3)):
            shape = rng.choice(("active", "active", "expired", "future", "open"))
            start, until = {
                "active": (date(2024, 1, 1), date(2027, 1, 1)),
                "open": (date(2023, 5, 1), None),
                "expired": (date(2022, 1, 1), DAY - timedelta(days=1)),
                "future": (DAY + timedelta(days=1), None),
            }[shape]
            Qualification.objects.create(
                enterprise=e, kind=kind, issuer="测试", valid_from=start, valid_until=until
            )

    projects = {}
    for e in enterprises:
        if rng.random() < 0.5:
            projects[e.pk] = [
                Project.objects.create(
                    owner=e,
                    name=f"项目{e.pk}-{j}",
                    kind="tech_upgrade",
                    project_class=rng.choice(PROJECT_CLASSES),
                    total_investment=Decimal("10000000"),
                    stage="construction",
                    region_id=e.region_id,
                )
                for j in range(rng.randint(1, 2))
            ]

    agency = world.gov_jiashan
    lists = [
        EnterpriseList.objects.create(
            list_type=ListType.KEY_ENTERPRISES, name="白名单", agency=agency, region_id=JIASHAN
        ),
        EnterpriseList.objects.create(
            list_type=ListType.KEY_ENTERPRISES,
            sector=ListSector.MANUFACTURING,
            name="制造业白名单",
            agency=agency,
            region_id=JIASHAN,
        ),
        EnterpriseList.objects.create(
            list_type=ListType.RED, name="红名单", agency=agency, region_id=JIASHAN
        ),
        EnterpriseList.objects.create(
            list_type=ListType.BLACK, name="黑名单", agency=agency, region_id=JIASHAN
        ),
        EnterpriseList.objects.create(
            list_type=ListType.GREEN, name="绿色库", agency=agency, region_id=JIASHAN
        ),
    ]
    for lst in lists:
        old = _version(lst, 1, date(2025, 1, 1), date(2026, 3, 31))
        current = _version(lst, 2, date(2026, 4, 1), None)
        later = _version(lst, 3, DAY + timedelta(days=10), None)
        draft = _version(lst, 4, None, None, status=VersionStatus.DRAFT)
        rows = []  # written as the registry's importer does, past the frozen-version check
        for e in enterprises:
            for version, share in ((old, 0.3), (current, 0.3), (later, 0.2), (draft, 0.2)):
                if rng.random() < share:
                    change = EntryChange.REMOVED if rng.random() < 0.15 else EntryChange.ADDED
                    rows.append(ListEntry(version=version, enterprise=e, change=change))
            owned = projects.get(e.pk)
            if owned and rng.random() < 0.3:
                # Through a project only: not the enterprise's own membership.
                rows.append(
                    ListEntry(
                        version=current, enterprise=e, project=owned[0], change=EntryChange.ADDED
                    )
                )
        ListEntry.objects.bulk_create(rows)

    serial = 0
    for e in enterprises:
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            serial += 1
            start = (
                rng.choice(EDGE_DAYS)
                if rng.random() < 0.2
                else date(2024, 6, 1) + timedelta(days=rng.randint(0, 760))
            )
            months = rng.choice((1, 2, 3, 6, 12, 13, 24, 36, 60))
            owned = projects.get(e.pk)
            Loan.objects.create(
                enterprise=e,
                institution=rng.choice((bank, other_bank)),
                source=rng.choice((LoanSource.OFF_PLATFORM, LoanSource.PLATFORM)),
                contract_no=f"T-{serial:04d}",
                principal=Decimal(rng.choice((200_000, 800_000, 3_000_000, 15_000_000))),
                rate=Decimal(rng.choice(("3.45", "4.10", "2.80"))),
                loan_date=start,
                maturity_date=add_months(start, months) + timedelta(days=rng.choice((0, 0, 3))),
                kind=rng.choice(("debt", "debt", "debt", "leasing")),
                purpose=rng.choice(PURPOSES),
                project=rng.choice(owned) if owned and rng.random() < 0.6 else None,
                guarantee_fee_rate=rng.choice((None, Decimal("0.8"), Decimal("1.5"))),
            )
        for _ in range(rng.choice((0, 1, 1, 2))):
            start = (
                rng.choice(EDGE_DAYS)
                if rng.random() < 0.3
                else date(2024, 9, 1) + timedelta(days=rng.randint(0, 680))
            )
            owned = projects.get(e.pk)
            state = rng.choice((DemandState.DISBURSED,) * 5 + (DemandState.PUBLISHED,))
            Demand.objects.create(
                enterprise=e,
                kind=rng.choice(("debt", "debt", "equity")),
                amount=Decimal("5000000"),
                term_months=rng.choice((1, 6, 12, 25, 36)),
                purpose=rng.choice(PURPOSES),
                project=rng.choice(owned) if owned and rng.random() < 0.6 else None,
                state=state,
                outcome_institution=bank if rng.random() < 0.9 else None,
                disbursed_amount=Decimal(rng.choice((300_000, 1_000_000, 9_000_000))),
                disbursed_rate=rng.choice((None, Decimal("3.9"))),
                disbursed_term_months=rng.choice((None, 0, 1, 12, 24)),
                disbursed_on=start if state == DemandState.DISBURSED else None,
            )
    return enterprises


def _live_and_dead_applications(programme, rng: random.Random) -> None:
    """Some loans already applied for this year (excluded), some withdrawn or
    applied for last year (still to reach)."""
    loans = list(Loan.objects.filter(enterprise__region_id=JIASHAN).order_by("pk"))
    for loan in rng.sample(loans, min(12, len(loans))):
        state, year = rng.choice(
            (
                (ApplicationState.SUBMITTED, 2026),
                (ApplicationState.NOTICE, 2026),
                (ApplicationState.WITHDRAWN, 2026),
                (ApplicationState.PAID, 2025),
            )
        )
        Application.objects.create(
            programme=programme,
            enterprise=loan.enterprise,
            institution=loan.institution,
            loan=loan,
            year=year,
            period_start=date(year, 1, 1),
            period_end=date(year, 6, 30),
            amount=Decimal("1000"),
            state=state,
        )


@pytest.fixture
def varied(policy_world):
    rng = random.Random(20261204)
    build_registry(policy_world, rng)
    return rng


def _signature(result: outreach.Outreach):
    return [(r.enterprise_id, [loan.key for loan in r.loans]) for r in result.rows]


@pytest.mark.parametrize("name", sorted(ELIGIBILITIES))
def test_set_based_search_equals_evaluate_one_by_one(policy_world, varied, name):
    programme = make_programme(policy_world, eligibility=ELIGIBILITIES[name], name=f"贴息-{name}")
    _live_and_dead_applications(programme, varied)
    fast = outreach.find(programme, today=DAY)
    slow = outreach.find_one_by_one(programme, today=DAY)
    assert _signature(fast) == _signature(slow)
    # The candidates themselves (facts copied from a loan or a demand) agree.
    assert [r.loans for r in fast.rows] == [r.loans for r in slow.rows]
    if name in ("open", "blacklist_allowed"):
        # A data set where the answer is neither everyone nor no one.
        assert 0 < fast.count < 60


def test_the_data_set_exercises_every_condition(policy_world, varied):
    """Each condition of the varied programmes removes someone the open one
    finds, so the equality above is not about empty answers."""
    counts = {}
    for name, eligibility in ELIGIBILITIES.items():
        programme = make_programme(policy_world, eligibility=eligibility, name=f"贴息-{name}")
        counts[name] = outreach.find(programme, today=DAY).loan_count
    assert all(counts[k] < counts["open"] for k in counts if k not in ("open", "blacklist_allowed"))
    assert counts["registry"] > 0 and counts["classes_and_loan"] > 0


def test_guarantee_fee_programme_only_reaches_guaranteed_loans(policy_world, varied):
    programme = make_programme(
        policy_world,
        "guarantee_fee",
        params={"method": "points", "fee_rate_ceiling": "1.0", "points": "0.5"},
        name="担保费补贴",
    )
    fast = outreach.find(programme, today=DAY)
    slow = outreach.find_one_by_one(programme, today=DAY)
    assert _signature(fast) == _signature(slow)
    loans = [loan for r in fast.rows for loan in r.loans]
    assert loans and all(loan.guarantee_fee_rate is not None for loan in loans)
    assert all(loan.demand_id is None for loan in loans)


def test_award_programmes_have_no_outreach(policy_world):
    programme = make_programme(
        policy_world,
        "award",
        params={"items": [{"code": "first_loan", "label": "首贷", "amount": "10000"}]},
        name="奖励",
        publish=False,
    )
    with pytest.raises(Conflict):
        outreach.find(programme, today=DAY)


def test_before_the_programme_starts_nobody_is_found(policy_world, varied):
    programme = make_programme(policy_world, starts_on="2026-09-01", name="未开始")
    assert outreach.find(programme, today=DAY).count == 0


def test_estimates_equal_compute_for_each_loan(policy_world, varied):
    programme = make_programme(policy_world, name="贴息-测算")
    result = outreach.find(programme, today=DAY)
    outreach.estimate(result)
    checked = 0
    for row in result.rows:
        first = row.loans[0]
        if first.loan_id is None or len(row.loans) > 1:
            continue
        loan = Loan.objects.get(pk=first.loan_id)
        period = first.period(result.window)
        expected = services.compute(
            programme,
            Claim(period_start=period[0], period_end=period[1]),
            loan=loan,
            enterprise_id=row.enterprise_id,
        )
        assert row.estimate == expected.amount
        checked += 1
    assert checked > 5
    assert result.estimated_total == sum(r.estimate for r in result.rows)


def test_notify_once_per_programme_and_enterprise(policy_world, varied):
    pw = policy_world
    make_loan(pw, no="ENT-1", loan_date=date(2026, 2, 1), maturity_date=date(2027, 2, 1))
    programme = make_programme(pw, name="贴息-通知")
    found = outreach.find(programme, today=DAY)
    assert pw.world.ent.pk in {r.enterprise_id for r in found.rows}
    with pytest.raises(NotAllowed):
        outreach.notify_found(pw.user("gov_jiangsu"), programme, today=DAY)
    with pytest.raises(NotAllowed):
        outreach.notify_found(pw.user("ent_user"), programme, today=DAY)
    told = outreach.notify_found(pw.user("fin_admin"), programme, today=DAY)
    # Only enterprises with users can be told; the others wait for a later run.
    with_users = {pw.world.ent.pk, pw.world.ent2.pk} & {r.enterprise_id for r in found.rows}
    assert told == len(with_users)
    assert (
        Notification.objects.filter(recipient=pw.user("ent_user"), verb="policy.outreach").count()
        == 1
    )
    assert outreach.notify_found(pw.user("fin_admin"), programme, today=DAY) == 0
    assert Notification.objects.filter(verb="policy.outreach").count() == told
    assert OutreachNotice.objects.filter(programme=programme).count() == told
    # A user added later is told on the next run, once.
    extra = next(r for r in found.rows if r.enterprise_id not in with_users)
    _user("late_user", Role.ENTERPRISE_USER, enterprise_id=extra.enterprise_id)
    assert outreach.notify_found(None, programme, today=DAY) == 1
    assert outreach.notify_found(None, programme, today=DAY) == 0


def test_notify_refused_outside_the_programme_period(policy_world, varied):
    programme = make_programme(policy_world, name="贴息-过期")
    with pytest.raises(Conflict):
        outreach.notify_found(policy_world.user("fin_admin"), programme, today=date(2028, 1, 2))


def test_auto_apply_builds_proposed_applications_the_enterprise_confirms(policy_world, varied):
    pw = policy_world
    make_loan(pw, no="ENT-1", loan_date=date(2026, 2, 1), maturity_date=date(2027, 2, 1))
    plain = make_programme(pw, name="贴息-非免申")
    with pytest.raises(Conflict):
        outreach.build(pw.user("fin_admin"), plain, today=DAY)
    programme = make_programme(pw, name="贴息-免申即享", auto_apply=True)
    found = outreach.find(programme, today=DAY)
    outreach.estimate(found)
    with pytest.raises(NotAllowed):
        outreach.build(pw.user("bank_staff"), programme, today=DAY)
    demands_before = Loan.objects.filter(demand__isnull=False).count()
    built = outreach.build(pw.user("fin_admin"), programme, today=DAY)
    # Every loan found, but those at 0 % (a disbursement without a rate): nothing to pay.
    paying = [loan for r in found.rows for loan in r.loans if loan.rate > 0]
    assert 0 < len(paying) < found.loan_count
    assert len(built) == len(paying)
    assert Loan.objects.filter(demand__isnull=False).count() == demands_before + sum(
        1 for loan in paying if loan.demand_id
    )
    for app in built:
        assert app.state == ApplicationState.PROPOSED and app.auto_built
        assert app.paid_cost is None and app.calculation["estimate"] is True
        assert app.period_end <= DAY and app.year == 2026
        expected = services.compute(
            programme,
            Claim(app.period_start, app.period_end),
            loan=app.loan,
            enterprise_id=app.enterprise_id,
            held=held_amounts(programme, app.enterprise_id, app.loan, 2026, exclude=app.pk),
        )
        assert app.amount == expected.amount > 0
    # A single-loan enterprise's estimate is the built amount.
    by_enterprise = {r.enterprise_id: r for r in found.rows}
    for app in built:
        row = by_enterprise[app.enterprise_id]
        if len(row.loans) == 1:
            assert row.estimate == app.amount
    assert AuditEntry.objects.filter(action="policy.application.propose").count() == len(built)
    # The enterprise was told once, with a link to its application.
    note = Notification.objects.get(recipient=pw.user("ent_user"), verb="policy.outreach")
    assert "/policy/applications/" in note.link
    # Nothing left to find or build; the enterprise confirms its own.
    left = outreach.find(programme, today=DAY)
    assert left.loan_count == found.loan_count - len(paying)
    assert all(loan.rate == 0 for r in left.rows for loan in r.loans)
    assert outreach.build(None, programme, today=DAY) == []
    mine = next(a for a in built if a.enterprise_id == pw.world.ent.pk)
    with pytest.raises(NotAllowed):
        services.confirm(pw.user("ent2_user"), mine)
    mine = services.confirm(pw.user("ent_user"), mine)
    assert mine.state == ApplicationState.BANK_PENDING
    # Withdrawn: found again (no live application) but not built again.
    other = next(a for a in built if a.enterprise_id != pw.world.ent.pk)
    admin_ent = _user("other_ent_user", Role.ENTERPRISE_USER, enterprise_id=other.enterprise_id)
    services.withdraw(admin_ent, other, "不需要")
    assert outreach.find(programme, today=DAY).loan_count == left.loan_count + 1
    assert outreach.build(None, programme, today=DAY) == []


def test_daily_job_builds_and_notifies_auto_apply_programmes(policy_world, varied):
    pw = policy_world
    make_loan(pw, no="ENT-1", loan_date=date(2026, 2, 1), maturity_date=date(2027, 2, 1))
    programme = make_programme(pw, name="贴息-免申即享", auto_apply=True)
    make_programme(pw, name="贴息-普通")
    found = outreach.find(programme, today=DAY)
    expected = sum(1 for r in found.rows for loan in r.loans if loan.rate > 0)
    with_users = {pw.world.ent.pk, pw.world.ent2.pk} & {r.enterprise_id for r in found.rows}
    totals = outreach.run_auto(today=DAY)
    assert totals == {"programmes": 1, "built": expected, "notified": len(with_users)}
    assert outreach.run_auto(today=DAY) == {"programmes": 1, "built": 0, "notified": 0}


def test_command(policy_world, varied):
    pw = policy_world
    programme = make_programme(pw, name="贴息-命令", auto_apply=True)
    count = outreach.find(programme, today=DAY).count
    out = io.StringIO()
    call_command("policy_outreach", str(programme.pk), "--today", "2026-07-15", stdout=out)
    assert f"{count} 家企业" in out.getvalue()
    assert not Application.objects.filter(programme=programme).exists()
    out = io.StringIO()
    call_command(
        "policy_outreach",
        str(programme.pk),
        "--today",
        "2026-07-15",
        "--build",
        "--notify",
        stdout=out,
    )
    assert "已生成" in out.getvalue() and "已通知" in out.getvalue()
    assert Application.objects.filter(programme=programme, auto_built=True).exists()


def test_command_refuses_unknown_programmes_and_kinds(policy_world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("policy_outreach", "999999", stdout=io.StringIO())
    award = make_programme(
        policy_world,
        "award",
        params={"items": [{"code": "first_loan", "label": "首贷", "amount": "10000"}]},
        name="奖励",
        publish=False,
    )
    with pytest.raises(CommandError):
        call_command("policy_outreach", str(award.pk), stdout=io.StringIO())


def test_page_of_a_programme_without_loans_says_why(policy_world, client):
    award = make_programme(
        policy_world,
        "award",
        params={"items": [{"code": "first_loan", "label": "首贷", "amount": "10000"}]},
        name="奖励",
        publish=False,
    )
    client.force_login(policy_world.user("fin_admin"))
    page = client.get(f"/policy/gov/programmes/{award.pk}/outreach/")
    assert page.status_code == 200
    assert "政策找人仅适用于贷款贴息和担保费补贴" in page.content.decode()
    assert client.get(f"/policy/gov/programmes/{award.pk}/outreach/export/").status_code == 404
    assert client.post(f"/policy/gov/programmes/{award.pk}/outreach/build/").status_code == 302
    assert not Application.objects.exists()


def test_agency_page_export_and_buttons(policy_world, varied, client):
    pw = policy_world
    make_loan(pw, no="ENT-1", loan_date=date(2026, 2, 1), maturity_date=date(2027, 2, 1))
    programme = make_programme(pw, name="贴息-页面", auto_apply=True)
    url = f"/policy/gov/programmes/{programme.pk}/outreach/"
    found = outreach.find(programme)
    client.force_login(pw.user("fin_staff"))
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-testid="outreach-count">{found.count}<' in html
    outreach.estimate(found)
    assert f'data-testid="outreach-total">{wan(found.estimated_total)} 万元<' in html
    assert 'data-action="outreach-notify"' not in html  # staff see, admins act
    exported = client.get(url + "export/")
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(exported.streaming_content)[:2] == b"PK"
    entry = AuditEntry.objects.get(action="policy.outreach.export")
    assert entry.changes["enterprises"] == found.count
    assert client.post(url + "notify/").status_code == 403
    client.force_login(pw.user("fin_admin"))
    html = client.get(url).content.decode()
    assert 'data-action="outreach-build"' in html
    response = client.post(url + "build/", follow=True)
    assert response.status_code == 200
    paying = sum(1 for r in found.rows for loan in r.loans if loan.rate > 0)
    assert Application.objects.filter(programme=programme, auto_built=True).count() == paying
    assert client.post(url + "notify/").status_code == 302
    # Not the agency's: 404; an enterprise: 404; another region: 404.
    for name in ("ent_user", "bank_staff", "gov_jiangsu"):
        client.force_login(pw.user(name))
        assert client.get(url).status_code == 404
        assert client.get(url + "export/").status_code == 404
