"""The builder's state (World) and its set-up: named users, 三类企业 designations, bank actors, programmes."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from chanrong.accounts.models import Role, User
from chanrong.finance.models import FinancialInstitution, InstitutionKind
from chanrong.finance.services import enterprise_facts
from chanrong.matching.adapter import enterprise_facts_bulk
from chanrong.policy import services
from chanrong.policy.models import (
    Loan,
    Programme,
)
from chanrong.registry.models import Enterprise, Qualification

from ..base import DemoContext, bulk_set
from .common import (
    DEMO_BANK_USERS,
    ENT2_USER,
    ENT_USER,
    FINANCE_ADMIN,
    FINANCE_STAFF,
    HISTORY_DAYS,
    INDUSTRY_ADMIN,
    JIASHAN,
)
from .programmes import Spec, programme_specs

# --- the world ---------------------------------------------------------------------------


@dataclass
class World:
    ctx: DemoContext
    rng: random.Random
    today: date
    users: dict[str, User]
    bank_users: dict[int, User] = field(default_factory=dict)
    programmes: dict[str, Programme] = field(default_factory=dict)
    specs: dict[str, Spec] = field(default_factory=dict)
    loans: list[Loan] = field(default_factory=list)
    enterprises: dict[int, Enterprise] = field(default_factory=dict)
    facts: dict[int, object] = field(default_factory=dict)
    project_class: dict[int, str] = field(default_factory=dict)
    contract_seq: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    #: Enterprises the showcase has given a loan to.
    showcased: set[int] = field(default_factory=set)
    #: Budget years the showcase's services moved (their running balances are redone by date).
    touched_budgets: set[int] = field(default_factory=set)
    lpr_tables: dict[str, list] = field(default_factory=dict)
    #: The county whose programmes these are, and how far back their history goes.
    region: str = JIASHAN
    history_days: int = HISTORY_DAYS
    voucher_prefix: str = "善财国库支"  # the county treasury's payment vouchers
    #: A closed earlier round (嘉善's 2020–2023): no platform loans (the current
    #: round has them), at least this many bank-reported ones, and only
    #: applications that were settled (paid, rejected, withdrawn) by its end.
    platform_loans: bool = True
    min_loans: int = 12
    settled_only: bool = False

    @property
    def first_day(self) -> date:
        return self.today - timedelta(days=self.history_days)

    def user(self, name: str) -> User:
        return self.users[name]

    def learn(self, enterprise_ids) -> None:
        """Load enterprises and their facts in bulk (the matching adapter's
        mirror of registry.services.eligibility_facts: a few queries in all)."""
        ids = sorted(set(enterprise_ids) - set(self.facts))
        if not ids:
            return
        for enterprise in Enterprise.objects.filter(pk__in=ids).select_related(
            "region", "industry"
        ):
            self.enterprises.setdefault(enterprise.pk, enterprise)
        facts = enterprise_facts_bulk([(pk, self.today) for pk in ids])
        self.facts.update(zip(ids, facts, strict=True))

    def know(self, enterprise_id: int) -> Enterprise:
        """The enterprise and its eligibility facts as of the build day, loaded once."""
        if enterprise_id not in self.enterprises:
            self.enterprises[enterprise_id] = Enterprise.objects.select_related(
                "region", "industry"
            ).get(pk=enterprise_id)
        if enterprise_id not in self.facts:
            self.facts[enterprise_id] = enterprise_facts(
                self.enterprises[enterprise_id], today=self.today
            )
        return self.enterprises[enterprise_id]

    def contract_no(self, institution: FinancialInstitution, year: int) -> str:
        self.contract_seq[institution.pk] += 1
        prefix = institution.uscc[-6:-1]
        return f"{prefix}-{year}-{self.contract_seq[institution.pk]:05d}"


def _named_users() -> list[str]:
    return [
        FINANCE_ADMIN,
        FINANCE_STAFF,
        INDUSTRY_ADMIN,
        ENT_USER,
        ENT2_USER,
        *DEMO_BANK_USERS.values(),
    ]


def _designate_classes(world: World) -> None:
    """重庆's "三类企业" as a county keeps them: 专精特新 → 专精特新 class,
    高新技术 → 战略性新兴 class, and some 规上 manufacturers with a good tax
    grade → the "四有" class. The demo registry leaves the class empty."""
    rng = world.rng
    day = world.today
    kinds: dict[int, set[str]] = defaultdict(set)
    for enterprise_id, kind in (
        Qualification.objects.active_on(day)
        .filter(enterprise__region_id=world.region)
        .values_list("enterprise_id", "kind")
    ):
        kinds[enterprise_id].add(kind)
    changed = []
    for enterprise in Enterprise.objects.filter(
        region_id=world.region, industry__code__startswith="C"
    ).order_by("uscc"):
        held = kinds.get(enterprise.pk, set())
        if held & {"specialised_sme", "little_giant"}:
            enterprise.chongqing_class = "specialised"
        elif "high_tech" in held and rng.random() < 0.7:
            enterprise.chongqing_class = "strategic"
        elif enterprise.tax_grade == "A" and rng.random() < 0.3:
            enterprise.chongqing_class = "market"
        else:
            continue
        changed.append(enterprise)
    bulk_set(Enterprise, changed, ["chongqing_class"], batch_size=2000)
    world.ctx.counts["policy_class_designations"] = len(changed)


def _bank_users(world: World) -> None:
    """An actor per bank lending in 嘉善: the demo accounts for 嘉善农商行 and
    工商银行, a `policy_<key>` staff user for every other bank."""
    from ..organisations import INSTITUTIONS

    institutions = world.ctx.refs["institutions"]
    branches = world.ctx.refs["county_branches"]
    created = []
    for spec in INSTITUTIONS:
        if spec.kind != InstitutionKind.BANK:
            continue
        institution = institutions[spec.key]
        if spec.key in DEMO_BANK_USERS:
            world.bank_users[institution.pk] = world.user(DEMO_BANK_USERS[spec.key])
            continue
        user = User(
            username=f"policy_{spec.key}",
            display_name=f"{spec.short_name}嘉善信贷员",
            role=Role.INSTITUTION_STAFF,
            institution=institution,
            branch=(branches.get(spec.key) or [None])[0],
            password=world.ctx.password_hash,
            is_active=True,
        )
        created.append(user)
        world.bank_users[institution.pk] = user
    User.objects.bulk_create(created)
    world.ctx.counts["users"] = world.ctx.counts.get("users", 0) + len(created)


def _create_programmes(world: World, specs: list[Spec] | None = None) -> None:
    for spec in specs if specs is not None else programme_specs(world.today):
        programme = services.create_programme(
            world.user(spec.owner),
            {
                "kind": spec.kind,
                "name": spec.name,
                "basis": spec.basis,
                "summary": spec.summary,
                "starts_on": spec.starts_on,
                "ends_on": spec.ends_on,
                "params": spec.params,
                "eligibility": spec.eligibility,
                "requires_bank_confirmation": spec.requires_bank_confirmation,
                "auto_apply": spec.auto_apply,
                "notice_days": spec.notice_days,
            },
        )
        world.programmes[spec.key] = programme
        world.specs[spec.key] = spec
