"""The authorisation matrix's world: the demo county at a small scale, plus a
second tenant of each kind in another region, built once per module.

Why the demo: it already builds every resource family (demands with
dispatches and offers, products in every state, lists with versions, events,
pilot applications and reports, policy programmes with loans, applications,
draws, pool registrations and claims, supply-chain chains, receivables,
financings and vouchers) through the same models, in about two seconds at
scale 0.02. What it lacks is a second *region*: it is one county (嘉善,
330421). So region B is 海宁 (330481, a sibling county in 嘉兴):

- enterprise B is the demo's `ent2_user`'s enterprise, moved to 海宁, so
  every object the demo gave it (demands, loans, receivables …) is now a
  region-B object;
- government B is a new 海宁 agency with an admin (`gov_haining`);
- for the families government reaches by region rather than by enterprise
  (programmes and what hangs under them, events, lists, chains, indicator
  plans), one object of tenant A is copied into region B.

Bank A is the demo's 嘉善农商行 (`bank_staff`, `bank_manager`), bank B the
demo's 工商银行 (`bank2_staff`). Webhook endpoints and import jobs, which the
demo does not build, are written here for each tenant.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency, Role, User
from chanrong.accounts.services import create_token
from chanrong.demo import services as demo

REGION_A = "330421"  # 嘉善县
REGION_B = "330481"  # 海宁市 (county level, a sibling in 嘉兴)

#: The matrix's roles and the demo account that plays each (tenant A).
ROLE_USERS: dict[str, str] = {
    "enterprise_user": "ent_user",
    "institution_staff": "bank_staff",
    "institution_manager": "bank_manager",
    "gov_staff": "gov_jiashan_finance_staff",
    "gov_admin": "gov_jiashan",
    "platform_admin": "admin",
}
ROLES: tuple[str, ...] = ("anonymous", *ROLE_USERS)


def kind_of(role: str) -> str:
    """enterprise / institution / government / platform / anonymous."""
    if role.startswith("enterprise"):
        return "enterprise"
    if role.startswith("institution"):
        return "institution"
    if role.startswith("gov"):
        return "government"
    return "platform" if role == "platform_admin" else "anonymous"


@dataclass
class AuthzWorld:
    users: dict[str, User]  # every account by username (tenant A and B)
    tokens: dict[str, str]  # role -> raw bearer token
    ent_a: Any
    ent_b: Any
    bank_a: Any
    bank_b: Any
    gov_a: GovernmentAgency
    gov_b: GovernmentAgency
    #: Region-B copies and other objects the world made, by name.
    extra: dict[str, Any] = field(default_factory=dict)

    def user(self, role: str) -> User:
        return self.users[ROLE_USERS[role]]


def clone(obj: models.Model, **overrides: Any) -> models.Model:
    """A copy of `obj` with `overrides`: unique text fields get a suffix so the
    copy does not collide with its original (this is test scaffolding: the
    matrix needs an object *like* tenant A's, in tenant B's hands)."""
    model = type(obj)
    values: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.primary_key or f.name in overrides:
            continue
        value = getattr(obj, f.attname)
        if f.unique and isinstance(f, models.CharField | models.SlugField) and value:
            value = f"{value}-b"[: f.max_length]
        if f.unique and isinstance(f, models.UUIDField):
            value = uuid.uuid4()
        values[f.attname] = value
    values.update(overrides)
    copy = model(**values)
    copy.save(force_insert=True)
    return copy


def build() -> AuthzWorld:
    from chanrong.api.models import WebhookDelivery, WebhookEndpoint
    from chanrong.api.webhooks import SECRET_PURPOSE
    from chanrong.core.models import ImportJob
    from chanrong.core.secretbox import encrypt
    from chanrong.registry.models import Enterprise

    demo.build_demo(seed=7, scale=0.02)
    users = {u.username: u for u in User.objects.select_related("enterprise", "institution")}
    ent_a = users["ent_user"].enterprise
    ent_b = users["ent2_user"].enterprise
    Enterprise.objects.filter(pk=ent_b.pk).update(region_id=REGION_B)
    ent_b.refresh_from_db()
    gov_a = users["gov_jiashan"].agency
    gov_b = GovernmentAgency.objects.create(
        name="海宁市经济和信息化局",
        level=AgencyLevel.COUNTY,
        function=AgencyFunction.INDUSTRY,
        region_id=REGION_B,
    )
    users["gov_haining"] = User.objects.create(
        username="gov_haining", role=Role.GOV_ADMIN, agency=gov_b, display_name="gov_haining"
    )
    world = AuthzWorld(
        users=users,
        tokens={},
        ent_a=ent_a,
        ent_b=ent_b,
        bank_a=users["bank_staff"].institution,
        bank_b=users["bank2_staff"].institution,
        gov_a=gov_a,
        gov_b=gov_b,
    )
    _region_b_copies(world)
    _tenant_objects(world)
    _policy_objects(world)
    for bank in (world.bank_a, world.bank_b):
        endpoint = WebhookEndpoint.objects.create(
            institution=bank,
            url="https://bank.example.com/hook",
            secret_encrypted=encrypt("s" * 32, purpose=SECRET_PURPOSE),
            secret_hint="ssss",
            events=["demand.dispatched"],
        )
        world.extra[f"webhook:{bank.pk}"] = endpoint
        world.extra[f"delivery:{bank.pk}"] = WebhookDelivery.objects.create(
            endpoint=endpoint, event="demand.dispatched", payload={"id": 1}
        )
    for username in [*ROLE_USERS.values(), "gov_haining"]:
        world.extra[f"import:{username}"] = ImportJob.objects.create(
            kind="enterprises",
            created_by=users[username],
            filename="名录.xlsx",
            status="done",
            stage="finished",
        )
    world.tokens = {
        role: create_token(None, users[username], "authz-matrix").raw
        for role, username in ROLE_USERS.items()
    }
    return world


def _region_b_copies(w: AuthzWorld) -> None:
    """One object of each region-keyed family in region B (see the module docstring)."""
    from chanrong.events.models import Event, EventStatus
    from chanrong.insights.models import IndicatorPlan
    from chanrong.policy.models import (
        Application,
        BridgeDraw,
        LossClaim,
        Pool,
        PoolRegistration,
        Programme,
        ProgrammeState,
    )
    from chanrong.registry.models import EnterpriseList, ListEntry, ListVersion
    from chanrong.supplychain.models import Chain, ChainMember

    b = {"region_id": REGION_B}
    x = w.extra
    # Programmes: a draft (invisible outside its region), and published copies
    # of the kinds that carry draws, pool registrations and applications.
    source = Programme.objects.filter(region_id=REGION_A).order_by("pk").first()
    x["programme_b_draft"] = clone(source, agency_id=w.gov_b.pk, state=ProgrammeState.DRAFT, **b)
    draw = BridgeDraw.objects.order_by("pk").first()
    if draw is not None:
        prog = clone(draw.programme, agency_id=w.gov_b.pk, **b)
        if (pool := Pool.objects.filter(programme=draw.programme).first()) is not None:
            clone(pool, programme_id=prog.pk)
        x["draw_b"] = clone(draw, programme_id=prog.pk, enterprise_id=w.ent_b.pk)
        x["pool_programme_b"] = prog
    registration = (
        PoolRegistration.objects.filter(claims__isnull=False).order_by("pk").first()
        or PoolRegistration.objects.order_by("pk").first()
    )
    if registration is not None:
        prog = clone(registration.programme, agency_id=w.gov_b.pk, **b)
        if (pool := Pool.objects.filter(programme=registration.programme).first()) is not None:
            clone(pool, programme_id=prog.pk)
        x["registration_b"] = reg = clone(registration, programme_id=prog.pk)
        if (claim := LossClaim.objects.filter(registration=registration).first()) is not None:
            x["claim_b"] = clone(claim, registration_id=reg.pk)
    application = Application.objects.filter(programme__region_id=REGION_A).order_by("pk").first()
    prog = clone(application.programme, agency_id=w.gov_b.pk, **b)
    x["application_b"] = clone(application, programme_id=prog.pk, enterprise_id=w.ent_b.pk)
    x["programme_b"] = prog
    # A progress report and a document on a pilot application outside 嘉善.
    from chanrong.pilots.models import Application as PilotApplication
    from chanrong.pilots.models import Document, ProgressReport

    pilot = (
        PilotApplication.objects.exclude(region_id=REGION_A)
        .exclude(review_region_id=REGION_A)
        .exclude(state="draft")
        .order_by("pk")
        .first()
    )
    if not ProgressReport.objects.filter(application=pilot).exists():
        clone(ProgressReport.objects.order_by("pk").first(), application_id=pilot.pk)
    if not Document.objects.filter(application=pilot).exists():
        clone(Document.objects.filter(application__isnull=False).first(), application_id=pilot.pk)
    # An event held in region B, announced but not open to all.
    event = Event.objects.exclude(status=EventStatus.DRAFT).order_by("pk").first()
    x["event_b"] = clone(event, organiser_id=w.gov_b.pk, is_open=False, **b)
    # A list kept by government B with one draft version and one entry.
    lst = EnterpriseList.objects.filter(region_id=REGION_A).order_by("pk").first()
    x["list_b"] = lst_b = clone(lst, agency_id=w.gov_b.pk, **b)
    version = ListVersion.objects.filter(list=lst).order_by("number").first()
    version_b = clone(version, list_id=lst_b.pk, status="draft")
    entry = ListEntry.objects.filter(version=version).order_by("pk").first()
    if entry is not None:
        clone(entry, version_id=version_b.pk, enterprise_id=w.ent_b.pk, project_id=None)
    # A chain of region B led by enterprise B, with one member.
    chain = Chain.objects.order_by("pk").first()
    x["chain_b"] = chain_b = clone(chain, lead_id=w.ent_b.pk, agency_id=w.gov_b.pk, **b)
    member = ChainMember.objects.filter(chain=chain).order_by("pk").first()
    clone(member, chain_id=chain_b.pk, enterprise_id=w.ent_b.pk)
    plan = IndicatorPlan.objects.order_by("pk").first()
    x["plan_b"] = clone(plan, **b)


def _tenant_objects(w: AuthzWorld) -> None:
    """Whatever the demo did not give enterprise B or bank B (or A), copied
    from a tenant-A object: every family needs an own and a foreign object."""
    from django.core.files.base import ContentFile

    from chanrong.demands.models import Demand
    from chanrong.finance.models import Product
    from chanrong.registry.models import DataAuthorisation, Project, Qualification
    from chanrong.supplychain.models import Financing, Receivable, Voucher

    DataAuthorisation.objects.get_or_create(enterprise=w.ent_a, institution=w.bank_a)
    DataAuthorisation.objects.filter(enterprise=w.ent_b, institution=w.bank_a).delete()
    x = w.extra

    def ensure(qs, source, **overrides):
        if not qs.exists():
            clone(source.order_by("pk").first(), **overrides)
        return qs.order_by("pk").first()

    # A demand of enterprise B that was never dispatched to bank A.
    source = Demand.objects.exclude(state="draft").order_by("pk")
    x["demand_b"] = clone(source.first(), enterprise_id=w.ent_b.pk)
    ensure(
        Product.objects.filter(institution=w.bank_b, state="draft"),
        Product.objects.filter(institution=w.bank_b),
        state="draft",
    )
    for ent, region in ((w.ent_a, REGION_A), (w.ent_b, REGION_B)):
        ensure(
            Project.objects.filter(owner=ent), Project.objects, owner_id=ent.pk, region_id=region
        )
        ensure(
            Qualification.objects.filter(enterprise=ent),
            Qualification.objects,
            enterprise_id=ent.pk,
        )
    receivable_b = ensure(
        Receivable.objects.filter(creditor=w.ent_b), Receivable.objects, creditor_id=w.ent_b.pk
    )
    ensure(
        Financing.objects.filter(receivable__creditor=w.ent_b),
        Financing.objects,
        receivable_id=receivable_b.pk,
        bank_id=w.bank_b.pk,
    )
    voucher_b = ensure(
        Voucher.objects.filter(issuer=w.ent_b),
        Voucher.objects.filter(parent__isnull=True),
        receivable_id=receivable_b.pk,
        issuer_id=w.ent_b.pk,
        holder_id=w.ent_b.pk,
        bank_id=None,
        root_id=None,
        parent_id=None,
    )
    _risk_loans(w)
    _risk_consultations(w)
    try:
        from chanrong.supplychain.models.attachments import ReceivableAttachment
        from chanrong.supplychain.models.discounts import DiscountApplication
    except ImportError:  # pragma: no cover - an older tree
        return
    for receivable in Receivable.objects.all():
        ReceivableAttachment.objects.create(
            receivable=receivable,
            kind="contract",
            file=ContentFile(b"%PDF-1.4\n%%EOF\n", name=f"{uuid.uuid4().hex}.pdf"),
            original_name="合同.pdf",
            file_type="pdf",
            size=15,
            sha256="0" * 64,
        )
    voucher_a = Voucher.objects.filter(holder=w.ent_a).order_by("pk").first()
    for voucher, holder, bank in ((voucher_a, w.ent_a, w.bank_a), (voucher_b, w.ent_b, w.bank_b)):
        if voucher is not None:
            DiscountApplication.objects.create(
                voucher=voucher, holder=holder, bank=bank, amount=voucher.amount
            )


def _policy_objects(w: AuthzWorld) -> None:
    """Tenant A's own policy objects the demo may not have made: a loan from
    bank A to enterprise A, a bridge draw and a pool registration with a
    claim on it, an application of enterprise A with an objection; an
    objection on region B's application; one announced open event."""
    from chanrong.events.models import Event, EventStatus
    from chanrong.policy.models import (
        Application,
        BridgeDraw,
        Loan,
        LossClaim,
        Objection,
        PoolRegistration,
    )

    loan = Loan.objects.filter(enterprise=w.ent_a, institution=w.bank_a).order_by("pk").first()
    if loan is None:
        loan = clone(
            Loan.objects.order_by("pk").first(),
            enterprise_id=w.ent_a.pk,
            institution_id=w.bank_a.pk,
        )
    if not BridgeDraw.objects.filter(enterprise=w.ent_a, loan__institution=w.bank_a).exists():
        clone(BridgeDraw.objects.order_by("pk").first(), enterprise_id=w.ent_a.pk, loan_id=loan.pk)
    if not LossClaim.objects.filter(registration__loan=loan).exists():
        claim = LossClaim.objects.order_by("pk").first()
        registration = PoolRegistration.objects.filter(loan=loan).first() or clone(
            claim.registration, loan_id=loan.pk
        )
        clone(claim, registration_id=registration.pk)
    objection = Objection.objects.order_by("pk").first()
    application = Application.objects.filter(enterprise=w.ent_a, loan=loan).first()
    if application is None:
        application = clone(
            Application.objects.filter(programme__region_id=REGION_A).order_by("pk").first(),
            enterprise_id=w.ent_a.pk,
            loan_id=loan.pk,
            institution_id=w.bank_a.pk,
        )
    clone(objection, application_id=application.pk)
    clone(objection, application_id=w.extra["application_b"].pk)
    if not Event.objects.filter(
        status=EventStatus.PUBLISHED, is_open=True, region_id=REGION_A
    ).exists():
        event = Event.objects.filter(status=EventStatus.PUBLISHED, region_id=REGION_A).first()
        Event.objects.filter(pk=event.pk).update(is_open=True)


def _risk_scorecard(w: AuthzWorld) -> None:
    """A live scorecard version (an empty points table) and a score of each
    tenant's enterprise under it."""
    import datetime as dt

    try:
        from chanrong.risk.models import EnterpriseScore, ModelVersion
    except ImportError:  # pragma: no cover - a tree without the risk app
        return
    version = ModelVersion.objects.filter(status="live").first()
    if version is None:
        version = ModelVersion.objects.create(
            number=9001,
            as_of=dt.date(2026, 1, 5),
            status="live",
            table={"features": []},
            metrics={"test": {"auc": 0.72, "ks": 0.3, "gini": 0.44, "n": 100}},
        )
    for ent in (w.ent_a, w.ent_b):
        EnterpriseScore.objects.get_or_create(
            enterprise=ent,
            version=version,
            as_of=dt.date(2026, 1, 5),
            defaults={"score": 600.0, "probability": 0.05, "reasons": []},
        )


def _risk_loans(w: AuthzWorld) -> None:
    """One loan-book account per tenant pair (A: bank A to enterprise A; B:
    bank B to B); and the scorecard's version and scores."""
    _risk_scorecard(w)
    import datetime as dt
    from decimal import Decimal

    try:
        from chanrong.risk.models import LoanAccount
    except ImportError:  # pragma: no cover - a tree without the risk app
        return
    for ent, bank in ((w.ent_a, w.bank_a), (w.ent_b, w.bank_b)):
        if not LoanAccount.objects.filter(enterprise=ent, institution=bank).exists():
            LoanAccount.objects.create(
                enterprise=ent,
                institution=bank,
                source="reported",
                principal=Decimal("1000000.00"),
                outstanding=Decimal("1000000.00"),
                disbursed_on=dt.date(2026, 1, 5),
                maturity_on=dt.date(2027, 1, 5),
            )


def _risk_consultations(w: AuthzWorld) -> None:
    """One 抽贷断贷会商 per tenant about its loan, asked by its bank, which
    takes part (A: bank A about enterprise A; B: bank B about B)."""
    import datetime as dt

    try:
        from chanrong.risk.models import Consultation, LoanAccount
    except ImportError:  # pragma: no cover - a tree without the risk app
        return
    for ent, bank in ((w.ent_a, w.bank_a), (w.ent_b, w.bank_b)):
        if Consultation.objects.filter(enterprise=ent, requesting_institution=bank).exists():
            continue
        c = Consultation.objects.create(
            enterprise=ent,
            kind="cut",
            reason="拟压降授信",
            requesting_institution=bank,
            requested_on=dt.date(2026, 3, 2),
        )
        c.loans.set(LoanAccount.objects.filter(enterprise=ent, institution=bank))
        c.participants.create(institution=bank)
