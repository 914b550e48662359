"""One resolver per resource family: which object is a role's own, and which
is foreign to it (see resolvers.py for the rule and the signature).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from .base import ALL_SEE_IT, NA, PLATFORM_SEES_ALL, Ctx, M, Resolver, by_kind, in_region, pick
from .world import REGION_A, REGION_B, AuthzWorld

# -- registry ---------------------------------------------------------------


def enterprise(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    """Enterprise A (嘉善) authorised bank A; enterprise B (海宁) authorised no one in tenant A."""
    if case == "own":
        return w.ent_a.pk
    return PLATFORM_SEES_ALL if kind == "platform" else w.ent_b.pk


def child_of_enterprise(model: str, what: str) -> Resolver:
    def resolve(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
        cls = getattr(M.registry, model)
        return pick(cls.objects.filter(enterprise_id=ctx["id"]), what)

    return resolve


def project() -> Resolver:
    P = lambda: M.registry.Project.objects  # noqa: E731
    return by_kind(
        "project",
        enterprise_own=lambda w: P().filter(owner=w.ent_a),
        enterprise_foreign=lambda w: P().filter(owner=w.ent_b),
        institution_own=lambda w: P().filter(owner=w.ent_a),
        institution_foreign=lambda w: P().filter(owner=w.ent_b),
        government_own=lambda w: P().filter(owner=w.ent_a),
        government_foreign=lambda w: P().filter(owner=w.ent_b),
    )


def enterprise_list(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    """Own: a list with a published version naming enterprise A, in 嘉善 (so
    bank A's branch region holds it); foreign: government B's list with one
    draft version."""
    if case == "foreign":
        return PLATFORM_SEES_ALL if kind == "platform" else w.extra["list_b"].pk
    entries = M.registry.ListEntry.objects.filter(
        version__status="published", version__list__region_id=REGION_A, enterprise=w.ent_a
    )
    return pick(M.registry.EnterpriseList.objects.filter(versions__entries__in=entries), "list")


def list_version(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    versions = M.registry.ListVersion.objects.filter(list_id=ctx["id"])
    if case == "own" and kind in ("enterprise", "institution"):
        versions = versions.filter(status="published", entries__enterprise=w.ent_a)
    return versions.order_by("number").values_list("number", flat=True).first() or 1


def list_entry(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    entries = M.registry.ListEntry.objects.filter(
        version__list_id=ctx["id"], version__number=ctx["number"]
    )
    return pick(entries, "list entry")


# -- finance, api -----------------------------------------------------------


def product() -> Resolver:
    P = lambda: M.finance.Product.objects  # noqa: E731
    return by_kind(
        "product",
        enterprise_own=lambda w: P().filter(state="published"),
        enterprise_foreign=lambda w: P().filter(institution=w.bank_b, state="draft"),
        institution_own=lambda w: P().filter(institution=w.bank_a),
        institution_foreign=lambda w: P().filter(institution=w.bank_b, state="draft"),
        government_own=lambda w: P().exclude(state="draft"),
        government_foreign=lambda w: P().filter(institution=w.bank_b, state="draft"),
    )


def webhook(prefix: str) -> Resolver:
    def resolve(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
        if case == "own":
            if kind in ("institution", "platform"):
                return w.extra[f"{prefix}:{w.bank_a.pk}"].pk
            return NA("webhooks belong to institutions")
        if kind == "platform":
            return PLATFORM_SEES_ALL
        return w.extra[f"{prefix}:{w.bank_b.pk}"].pk

    return resolve


def import_job(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    if case == "foreign":
        return PLATFORM_SEES_ALL if kind == "platform" else w.extra["import:gov_haining"].pk
    if kind in ("enterprise", "institution"):
        return NA("imports are government's and the platform's")
    return w.extra[f"import:{ctx['username'] or 'admin'}"].pk


# -- demands --------------------------------------------------------------


def demand(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    D = M.demands.Demand.objects
    if "offer_id" in ctx["path"]:
        D = D.filter(offers__isnull=False).distinct()
    if kind == "platform":
        return pick(D.filter(enterprise=w.ent_a), "demand") if case == "own" else PLATFORM_SEES_ALL
    if case == "own":
        qs = {
            "enterprise": D.filter(enterprise=w.ent_a),
            "institution": D.filter(dispatches__institution=w.bank_a),
            "government": D.filter(enterprise__region_id=REGION_A).exclude(state="draft"),
        }[kind]
    else:
        qs = D.exclude(enterprise=w.ent_a).exclude(enterprise__region_id=REGION_A)
        if kind == "institution":
            qs = D.exclude(dispatches__institution=w.bank_a)
    return pick(qs, f"{case} demand for {kind}")


def offer(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    return pick(M.demands.Offer.objects.filter(demand_id=ctx["id"]), "offer")


def dispatch() -> Resolver:
    D = lambda: M.demands.Dispatch.objects  # noqa: E731
    return by_kind(
        "dispatch",
        enterprise_own=lambda w: D().filter(demand__enterprise=w.ent_a),
        enterprise_foreign=lambda w: D().filter(demand__enterprise=w.ent_b),
        institution_own=lambda w: D().filter(institution=w.bank_a),
        institution_foreign=lambda w: D().filter(institution=w.bank_b),
        government_own=lambda w: D().filter(demand__enterprise__region_id=REGION_A),
        government_foreign=lambda w: D().filter(demand__enterprise=w.ent_b),
    )


# -- events, insights, pilots ----------------------------------------------


def event() -> Resolver:
    E = lambda: M.events.Event.objects  # noqa: E731
    open_a = lambda w: E().filter(status="published", is_open=True)  # noqa: E731
    foreign = lambda w: E().filter(pk=w.extra["event_b"].pk)  # noqa: E731
    return by_kind(
        "event",
        enterprise_own=open_a,
        institution_own=open_a,
        government_own=lambda w: E().filter(region_id=REGION_A, organiser=w.gov_a),
        any_foreign=foreign,
    )


def plan() -> Resolver:
    P = lambda: M.insights.IndicatorPlan.objects  # noqa: E731
    return by_kind(
        "indicator plan",
        government_own=lambda w: P().filter(in_region("region", REGION_A)),
        any_foreign=lambda w: P().filter(pk=w.extra["plan_b"].pk),
    )


def pilot_application() -> Resolver:
    A = lambda: M.pilots.Application.objects  # noqa: E731
    return by_kind(
        "pilot application",
        government_own=lambda w: A().filter(region_id=REGION_A),
        any_foreign=lambda w: (
            A()
            .exclude(region_id=REGION_A)
            .exclude(review_region_id=REGION_A)
            .exclude(state="draft")
        ),
    )


def pilot_child(model: str, what: str) -> Resolver:
    def resolve(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
        cls = getattr(M.pilots, model)
        return pick(cls.objects.filter(application_id=ctx["application_id"]), what)

    return resolve


def pilot_report() -> Resolver:
    R = lambda: M.pilots.ProgressReport.objects  # noqa: E731
    return by_kind(
        "pilot progress report",
        government_own=lambda w: R().filter(application__region_id=REGION_A),
        any_foreign=lambda w: (
            R()
            .exclude(application__region_id=REGION_A)
            .exclude(application__review_region_id=REGION_A)
        ),
    )


# -- policy ---------------------------------------------------------------


def programme(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    P = M.policy.Programme.objects
    if case == "foreign":
        return PLATFORM_SEES_ALL if kind == "platform" else w.extra["programme_b_draft"].pk
    qs = P.filter(region_id=REGION_A)
    if kind in ("enterprise", "institution"):
        qs = qs.exclude(state="draft")
    if "/pools/" in ctx["path"]:
        qs = qs.filter(pool__isnull=False)
    return pick(qs, "programme")


def pool_programme(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    if case == "foreign":
        return PLATFORM_SEES_ALL if kind == "platform" else w.extra["pool_programme_b"].pk
    return pick(M.policy.Programme.objects.filter(region_id=REGION_A, pool__isnull=False), "pool")


def loan() -> Resolver:
    L = lambda: M.policy.Loan.objects  # noqa: E731
    return by_kind(
        "loan",
        enterprise_own=lambda w: L().filter(enterprise=w.ent_a),
        enterprise_foreign=lambda w: L().filter(enterprise=w.ent_b),
        institution_own=lambda w: L().filter(institution=w.bank_a),
        institution_foreign=lambda w: L().exclude(institution=w.bank_a),
        government_own=lambda w: L().filter(enterprise__region_id=REGION_A),
        government_foreign=lambda w: L().filter(enterprise=w.ent_b),
    )


def risk_loan() -> Resolver:
    L = lambda: M.risk.LoanAccount.objects  # noqa: E731
    return by_kind(
        "loan account",
        enterprise_own=lambda w: L().filter(enterprise=w.ent_a),
        enterprise_foreign=lambda w: L().filter(enterprise=w.ent_b),
        institution_own=lambda w: L().filter(institution=w.bank_a),
        institution_foreign=lambda w: L().exclude(institution=w.bank_a),
        government_own=lambda w: L().filter(enterprise__region_id=REGION_A),
        government_foreign=lambda w: L().filter(enterprise=w.ent_b),
    )


def risk_consultation() -> Resolver:
    C = lambda: M.risk.Consultation.objects  # noqa: E731
    return by_kind(
        "risk consultation",
        enterprise_own=lambda w: C().filter(enterprise=w.ent_a),
        enterprise_foreign=lambda w: C().filter(enterprise=w.ent_b),
        institution_own=lambda w: C().filter(requesting_institution=w.bank_a),
        institution_foreign=lambda w: (
            C().exclude(requesting_institution=w.bank_a).exclude(participants__institution=w.bank_a)
        ),
        government_own=lambda w: C().filter(enterprise__region_id=REGION_A),
        government_foreign=lambda w: C().filter(enterprise=w.ent_b),
    )


def risk_model(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    """Scorecard versions are one platform-wide family: government,
    institutions and platform admins see every version (no foreign one);
    enterprises see none (their own score, not the model)."""
    versions = M.risk.ModelVersion.objects.all()
    if kind == "enterprise":
        if case == "own":
            return NA("enterprises see no scorecard version")
        return pick(versions, "scorecard version")
    if case == "foreign":
        return NA("government, institutions and platform admins see every scorecard version")
    return pick(versions.filter(status="live"), "live scorecard version")


def policy_application(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    A = M.policy.Application.objects
    if "objection_id" in ctx["path"]:
        A = A.filter(objections__isnull=False).distinct()
    app_b = A.filter(pk=w.extra["application_b"].pk)
    tables = {
        ("enterprise", "own"): A.filter(enterprise=w.ent_a),
        ("enterprise", "foreign"): A.exclude(enterprise=w.ent_a),
        ("institution", "own"): A.filter(loan__institution=w.bank_a),
        ("institution", "foreign"): A.exclude(loan__institution=w.bank_a).exclude(
            institution=w.bank_a
        ),
        ("government", "own"): A.filter(programme__region_id=REGION_A),
        ("government", "foreign"): app_b
        if "objection_id" not in ctx["path"]
        else A.exclude(in_region("programme__region", REGION_A)),
        ("platform", "own"): A.all(),
    }
    if (kind, case) == ("platform", "foreign"):
        return PLATFORM_SEES_ALL
    return pick(tables[kind, case], f"{case} policy application for {kind}")


def objection(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    return pick(M.policy.Objection.objects.filter(application_id=ctx["id"]), "objection")


def notice(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    """The public 公示 takes objections from anyone: every role's "own"."""
    if case == "foreign":
        return NA("the 公示 is public")
    return pick(M.policy.Application.objects.in_notice(), "application in notice")


def draw() -> Resolver:
    B = lambda: M.policy.BridgeDraw.objects  # noqa: E731
    return by_kind(
        "bridge draw",
        enterprise_own=lambda w: B().filter(enterprise=w.ent_a),
        enterprise_foreign=lambda w: B().exclude(enterprise=w.ent_a),
        institution_own=lambda w: B().filter(loan__institution=w.bank_a),
        institution_foreign=lambda w: B().exclude(loan__institution=w.bank_a),
        government_own=lambda w: B().filter(programme__region_id=REGION_A),
        government_foreign=lambda w: B().filter(pk=w.extra["draw_b"].pk),
    )


def claim() -> Resolver:
    C = lambda: M.policy.LossClaim.objects  # noqa: E731
    return by_kind(
        "loss claim",
        enterprise_own=lambda w: C().filter(registration__loan__enterprise=w.ent_a),
        enterprise_foreign=lambda w: C().exclude(registration__loan__enterprise=w.ent_a),
        institution_own=lambda w: C().filter(registration__loan__institution=w.bank_a),
        institution_foreign=lambda w: C().exclude(registration__loan__institution=w.bank_a),
        government_own=lambda w: C().filter(registration__programme__region_id=REGION_A),
        government_foreign=lambda w: C().filter(pk=w.extra["claim_b"].pk),
    )


# -- supply chain ----------------------------------------------------------


def chain() -> Resolver:
    C = lambda: M.supplychain.Chain.objects  # noqa: E731
    mine = lambda w: C().filter(Q(lead=w.ent_a) | Q(members__enterprise=w.ent_a))  # noqa: E731
    return by_kind(
        "chain",
        enterprise_own=mine,
        enterprise_foreign=lambda w: C().filter(pk=w.extra["chain_b"].pk),
        institution_own=lambda w: C().all(),
        institution_foreign=lambda w: NA("banks see every chain (they lend by chain)"),
        government_own=lambda w: C().filter(region_id=REGION_A),
        government_foreign=lambda w: C().filter(pk=w.extra["chain_b"].pk),
    )


def chain_member(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    return pick(M.supplychain.ChainMember.objects.filter(chain_id=ctx["id"]), "chain member")


def receivable() -> Resolver:
    R = lambda: M.supplychain.Receivable.objects  # noqa: E731

    def not_a(w):
        return (
            R().exclude(creditor=w.ent_a).exclude(debtor=w.ent_a).exclude(debtor_uscc=w.ent_a.uscc)
        )

    return by_kind(
        "receivable",
        enterprise_own=lambda w: R().filter(creditor=w.ent_a),
        enterprise_foreign=not_a,
        institution_own=lambda w: R().filter(financings__bank=w.bank_a),
        institution_foreign=lambda w: (
            R().filter(creditor=w.ent_b).exclude(financings__bank=w.bank_a)
        ),
        government_own=lambda w: R().filter(creditor__region_id=REGION_A),
        government_foreign=lambda w: R().filter(creditor=w.ent_b),
    )


def financing() -> Resolver:
    F = lambda: M.supplychain.Financing.objects  # noqa: E731
    return by_kind(
        "financing",
        enterprise_own=lambda w: F().filter(receivable__creditor=w.ent_a),
        enterprise_foreign=lambda w: (
            F().exclude(receivable__creditor=w.ent_a).exclude(receivable__debtor=w.ent_a)
        ),
        institution_own=lambda w: F().filter(bank=w.bank_a),
        institution_foreign=lambda w: F().exclude(bank=w.bank_a),
        government_own=lambda w: F().filter(receivable__creditor__region_id=REGION_A),
        government_foreign=lambda w: F().filter(receivable__creditor=w.ent_b),
    )


def voucher() -> Resolver:
    V = lambda: M.supplychain.Voucher.objects  # noqa: E731
    return by_kind(
        "voucher",
        enterprise_own=lambda w: V().filter(Q(issuer=w.ent_a) | Q(holder=w.ent_a)),
        enterprise_foreign=lambda w: V().exclude(issuer=w.ent_a).exclude(holder=w.ent_a),
        institution_own=lambda w: V().filter(bank=w.bank_a),
        institution_foreign=lambda w: V().exclude(bank=w.bank_a),
        government_own=lambda w: V().filter(issuer__region_id=REGION_A),
        government_foreign=lambda w: V().filter(issuer=w.ent_b),
    )


def attachment(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    """A receivable's papers: only its parties and the banks it is offered to
    (a supervising agency and platform admins see the figures, not the papers)."""
    if case == "own" and kind in ("government", "platform"):
        return NA("receivable papers are for the parties and their banks only")
    return pick(
        M.supplychain.ReceivableAttachment.objects.filter(receivable_id=ctx["id"]), "attachment"
    )


def discount_application() -> Resolver:
    D = lambda: M.supplychain.DiscountApplication.objects  # noqa: E731
    return by_kind(
        "discount application",
        enterprise_own=lambda w: D().filter(holder=w.ent_a),
        enterprise_foreign=lambda w: D().exclude(holder=w.ent_a),
        institution_own=lambda w: D().filter(bank=w.bank_a),
        institution_foreign=lambda w: D().exclude(bank=w.bank_a),
        government_own=lambda w: D().filter(voucher__issuer__region_id=REGION_A),
        government_foreign=lambda w: D().filter(voucher__issuer=w.ent_b),
    )


# -- plain values ----------------------------------------------------------


def const(value: Any, foreign: NA | None = None) -> Resolver:
    def resolve(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
        if case == "foreign":
            return foreign or ALL_SEE_IT
        return value

    return resolve


def same(value: Any) -> Resolver:
    """A parameter that only qualifies its parent (a year, a period)."""
    return lambda w, kind, case, ctx: value


def institution(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    return w.bank_a.pk if case == "own" else ALL_SEE_IT


def indicator_code(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    if case == "foreign":
        return ALL_SEE_IT
    return M.insights.IndicatorDefinition.objects.order_by("code").values_list("code", flat=True)[0]


def region_code(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    """A region's policy weights: read by anyone signed in, set by its government."""
    if case == "own":
        return REGION_A
    if ctx["method"] == "get":
        return NA("the weights in force are public to signed-in users")
    return PLATFORM_SEES_ALL if kind == "platform" else REGION_B


def plan_year(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    """A year inside the plan's period (a year outside it is a 422 about the year)."""
    plan = M.insights.IndicatorPlan.objects.filter(pk=ctx["id"]).first()
    return plan.start_year if plan else 2025


def pilot_batch(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
    """Batches are the ministry's public calls for applications."""
    if case == "foreign":
        return ALL_SEE_IT
    return pick(M.pilots.Batch.objects.exclude(state="draft"), "pilot batch")


def green_disclosure() -> Resolver:
    """JR/T 0227 disclosures: an institution sees its own in any state, an
    agency the submitted ones of institutions present in its region,
    enterprises none. The world's demo holds none, so one is filed here for
    tenant A's bank and one for an institution present nowhere in REGION_A."""
    from chanrong.finance.models import FinancialInstitution
    from chanrong.green.models import Disclosure

    def filed(institution) -> Any:
        Disclosure.objects.get_or_create(
            institution=institution, year=2019, defaults={"state": "submitted"}
        )
        return Disclosure.objects.filter(institution=institution, year=2019)

    def elsewhere(w: AuthzWorld) -> Any:
        present = FinancialInstitution.objects.present_in(REGION_A).values("pk")
        return filed(FinancialInstitution.objects.exclude(pk__in=present).order_by("pk").first())

    return by_kind(
        "environmental disclosure",
        enterprise_foreign=lambda w: filed(w.bank_a),
        institution_own=lambda w: filed(w.bank_a),
        institution_foreign=lambda w: filed(w.bank_b),
        government_own=lambda w: filed(w.bank_a),
        government_foreign=elsewhere,
    )


def carbon_report() -> Resolver:
    """Carbon reports follow the enterprise's rule: enterprise A authorised
    bank A, enterprise B (海宁) no one in tenant A."""
    R = lambda: M.green.CarbonReport.objects  # noqa: E731
    return by_kind(
        "carbon report",
        enterprise_own=lambda w: R().filter(enterprise=w.ent_a),
        enterprise_foreign=lambda w: R().filter(enterprise=w.ent_b),
        institution_own=lambda w: R().filter(enterprise=w.ent_a),
        institution_foreign=lambda w: R().filter(enterprise=w.ent_b),
        government_own=lambda w: R().filter(enterprise=w.ent_a),
        government_foreign=lambda w: R().filter(enterprise=w.ent_b),
    )


def library_application() -> Resolver:
    """Green library applications: an enterprise's own, government's of its
    subtree or of lists its agency keeps; institutions see none (they browse
    the published library). Tenant B's is a copy of one of 嘉善's, made for
    enterprise B on a list kept by 海宁's agency."""
    A = lambda: M.green.LibraryApplication.objects  # noqa: E731

    def foreign(w: AuthzWorld) -> Any:
        # Enterprise B's application to a list kept by 海宁's agency (the demo
        # may hold one of B's to a 嘉善 list, which 嘉善's agency rightly sees).
        theirs = A().filter(enterprise=w.ent_b, green_list__agency=w.gov_b)
        if not theirs.exists():
            from .world import clone

            source = A().filter(enterprise__region_id=REGION_A, project__isnull=True).first()
            clone(source, enterprise_id=w.ent_b.pk, green_list_id=w.extra["list_b"].pk)
        return theirs

    return by_kind(
        "green library application",
        enterprise_own=lambda w: A().filter(enterprise=w.ent_a),
        enterprise_foreign=foreign,
        institution_foreign=lambda w: A().filter(enterprise=w.ent_a),
        government_own=lambda w: A().filter(enterprise__region_id=REGION_A),
        government_foreign=foreign,
    )
