"""Finding who qualifies and has not applied (set-based and one by one), the estimates, and who may look.

See the package docstring."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core.errors import Conflict
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.demands.models import Demand, DemandState
from chanrong.finance import eligibility as el
from chanrong.finance import lpr as lpr_mod
from chanrong.registry.models import (
    Enterprise,
    ListEntry,
    ListSector,
    ListType,
    Qualification,
)

from ... import calculator as calc
from ... import params as pm
from ... import permissions as perms
from ... import rules
from ...models import (
    COMMITTED_STATES,
    LIVE_STATES,
    Application,
    ApplicationState,
    Loan,
    Programme,
    ProgrammeKind,
    ProgrammeState,
)
from ...outreach_models import OutreachNotice
from ..applications import evaluate
from ..loans import add_months
from ..programmes import check

#: The programme kinds that pay on a loan and so can look for loans.


OUTREACH_KINDS = (ProgrammeKind.INTEREST, ProgrammeKind.GUARANTEE_FEE)


# --- what is found -------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The claim period outreach offers: the programme-year so far."""

    year: int
    start: date
    end: date


@dataclass(frozen=True)
class CandidateLoan:
    """A loan the programme could pay on, from a policy `Loan` (`loan_id`)
    or from a disbursed demand not yet copied into one (`demand_id`)."""

    enterprise_id: int
    loan_id: int | None
    demand_id: int | None
    institution_id: int
    principal: Decimal
    rate: Decimal
    loan_date: date
    maturity_date: date
    kind: str
    purpose: str
    project_class: str | None
    guarantee_fee_rate: Decimal | None = None
    contract_no: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return ("loan", self.loan_id) if self.loan_id is not None else ("demand", self.demand_id)

    def terms(self) -> rules.LoanTerms:
        return rules.LoanTerms(
            kind=self.kind,
            purpose=self.purpose,
            principal=self.principal,
            loan_date=self.loan_date,
            maturity_date=self.maturity_date,
            project_class=self.project_class,
        )

    def facts(self) -> calc.LoanFacts:
        return calc.LoanFacts(
            principal=self.principal,
            rate=self.rate,
            loan_date=self.loan_date,
            maturity_date=self.maturity_date,
            guarantee_fee_rate=self.guarantee_fee_rate,
        )

    def period(self, window: Window) -> tuple[date, date] | None:
        """The part of the window the loan is out (the claim an application
        would make), or None when it is not out at all in the window."""
        start = max(window.start, self.loan_date)
        end = min(window.end, self.maturity_date - timedelta(days=1))
        return (start, end) if end >= start else None


@dataclass
class Found:
    """One enterprise to reach, with the loans it could claim on."""

    enterprise_id: int
    name: str
    uscc: str
    region_id: str
    loans: list[CandidateLoan] = field(default_factory=list)
    #: Estimated amount over its loans (`estimate`), None until estimated.
    estimate: Decimal | None = None
    notified: bool = False


@dataclass
class Outreach:
    programme: Programme
    day: date
    window: Window | None
    rows: list[Found] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def loan_count(self) -> int:
        return sum(len(r.loans) for r in self.rows)

    def pairs(self) -> set[tuple[int, tuple[str, int]]]:
        """(enterprise, loan key) of every loan found, for comparing two runs."""
        return {(r.enterprise_id, loan.key) for r in self.rows for loan in r.loans}

    @property
    def estimated_total(self) -> Decimal | None:
        if any(r.estimate is None for r in self.rows):
            return None
        return sum((r.estimate for r in self.rows), Decimal(0))


def claim_window(programme: Programme, day: date) -> Window | None:
    """The programme-year so far on `day`: from 1 January (or the programme's
    start) to `day` (or the programme's end, once it has ended). None before
    the programme starts."""
    end = min(day, programme.ends_on)
    if end < programme.starts_on:
        return None
    return Window(end.year, max(date(end.year, 1, 1), programme.starts_on), end)


def _outreach_programme(programme: Programme) -> None:
    if programme.kind not in OUTREACH_KINDS:
        raise Conflict(_("政策找人仅适用于贷款贴息和担保费补贴"), code="outreach_not_applicable")


# --- the conditions as SQL -----------------------------------------------------------


def _list_codes_q(code: str) -> Q:
    """List entries that give an enterprise the list code `code`, as
    registry.services.eligibility names them: each list type's own code, plus
    white_list / key_enterprise / manufacturing_white_list for the 重点企业
    白名单 and red_list for the 守信红名单."""
    q = Q(version__list__list_type=code)
    if code in ("white_list", "key_enterprise"):
        q |= Q(version__list__list_type=ListType.KEY_ENTERPRISES)
    elif code == "manufacturing_white_list":
        q |= Q(
            version__list__list_type=ListType.KEY_ENTERPRISES,
            version__list__sector=ListSector.MANUFACTURING,
        )
    elif code == "red_list":
        q |= Q(version__list__list_type=ListType.RED)
    return q


def _years_ago(day: date, years: int) -> date:
    """The latest founding date that makes an enterprise `years` old on `day`
    (finance.eligibility.years_between), 29 February falling to the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def enterprise_condition(
    conditions: rules.ProgrammeConditions, day: date, *, path: str = "", ref: str = "pk"
) -> Q:
    """The enterprise half of the programme's conditions as one Q, for a
    queryset of enterprises (path "", ref "pk") or of rows that point at one
    (path "enterprise__", ref "enterprise_id"). A fact the registry does not
    hold (no size, no tax grade) fails, as `evaluate` asks for it instead of
    passing it."""
    c = conditions.enterprise
    q = Q()
    if c.regions:
        anywhere = Q(pk__in=[])
        for area in c.regions:
            anywhere |= Q(**{f"{path}region__code__startswith": area.prefix})
        q &= anywhere
    if c.industries_in:
        inside = Q(pk__in=[])
        for ref_ in c.industries_in:
            inside |= Q(**{f"{path}industry__code__startswith": ref_.code})
        q &= inside
    for ref_ in c.industries_out:
        q &= ~Q(**{f"{path}industry__code__startswith": ref_.code})
    if c.sizes:
        q &= Q(**{f"{path}size__in": list(c.sizes)})
    if c.min_tax_grade:
        grades = el.TAX_GRADES[: el.TAX_GRADES.index(c.min_tax_grade) + 1]
        q &= Q(**{f"{path}tax_grade__in": list(grades)})
    if c.min_years:
        q &= Q(**{f"{path}founded_on__lte": _years_ago(day, c.min_years)})
    if c.min_revenue:
        q &= Q(**{f"{path}revenue__gte": c.min_revenue})
    for kind in c.required_qualifications:
        q &= Q(
            Exists(
                Qualification.objects.active_on(day)
                .verified()  # declared-only ones are "需核验", not held (registry provenance)
                .filter(kind=kind, enterprise_id=OuterRef(ref))
            )
        )
    entries = ListEntry.objects.in_force(day).filter(
        enterprise_id=OuterRef(ref), project__isnull=True
    )
    for code in c.required_lists:
        q &= Q(Exists(entries.filter(_list_codes_q(code))))
    if c.exclude_blacklisted:
        q &= ~Q(Exists(entries.filter(version__list__list_type=ListType.BLACK)))
    return q


def _class_condition(conditions: rules.ProgrammeConditions, *, project_path: str) -> Q:
    """三类企业 or 五类项目 (either suffices when both are set)."""
    classes, projects = conditions.chongqing_classes, conditions.project_classes
    if not classes and not projects:
        return Q()
    q = Q(pk__in=[])
    if classes:
        q |= Q(enterprise__chongqing_class__in=list(classes))
    if projects:
        q |= Q(**{f"{project_path}__project_class__in": list(projects)})
    return q


def _loan_condition(
    conditions: rules.ProgrammeConditions, *, kind: str, principal: str, when: str, purpose: str
) -> Q:
    """The loan conditions SQL can decide exactly everywhere, and the purpose
    keywords as a superset (LIKE is case-blind on SQLite; Python decides)."""
    c = conditions
    q = Q()
    if c.loan_kinds:
        q &= Q(**{f"{kind}__in": list(c.loan_kinds)})
    if c.amount_min is not None:
        q &= Q(**{f"{principal}__gte": c.amount_min})
    if c.amount_max is not None:
        q &= Q(**{f"{principal}__lte": c.amount_max})
    if c.loan_date_from is not None:
        q &= Q(**{f"{when}__gte": c.loan_date_from})
    if c.loan_date_to is not None:
        q &= Q(**{f"{when}__lte": c.loan_date_to})
    if c.purpose_keywords:
        words = Q(pk__in=[])
        for word in c.purpose_keywords:
            words |= Q(**{f"{purpose}__contains": word})
        q &= words
    return q


def _loans_only(conditions: rules.ProgrammeConditions) -> rules.ProgrammeConditions:
    """The conditions with the enterprise half and the classes taken out, to
    decide the loan conditions of a loan SQL has already narrowed to."""
    return dataclasses.replace(
        conditions,
        enterprise=el.ProductConditions(product_kind=conditions.enterprise.product_kind),
        chongqing_classes=(),
        project_classes=(),
    )


_NO_FACTS = el.EnterpriseFacts(region_code="")


def _loan_passes(loans_only: rules.ProgrammeConditions, loan: CandidateLoan, day: date) -> bool:
    result = rules.evaluate(
        loans_only, _NO_FACTS, chongqing_class=None, loan=loan.terms(), today=day, explain=False
    )
    return result.eligible


def _live_application(programme: Programme, window: Window, loan_ref) -> Exists:
    return Exists(
        Application.objects.filter(
            programme=programme, loan_id=loan_ref, year=window.year, state__in=LIVE_STATES
        )
    )


def _demand_term():
    """The months `loan_from_demand` takes: the disbursed term, else the asked one."""
    return Case(
        When(disbursed_term_months__gt=0, then="disbursed_term_months"),
        default="term_months",
        output_field=IntegerField(),
    )


def _demand_maturity(loan_date: date, disbursed_term: int | None, term: int) -> date:
    return add_months(loan_date, max(disbursed_term or term, 1))


def policy_loan_rows(programme: Programme, conditions, window: Window, day: date) -> QuerySet:
    region = programme.region.prefix
    qs = Loan.objects.filter(
        enterprise__region__code__startswith=region,
        loan_date__lte=window.end,
        maturity_date__gt=window.start,
    )
    if programme.kind == ProgrammeKind.GUARANTEE_FEE:
        qs = qs.filter(guarantee_fee_rate__isnull=False)
    qs = qs.filter(
        enterprise_condition(conditions, day, path="enterprise__", ref="enterprise_id"),
        _class_condition(conditions, project_path="project"),
        _loan_condition(
            conditions, kind="kind", principal="principal", when="loan_date", purpose="purpose"
        ),
    ).exclude(_live_application(programme, window, OuterRef("pk")))
    return qs.order_by().values(
        "pk",
        "enterprise_id",
        "enterprise__name",
        "enterprise__uscc",
        "enterprise__region_id",
        "institution_id",
        "principal",
        "rate",
        "loan_date",
        "maturity_date",
        "kind",
        "purpose",
        "project__project_class",
        "guarantee_fee_rate",
        "contract_no",
    )


def demand_rows(programme: Programme, conditions, window: Window, day: date) -> QuerySet | None:
    """Disbursed demands not yet copied into a `Loan` (None for 担保费补贴:
    a platform disbursement records no guarantee)."""
    if programme.kind == ProgrammeKind.GUARANTEE_FEE:
        return None
    qs = Demand.objects.filter(
        enterprise__region__code__startswith=programme.region.prefix,
        state=DemandState.DISBURSED,
        disbursed_on__isnull=False,
        disbursed_on__lte=window.end,
        disbursed_amount__isnull=False,
        disbursed_amount__gt=0,
        outcome_institution__isnull=False,
        policy_loan__isnull=True,
    )
    c = conditions
    if c.term_min_months is not None or c.term_max_months is not None:
        # The term in whole months is the computed one, or one less when the
        # maturity falls on a shorter month's last day: a superset here.
        qs = qs.annotate(_term=_demand_term())
        if c.term_min_months is not None:
            qs = qs.filter(_term__gte=c.term_min_months)
        if c.term_max_months is not None:
            qs = qs.filter(_term__lte=c.term_max_months + 1)
    qs = qs.filter(
        enterprise_condition(conditions, day, path="enterprise__", ref="enterprise_id"),
        _class_condition(conditions, project_path="project"),
        _loan_condition(
            conditions,
            kind="kind",
            principal="disbursed_amount",
            when="disbursed_on",
            purpose="purpose",
        ),
    )
    return qs.order_by().values(
        "pk",
        "enterprise_id",
        "enterprise__name",
        "enterprise__uscc",
        "enterprise__region_id",
        "outcome_institution_id",
        "disbursed_amount",
        "disbursed_rate",
        "disbursed_on",
        "disbursed_term_months",
        "term_months",
        "kind",
        "purpose",
        "project__project_class",
    )


def _from_loan_row(row: dict) -> CandidateLoan:
    return CandidateLoan(
        enterprise_id=row["enterprise_id"],
        loan_id=row["pk"],
        demand_id=None,
        institution_id=row["institution_id"],
        principal=row["principal"],
        rate=row["rate"],
        loan_date=row["loan_date"],
        maturity_date=row["maturity_date"],
        kind=row["kind"],
        purpose=row["purpose"],
        project_class=row["project__project_class"],
        guarantee_fee_rate=row["guarantee_fee_rate"],
        contract_no=row["contract_no"],
    )


def _from_demand_row(row: dict) -> CandidateLoan:
    return CandidateLoan(
        enterprise_id=row["enterprise_id"],
        loan_id=None,
        demand_id=row["pk"],
        institution_id=row["outcome_institution_id"],
        principal=row["disbursed_amount"],
        rate=row["disbursed_rate"] if row["disbursed_rate"] is not None else Decimal(0),
        loan_date=row["disbursed_on"],
        maturity_date=_demand_maturity(
            row["disbursed_on"], row["disbursed_term_months"], row["term_months"]
        ),
        kind=row["kind"],
        purpose=row["purpose"][:200],
        project_class=row["project__project_class"],
        contract_no=f"CR-{row['pk']}",
    )


def find(programme: Programme, *, today: date | None = None) -> Outreach:
    """The enterprises to reach for `programme` on `today`, each with the
    loans it could claim on, ordered by name. Two queries (policy loans,
    platform disbursements), then the exact loan checks on what they return."""
    _outreach_programme(programme)
    day = today or timezone.localdate()
    window = claim_window(programme, day)
    out = Outreach(programme, day, window)
    if window is None:
        return out
    conditions = check(programme).conditions
    loans_only = _loans_only(conditions)
    # Kind, amount and date window are exact in SQL; the term and the purpose
    # words are decided here (when the programme sets them).
    in_python = (
        conditions.term_min_months is not None
        or conditions.term_max_months is not None
        or bool(conditions.purpose_keywords)
    )
    by_enterprise: dict[int, Found] = {}
    sources = [(policy_loan_rows(programme, conditions, window, day), _from_loan_row)]
    demands = demand_rows(programme, conditions, window, day)
    if demands is not None:
        sources.append((demands, _from_demand_row))
    for queryset, build in sources:
        for row in queryset:  # one client-side fetch: a server cursor costs round trips
            loan = build(row)
            if loan.period(window) is None:
                continue
            if in_python and not _loan_passes(loans_only, loan, day):
                continue
            found = by_enterprise.get(loan.enterprise_id)
            if found is None:
                found = by_enterprise[loan.enterprise_id] = Found(
                    loan.enterprise_id,
                    row["enterprise__name"],
                    row["enterprise__uscc"],
                    row["enterprise__region_id"],
                )
            found.loans.append(loan)
    out.rows = sorted(by_enterprise.values(), key=lambda f: (f.name, f.enterprise_id))
    for found in out.rows:
        found.loans.sort(key=lambda loan: (loan.loan_date, loan.key))
    return out


# --- the reference: one enterprise at a time ------------------------------------------


def _candidates_of(enterprise: Enterprise, programme: Programme, window: Window):
    """The candidate loans of one enterprise, read as a per-enterprise loop
    would: its policy loans and its uncopied disbursed demands."""
    applied = set(
        Application.objects.filter(
            programme=programme,
            enterprise=enterprise,
            year=window.year,
            state__in=LIVE_STATES,
            loan__isnull=False,
        ).values_list("loan_id", flat=True)
    )
    out: list[tuple[CandidateLoan, Loan]] = []
    for loan in Loan.objects.filter(enterprise=enterprise).select_related("project"):
        if loan.pk in applied:
            continue
        if programme.kind == ProgrammeKind.GUARANTEE_FEE and loan.guarantee_fee_rate is None:
            continue
        candidate = CandidateLoan(
            enterprise_id=enterprise.pk,
            loan_id=loan.pk,
            demand_id=None,
            institution_id=loan.institution_id,
            principal=loan.principal,
            rate=loan.rate,
            loan_date=loan.loan_date,
            maturity_date=loan.maturity_date,
            kind=loan.kind,
            purpose=loan.purpose,
            project_class=loan.project.project_class if loan.project_id else None,
            guarantee_fee_rate=loan.guarantee_fee_rate,
            contract_no=loan.contract_no,
        )
        out.append((candidate, loan))
    if programme.kind == ProgrammeKind.GUARANTEE_FEE:
        return out
    for demand in Demand.objects.filter(
        enterprise=enterprise, state=DemandState.DISBURSED, policy_loan__isnull=True
    ).select_related("project"):
        if not (
            demand.disbursed_on
            and demand.disbursed_amount
            and demand.disbursed_amount > 0
            and demand.outcome_institution_id
        ):
            continue
        # The loan `loan_from_demand` would copy, left unsaved.
        loan = Loan(
            enterprise=enterprise,
            institution_id=demand.outcome_institution_id,
            demand=demand,
            contract_no=f"CR-{demand.pk}",
            principal=demand.disbursed_amount,
            rate=demand.disbursed_rate if demand.disbursed_rate is not None else Decimal(0),
            loan_date=demand.disbursed_on,
            maturity_date=_demand_maturity(
                demand.disbursed_on, demand.disbursed_term_months, demand.term_months
            ),
            kind=demand.kind,
            purpose=demand.purpose[:200],
            project=demand.project,
        )
        candidate = CandidateLoan(
            enterprise_id=enterprise.pk,
            loan_id=None,
            demand_id=demand.pk,
            institution_id=loan.institution_id,
            principal=loan.principal,
            rate=loan.rate,
            loan_date=loan.loan_date,
            maturity_date=loan.maturity_date,
            kind=loan.kind,
            purpose=loan.purpose,
            project_class=demand.project.project_class if demand.project_id else None,
            contract_no=loan.contract_no,
        )
        out.append((candidate, loan))
    return out


def find_one_by_one(
    programme: Programme,
    *,
    today: date | None = None,
    enterprises: Iterable[Enterprise] | None = None,
) -> Outreach:
    """The same answer as `find`, the slow obvious way: for every enterprise
    of the programme's region, every candidate loan, `services.evaluate`.
    `enterprises` limits the loop (the benchmark times a sample)."""
    _outreach_programme(programme)
    day = today or timezone.localdate()
    window = claim_window(programme, day)
    out = Outreach(programme, day, window)
    if window is None:
        return out
    if enterprises is None:
        enterprises = (
            Enterprise.objects.filter(region__code__startswith=programme.region.prefix)
            .select_related("region", "industry")
            .order_by("pk")
            .iterator(chunk_size=500)
        )
    for enterprise in enterprises:
        found = None
        for candidate, loan in _candidates_of(enterprise, programme, window):
            if candidate.period(window) is None:
                continue
            if not evaluate(programme, enterprise, loan, today=day).eligible:
                continue
            if found is None:
                found = Found(enterprise.pk, enterprise.name, enterprise.uscc, enterprise.region_id)
                out.rows.append(found)
            found.loans.append(candidate)
    out.rows.sort(key=lambda f: (f.name, f.enterprise_id))
    for found in out.rows:
        found.loans.sort(key=lambda loan: (loan.loan_date, loan.key))
    return out


# --- estimates --------------------------------------------------------------------------


def _held_maps(programme: Programme, year: int, rows: list[Found]):
    """What each loan (any year) and each enterprise (this year) already hold,
    committed or paid, in two grouped queries (applications.held_amounts, in bulk)."""
    held = Application.objects.filter(
        programme=programme, state__in=[*COMMITTED_STATES, ApplicationState.PAID]
    )
    loan_ids = [loan.loan_id for r in rows for loan in r.loans if loan.loan_id is not None]
    on_loan: dict[int, Decimal] = {}
    for part in _slices(loan_ids):
        on_loan.update(
            held.filter(loan_id__in=part)
            .values("loan_id")
            .annotate(s=Sum("amount"))
            .values_list("loan_id", "s")
        )
    by_enterprise: dict[int, Decimal] = {}
    for part in _slices([r.enterprise_id for r in rows]):
        by_enterprise.update(
            held.filter(enterprise_id__in=part, year=year)
            .values("enterprise_id")
            .annotate(s=Sum("amount"))
            .values_list("enterprise_id", "s")
        )
    return on_loan, by_enterprise


def _slices(ids: list[int], size: int = 5000):
    """`ids` in slices, so an IN (…) stays within SQLite's parameter limit."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _lpr_fact(table, tenor: str, day: date) -> calc.LprFact | None:
    quote = lpr_mod.rate_in_force(table, day)
    if quote is None:
        return None
    published_on, rate = quote
    return calc.LprFact(
        tenor, published_on, rate, (day - published_on).days > lpr_mod.STALE_AFTER_DAYS
    )


def _estimate_one(programme, checked, loan: CandidateLoan, period, held: calc.Held, lpr_table):
    """`applications.compute` for a claim with the paid cost unconfirmed, fed
    with prefetched holdings and LPR table instead of a query per loan."""
    params = checked.params
    window = (programme.starts_on, programme.ends_on)
    if programme.kind == ProgrammeKind.INTEREST:
        lpr = None
        if params.method == pm.LPR_SHARE:
            lpr = _lpr_fact(lpr_table, params.lpr_tenor, loan.loan_date)
        return calc.interest_subsidy(
            params, loan.facts(), period, window, interest_paid=None, lpr=lpr, held=held
        )
    return calc.guarantee_fee_subsidy(
        params, loan.facts(), period, window, fee_paid=None, held=held
    )


def estimate(outreach: Outreach, rows: list[Found] | None = None) -> None:
    """Fill `Found.estimate` (the sum over its loans, each computed as if the
    ones before it were granted, so the enterprise's annual cap holds) for
    `rows` (default all). Figures are provisional: the interest or fee
    actually paid is confirmed by the bank later."""
    rows = outreach.rows if rows is None else rows
    window = outreach.window
    if not rows or window is None:
        return
    programme = outreach.programme
    checked = check(programme)
    lpr_table = None
    if programme.kind == ProgrammeKind.INTEREST and checked.params.method == pm.LPR_SHARE:
        lpr_table = lpr_mod.lpr_table(checked.params.lpr_tenor)
    on_loan, by_enterprise = _held_maps(programme, window.year, rows)
    for found in rows:
        total = Decimal(0)
        taken = by_enterprise.get(found.enterprise_id) or Decimal(0)
        for loan in found.loans:
            held = calc.Held(
                on_loan=on_loan.get(loan.loan_id, Decimal(0)) if loan.loan_id else Decimal(0),
                by_enterprise_this_year=taken,
            )
            result = _estimate_one(programme, checked, loan, loan.period(window), held, lpr_table)
            total += result.amount
            taken += result.amount
        found.estimate = total


def mark_notified(outreach: Outreach, rows: list[Found] | None = None) -> None:
    rows = outreach.rows if rows is None else rows
    told: set[int] = set()
    for part in _slices([r.enterprise_id for r in rows]):
        told.update(
            OutreachNotice.objects.filter(
                programme=outreach.programme, enterprise_id__in=part
            ).values_list("enterprise_id", flat=True)
        )
    for found in rows:
        found.notified = found.enterprise_id in told


# --- who may --------------------------------------------------------------------------


def can_view(actor, programme: Programme) -> bool:
    """The programme's own 财政 / 工信 officials (its region subtree) and
    platform admins see whom it could reach."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return (
        scope.kind == ScopeKind.GOVERNMENT
        and actor.agency.function in perms.PROGRAMME_FUNCTIONS
        and programme.region_id.startswith(scope.region_prefix)
    )


def can_act(actor, programme: Programme) -> bool:
    """Notify and build: whoever manages the programme."""
    return perms.can_manage_programme(actor, programme)


def _open(programme: Programme, day: date) -> None:
    if programme.state != ProgrammeState.PUBLISHED or not (
        programme.starts_on <= day <= programme.ends_on
    ):
        raise Conflict(_("该政策不在受理期，不能通知或生成申请"), code="programme_not_open")
