"""A 嘉善 财政局 with two officials, and helpers to build programmes and loans.

`policy_world` extends the shared `world`: `fin_admin` and `fin_staff` of
嘉善县财政局; `world.users["gov_jiashan"]` (经信局) does the 初审. Programmes
are built through the services, as a clerk would build them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency, Role
from chanrong.policy import services
from chanrong.policy.models import Loan, LoanSource, Programme
from tests.conftest import JIASHAN, World, _user

INTEREST_PARAMS = {
    "method": "lpr_share",
    "lpr_tenor": "1y",
    "lpr_share": "50",
    "day_count": "act360",
    "cap_per_loan": "200000",
    "cap_per_enterprise_year": "500000",
}


@dataclass
class PolicyWorld:
    world: World
    finance_bureau: GovernmentAgency

    def user(self, name: str):
        return self.world.users[name]


@pytest.fixture
def policy_world(world) -> PolicyWorld:
    bureau = GovernmentAgency.objects.create(
        name="嘉善县财政局",
        level=AgencyLevel.COUNTY,
        function=AgencyFunction.FINANCE,
        region_id=JIASHAN,
    )
    world.users["fin_admin"] = _user("fin_admin", Role.GOV_ADMIN, agency=bureau)
    world.users["fin_staff"] = _user("fin_staff", Role.GOV_STAFF, agency=bureau)
    return PolicyWorld(world, bureau)


def make_programme(
    pw: PolicyWorld,
    kind: str = "interest",
    params: dict | None = None,
    eligibility: dict | None = None,
    *,
    appropriation: Decimal | int = Decimal("10000000"),
    year: int = 2026,
    publish: bool = True,
    **extra,
) -> Programme:
    admin = pw.user("fin_admin")
    programme = services.create_programme(
        admin,
        {
            "kind": kind,
            "name": extra.pop("name", "嘉善县制造业贷款贴息"),
            "basis": "善财企〔2026〕1号",
            "starts_on": extra.pop("starts_on", "2025-01-01"),
            "ends_on": extra.pop("ends_on", "2027-12-31"),
            "params": params if params is not None else INTEREST_PARAMS,
            "eligibility": eligibility or {},
            **extra,
        },
    )
    if kind in ("interest", "guarantee_fee", "award"):
        services.set_appropriation(admin, programme, year, Decimal(appropriation))
    if publish and kind in ("interest", "guarantee_fee", "award"):
        services.publish_programme(admin, programme)
    return programme


def make_loan(pw: PolicyWorld, enterprise=None, *, no: str = "JS-2026-001", **fields) -> Loan:
    world = pw.world
    values = {
        "enterprise": enterprise or world.ent,
        "institution": world.bank,
        "source": LoanSource.OFF_PLATFORM,
        "contract_no": no,
        "principal": Decimal("5000000"),
        "rate": Decimal("3.45"),
        "loan_date": date(2026, 1, 10),
        "maturity_date": date(2027, 1, 10),
    }
    values.update(fields)
    return Loan.objects.create(**values)
