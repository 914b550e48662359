"""The demo world: what it contains, and that it is valid."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from chanrong.accounts.models import AgencyLevel, GovernmentAgency, Role, User
from chanrong.core.codes import validate_uscc
from chanrong.core.models import AuditEntry, Region
from chanrong.demands.models import Demand
from chanrong.demo import services
from chanrong.demo.builders import enterprises as enterprise_builder
from chanrong.finance.models import Branch, BranchLevel, FinancialInstitution, InstitutionKind
from chanrong.registry.models import DataAuthorisation, Enterprise
from chanrong.registry.services import compute_size

from .conftest import PASSWORD, SMALL

pytestmark = pytest.mark.django_db

EXPECTED_ACCOUNTS = {
    # username: (role, organisation name)
    "admin": (Role.PLATFORM_ADMIN, None),
    "gov_national": (Role.GOV_ADMIN, "工业和信息化部"),
    "gov_zhejiang": (Role.GOV_ADMIN, "浙江省经济和信息化厅"),
    "gov_jiashan": (Role.GOV_ADMIN, "嘉善县经济和信息化局"),
    "bank_manager": (Role.INSTITUTION_MANAGER, "浙江嘉善农村商业银行股份有限公司"),
    "bank_staff": (Role.INSTITUTION_STAFF, "浙江嘉善农村商业银行股份有限公司"),
    "bank2_staff": (Role.INSTITUTION_STAFF, "中国工商银行股份有限公司"),
    "ent_user": (Role.ENTERPRISE_USER, "嘉善精工机械有限公司"),
    "ent2_user": (Role.ENTERPRISE_USER, "嘉善新材料科技有限公司"),
    "secadmin": (Role.SECURITY_ADMIN, None),
    "auditor": (Role.AUDIT_ADMIN, None),
}


def test_demo_accounts_have_their_roles_and_organisations(demo):
    users = {u.username: u for u in User.objects.all()}
    assert set(EXPECTED_ACCOUNTS) <= set(users)
    for username, (role, organisation) in EXPECTED_ACCOUNTS.items():
        user = users[username]
        assert user.role == role, username
        if organisation is None:
            assert user.organisation is None
        else:
            assert user.organisation.name == organisation, username
    admin = users["admin"]
    assert admin.is_staff and admin.is_superuser and admin.is_platform_admin
    assert users["bank_manager"].is_institution_manager
    # Bank staff work at their bank's 嘉善 office.
    for name in ("bank_manager", "bank_staff", "bank2_staff"):
        branch = users[name].branch
        assert branch is not None and branch.region_id == "330421"
        assert branch.institution_id == users[name].institution_id
    assert users["bank_manager"].institution_id != users["bank2_staff"].institution_id
    # Government demo users are administrators at their level.
    assert users["gov_national"].agency.level == AgencyLevel.NATIONAL
    assert users["gov_national"].agency.region is None
    assert users["gov_zhejiang"].agency.region_id == "330000"
    assert users["gov_jiashan"].agency.region_id == "330421"
    for name in ("ent_user", "ent2_user"):
        assert users[name].enterprise.region_id == "330421"


def test_demo_accounts_can_sign_in(demo):
    for username in EXPECTED_ACCOUNTS:
        assert Client().login(username=username, password=PASSWORD), username


def test_wrong_password_does_not_sign_in(demo):
    assert not Client().login(username="ent_user", password=PASSWORD + "x")


def test_usccs_are_valid_unique_and_carry_the_region(demo):
    rows = list(Enterprise.objects.values_list("uscc", "region_id"))
    assert len(rows) == enterprise_builder.enterprise_count(SMALL)
    usccs = [uscc for uscc, _ in rows]
    assert len(set(usccs)) == len(usccs)
    for uscc, region in rows:
        assert validate_uscc(uscc) == uscc
        assert uscc[2:8] == region
        assert uscc.startswith("91")
    for uscc in FinancialInstitution.objects.values_list("uscc", flat=True):
        assert validate_uscc(uscc) == uscc


def test_names_are_distinct_and_look_chinese(demo):
    names = list(Enterprise.objects.values_list("name", flat=True))
    assert len(set(names)) == len(names)
    assert all(name.endswith("公司") for name in names)
    assert sum(name.startswith("嘉善") for name in names) > len(names) / 2


def test_enterprises_are_in_the_pilot_county_and_city(demo):
    regions = Counter(Enterprise.objects.values_list("region_id", flat=True))
    assert all(code.startswith("3304") for code in regions)
    assert regions["330421"] > sum(regions.values()) / 2
    assert len(regions) > 1  # some elsewhere in 嘉兴
    counties = set(Region.objects.filter(level="county").values_list("code", flat=True))
    assert set(regions) <= counties


def test_sizes_are_computed_by_the_standard(demo):
    sizes = Counter()
    for enterprise in Enterprise.objects.all():
        assert enterprise.size == compute_size(enterprise), enterprise.name
        assert enterprise.size, enterprise.name
        sizes[enterprise.size] += 1
    assert sizes["micro"] + sizes["small"] > sum(sizes.values()) * 0.7


def test_industries_are_manufacturing_heavy_divisions_or_groups(demo):
    codes = list(Enterprise.objects.values_list("industry_id", flat=True))
    assert all(len(code) in (3, 4) for code in codes)
    assert sum(code.startswith("C") for code in codes) > len(codes) / 2


def test_agencies_at_four_levels_with_regions(demo):
    agencies = GovernmentAgency.objects.all()
    by_level = Counter(a.level for a in agencies)
    assert by_level["national"] >= 5 and by_level["provincial"] >= 3
    assert by_level["municipal"] >= 2 and by_level["county"] >= 2
    names = {a.name for a in agencies}
    for name in ("财政部", "中国人民银行", "国家金融监督管理总局", "中国证券监督管理委员会"):
        assert name in names
    # The pilot programme's demo adds agencies of other cities; every agency
    # sits at a region of its own level, and 嘉善's chain is complete.
    for agency in agencies:
        if agency.level == "national":
            assert agency.region_id is None, agency.name
        else:
            expected = {"provincial": "province", "municipal": "prefecture"}.get(
                agency.level, "county"
            )
            assert agency.region.level == expected, agency.name
    for level, region in (("provincial", "330000"), ("municipal", "330400"), ("county", "330421")):
        assert agencies.filter(level=level, region_id=region).exists()


def test_institutions_and_branches(demo):
    institutions = list(FinancialInstitution.objects.all())
    assert 25 <= len(institutions) <= 40
    kinds = {i.kind for i in institutions}
    for kind in (
        InstitutionKind.BANK,
        InstitutionKind.GUARANTEE,
        InstitutionKind.INSURER,
        InstitutionKind.LEASING,
        InstitutionKind.SECURITIES,
        InstitutionKind.FUND,
        InstitutionKind.MICRO_LOAN,
    ):
        assert kind in kinds
    for institution in institutions:
        branches = list(institution.branches.all())
        assert branches, institution.name
        for branch in branches:
            assert branch.region_id in ("330000", "330400", "330421"), branch.name
            expected_level = {
                "330000": BranchLevel.PROVINCIAL,
                "330400": BranchLevel.MUNICIPAL,
                "330421": BranchLevel.SUB,
            }[branch.region_id]
            assert branch.level == expected_level, branch.name
    levels = set(Branch.objects.values_list("level", flat=True))
    assert levels == {BranchLevel.PROVINCIAL, BranchLevel.MUNICIPAL, BranchLevel.SUB}


def test_authorisations(demo):
    ent = User.objects.get(username="ent_user").enterprise
    ent2 = User.objects.get(username="ent2_user").enterprise
    bank = User.objects.get(username="bank_staff").institution
    assert DataAuthorisation.objects.filter(enterprise=ent, institution=bank).exists()
    assert not DataAuthorisation.objects.filter(enterprise=ent2).exists()
    assert DataAuthorisation.objects.count() > 1
    # The bank sees what was authorised to it, through the one visibility rule.
    staff = User.objects.get(username="bank_staff")
    assert Enterprise.objects.visible_to(staff).filter(pk=ent.pk).exists()
    assert not Enterprise.objects.visible_to(staff).filter(pk=ent2.pk).exists()


def test_one_audit_entry_summarises_the_build(demo):
    entries = list(AuditEntry.objects.filter(action=services.BUILD_ACTION))
    assert len(entries) == 1
    changes = entries[0].changes
    assert changes["seed"] == 11 and changes["digest"] == demo.digest
    assert changes["counts"]["enterprises"] == enterprise_builder.enterprise_count(SMALL)
    # No per-row audit for generated data.
    assert not AuditEntry.objects.filter(action="enterprise.create").exists()


def test_scale_one_tenth(refdata_loaded, demo_password):
    result = services.build_demo(seed=3, scale=0.1, reset=True)  # the module's demo is there
    assert result.counts["enterprises"] == 300
    assert Enterprise.objects.count() == 300


@pytest.mark.postgres("PostgreSQL's planner statistics (pg_class.reltuples)")
def test_postgresql_has_planner_statistics_after_the_build(demo):
    """The build ends with ANALYZE: the planner sees the demo's tables at
    their size (reltuples stays -1, "never analysed", otherwise)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)",
            [["demands_demand", "registry_enterprise"]],
        )
        rows = dict(cursor.fetchall())
    assert rows["demands_demand"] == Demand.objects.count() > 0
    assert rows["registry_enterprise"] == Enterprise.objects.count()


def test_a_year_of_warning_history_handled_by_the_right_people(demo):
    """The rules ran at each month end of the last year: the dashboard's
    warnings over time span the months, each handled after it was opened,
    by the agency or a bank with a loan to the enterprise, before the build day."""
    import datetime as dt

    from django.db.models import Q
    from django.utils import timezone

    from chanrong.risk.models import Alert, LoanAccount
    from chanrong.risk.services import monitoring

    today = demo.today
    cutoff = dt.datetime.combine(today, dt.time.min, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    alerts = Alert.objects.select_related("acknowledged_by", "disposed_by")
    months = monitoring.alert_months(alerts, today)
    assert sum(1 for m in months if m.opened) >= 6, months
    assert sum(m.acknowledged for m in months) and sum(m.disposed for m in months), months
    assert not alerts.filter(
        Q(opened_on__gt=today)
        | Q(created_at__gt=cutoff)
        | Q(acknowledged_at__gte=cutoff)
        | Q(disposed_at__gte=cutoff)
    ).exists()
    lenders = set(LoanAccount.objects.values_list("enterprise_id", "institution_id"))
    handled = alerts.exclude(acknowledged_at=None)
    assert handled.exists() and alerts.filter(state="open").exists()
    for alert in handled:
        assert timezone.localtime(alert.acknowledged_at).date() > alert.opened_on
        if alert.disposed_at:
            assert alert.disposed_at > alert.acknowledged_at and alert.disposal
            assert alert.disposed_by == alert.acknowledged_by
        user = alert.acknowledged_by
        assert user.username == "gov_jiashan" or (
            (alert.enterprise_id, user.institution_id) in lenders
        ), (alert.pk, user.username)
    assert handled.exclude(acknowledged_by__institution=None).exists()
