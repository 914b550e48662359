"""Helpers of the public and enterprise page tests: dates that are always
in the past (last calendar year), a programme in force today, a disbursed
platform demand, an application brought to 公示 through the services, and a
logged-in test client."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from chanrong.demands.models import Demand, DemandKind, DemandState
from chanrong.policy import services
from chanrong.policy.models import Application, Programme
from tests.conftest import PASSWORD

from .conftest import INTEREST_PARAMS, PolicyWorld, make_loan, make_programme

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def last_year() -> int:
    """Claims must be for interest already paid: last year is always past."""
    return timezone.localdate().year - 1


def period(year: int | None = None) -> dict:
    y = year or last_year()
    return {"period_start": f"{y}-01-10", "period_end": f"{y}-06-30"}


def programme(pw: PolicyWorld, kind: str = "interest", params=None, eligibility=None, **extra):
    """A programme in force today whose budget year is last year."""
    y = last_year()
    extra.setdefault("starts_on", f"{y}-01-01")
    extra.setdefault("ends_on", f"{y + 2}-12-31")
    return make_programme(
        pw,
        kind,
        params if params is not None else INTEREST_PARAMS,
        eligibility,
        year=y,
        **extra,
    )


def loan(pw: PolicyWorld, **fields):
    y = last_year()
    fields.setdefault("loan_date", date(y, 1, 10))
    fields.setdefault("maturity_date", date(y + 1, 1, 10))
    return make_loan(pw, **fields)


def disbursed_demand(pw: PolicyWorld, enterprise=None, **fields) -> Demand:
    """A demand the bank reported as disbursed (what the platform records)."""
    y = last_year()
    values = {
        "enterprise": enterprise or pw.world.ent,
        "kind": DemandKind.DEBT,
        "amount": Decimal("3000000"),
        "term_months": 12,
        "purpose": "购置数控机床流动资金",
        "state": DemandState.DISBURSED,
        "outcome_institution": pw.world.bank,
        "granted_amount": Decimal("3000000"),
        "disbursed_amount": Decimal("3000000"),
        "disbursed_rate": Decimal("3.2500"),
        "disbursed_term_months": 12,
        "disbursed_on": date(y, 1, 10),
    }
    values.update(fields)
    return Demand.objects.create(**values)


def in_notice(pw: PolicyWorld, prog: Programme | None = None, **loan_fields) -> Application:
    """An application taken through 初审 and 财政复核 into 公示."""
    prog = prog or programme(pw, requires_bank_confirmation=False)
    app = services.apply(
        pw.user("ent_user"),
        prog,
        {**period(), "paid_cost": "90000"},
        loan=loan(pw, **loan_fields),
    )
    app = services.verify(pw.user("gov_jiashan"), app)
    return services.approve(pw.user("fin_admin"), app)


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        assert client.login(username=user.username, password=PASSWORD)
    return client
