"""The loans the subsidies and pools are about: platform disbursements, off-platform loans, guarantees; the eligibility test."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q

from chanrong.demands.models import Demand, DemandState
from chanrong.finance.models import FinancialInstitution, InstitutionKind
from chanrong.policy import rules, services
from chanrong.policy.models import (
    Loan,
    LoanSource,
)
from chanrong.registry.models import Enterprise, Project, Qualification

from ..base import bulk_set
from .common import (
    FEE_RATES,
    GUARANTORS,
    HISTORY_DAYS,
    PROJECT_CLASSES,
    PURPOSES,
    WAN,
    _add_months,
    _at,
)
from .world import World

# --- loans -------------------------------------------------------------------------------


def _loans(world: World) -> None:
    """The platform's disbursed bank loans in 嘉善 (through the service),
    off-platform loans confirmed by the banks, guarantees on some, and the
    loans the showcase needs."""
    rng = world.rng
    today = world.today
    banks = {
        i.pk: i
        for i in FinancialInstitution.objects.filter(kind=InstitutionKind.BANK).order_by("pk")
    }
    demands = Demand.objects.filter(
        state=DemandState.DISBURSED,
        disbursed_on__isnull=False,
        enterprise__region_id=world.region,
        outcome_institution_id__in=list(banks),
    ).order_by("disbursed_on", "pk")
    loans = (
        [services.loan_from_demand(demand) for demand in demands] if world.platform_loans else []
    )
    # Off-platform loans: as many again, at least a dozen. A loan reaches
    # the platform from outside when its borrower wants a subsidy on it, so
    # most borrowers are the county's 三类企业 and 高新技术企业 (and any
    # enterprise with a 五类 project), the rest anyone in 嘉善.
    lending = [banks[u_pk] for u_pk in sorted(world.bank_users) if u_pk in banks]
    county = list(
        Enterprise.objects.filter(region_id=world.region)
        .order_by("uscc")
        .values_list("pk", flat=True)
    )
    projects = defaultdict(list)
    for project in Project.objects.filter(
        owner__region_id=world.region, project_class__in=PROJECT_CLASSES
    ).order_by("pk"):
        projects[project.owner_id].append(project)
    high_tech = (
        Qualification.objects.active_on(today).filter(kind="high_tech").values("enterprise_id")
    )
    wanted = (
        list(
            Enterprise.objects.filter(region_id=world.region)
            .filter(~Q(chongqing_class="") | Q(pk__in=high_tech) | Q(pk__in=list(projects)))
            .order_by("uscc")
            .values_list("pk", flat=True)
        )
        or county
    )
    extra = []
    # (a longer history, as the other counties' from 2020, has more of them)
    for _n in range(
        max(world.min_loans, round(len(loans) * 1.0)) * world.history_days // HISTORY_DAYS
    ):
        enterprise_id = rng.choice(wanted if rng.random() < 0.75 else county)
        bank = rng.choice(lending)
        loan_date = today - timedelta(days=rng.randint(40, world.history_days + 60))
        own = projects.get(enterprise_id)
        project = own[0] if own and rng.random() < 0.6 else None
        extra.append(
            _off_platform(
                world,
                enterprise_id,
                bank,
                loan_date,
                principal=Decimal(rng.choice((50, 100, 200, 300, 500, 800, 1000, 1500, 2000)))
                * WAN,
                term=rng.choice((12, 12, 24, 36)),
                purpose=project.name[:60] + "建设" if project else rng.choice(PURPOSES),
                project=project,
            )
        )
    Loan.objects.bulk_create(extra)
    loans.extend(extra)
    # Guarantees: a third of the small and micro enterprises' loans.
    guarantors = [world.ctx.refs["institutions"][k] for k in GUARANTORS]
    sizes = dict(
        Enterprise.objects.filter(pk__in={loan.enterprise_id for loan in loans}).values_list(
            "pk", "size"
        )
    )
    rates, weights = zip(*FEE_RATES, strict=True)
    guaranteed = []
    for loan in loans:
        if sizes.get(loan.enterprise_id) in ("small", "micro") and rng.random() < 0.35:
            loan.guarantor = rng.choice(guarantors)
            loan.guarantee_fee_rate = rng.choices(rates, weights=weights)[0]
            guaranteed.append(loan)
    bulk_set(Loan, guaranteed, ["guarantor", "guarantee_fee_rate"], batch_size=2000)
    world.loans = loans
    world.learn(loan.enterprise_id for loan in loans)
    world.project_class = dict(
        Project.objects.filter(
            pk__in={loan.project_id for loan in loans if loan.project_id}
        ).values_list("pk", "project_class")
    )


def _off_platform(
    world: World,
    enterprise_id: int,
    bank: FinancialInstitution,
    loan_date: date,
    *,
    principal: Decimal,
    term: int,
    purpose: str,
    project=None,
    confirmed: bool = True,
) -> Loan:
    rng = world.rng
    return Loan(
        enterprise_id=enterprise_id,
        institution=bank,
        source=LoanSource.OFF_PLATFORM,
        contract_no=world.contract_no(bank, loan_date.year),
        principal=principal,
        rate=Decimal(rng.randint(280, 520)) / 100,
        loan_date=loan_date,
        maturity_date=_add_months(loan_date, term),
        purpose=purpose,
        project=project,
        confirmed_at=_at(rng, loan_date) if confirmed else None,
        confirmed_by=world.bank_users.get(bank.pk) if confirmed else None,
    )


def _terms(world: World, loan: Loan) -> rules.LoanTerms:
    return rules.LoanTerms(
        kind=loan.kind,
        purpose=loan.purpose,
        principal=loan.principal,
        loan_date=loan.loan_date,
        maturity_date=loan.maturity_date,
        project_class=world.project_class.get(loan.project_id) if loan.project_id else None,
    )


def _eligible(world: World, key: str, enterprise_id: int, loan: Loan | None) -> bool:
    """The programme's own conditions (policy.rules), as the services check them."""
    enterprise = world.know(enterprise_id)
    result = rules.evaluate(
        services.check(world.programmes[key]).conditions,
        world.facts[enterprise_id],
        chongqing_class=enterprise.chongqing_class or None,
        loan=_terms(world, loan) if loan is not None else None,
        today=world.today,
        explain=False,
    )
    return result.eligible
