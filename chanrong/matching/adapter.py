"""The database adapter of the matching engine: model rows in, engine tables out.

The engine (`engine.py`, `features.py`) never touches the ORM; this module
reads the other apps' tables with a handful of bulk queries (values_list over
all rows, never one query per product or per enterprise) and builds:

* `product_table()` — every live (published) product, with its institution's
  service record: approval rate by enterprise size from past dispatch
  outcomes, deadline compliance, and the branch regions used for "本地有服务
  网点". Cached per process under a cheap version key (count, max id and
  max updated_at of products and branches) and refreshed at least every
  `SERVICE_TTL` seconds, so online ranking does not reload 20,000 products
  per request.
* `demand_table()` / `enterprise_table()` — the facts of demands and of
  enterprises (registry: tax grade, active qualifications, lists in force,
  失信黑名单, founding date, revenue; demand: kind, amount, term, rate,
  collateral), as of a day or, for training, as of each demand's own day.

`enterprise_facts_bulk` mirrors `registry.services.eligibility_facts` for
many enterprises at once; tests/matching/test_adapter.py holds the two equal.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from django.conf import settings
from django.db import connections, router
from django.db.models import Count, F, Lookup, Q
from django.utils import timezone

from chanrong.core.lookups import PlannedQuery
from chanrong.demands.models import Demand, DemandState, Dispatch, DispatchState
from chanrong.finance import carbon, supply
from chanrong.finance import eligibility as el
from chanrong.finance.models import Branch, FinancialInstitution, Product, ProductState
from chanrong.finance.services import ConditionsBuilder
from chanrong.registry.models import (
    Enterprise,
    FactStatus,
    ListEntry,
    ListSector,
    ListType,
    Qualification,
    VersionStatus,
)
from chanrong.registry.models.lists import received_label

from .features import SIZES, FactTable, ProductTable
from .models import PolicyWeights

#: Dispatch outcomes that count for an institution's approval rate.
APPROVED = (DispatchState.GRANTED, DispatchState.DISBURSED)
DECLINED = (DispatchState.REJECTED, DispatchState.DECLINED, DispatchState.EXPIRED)
#: Demands still looking for money (ranked for institutions, re-matched in batch).
OPEN_STATES = (
    DemandState.PUBLISHED,
    DemandState.DISPATCHED,
    DemandState.CLAIMED,
    DemandState.NEGOTIATING,
    DemandState.EXPIRED,
)
#: Lists whose members an institution may approach unasked (白名单 / 融资信息清单).
WHITE_LIST_TYPES = (
    ListType.KEY_ENTERPRISES,
    ListType.FINANCING_KEY,
    ListType.FINANCING_MILITARY_CIVIL,
    ListType.FINANCING_TECH_SME,
)
#: Pseudo-observations pulling a small sample towards the wider rate.
SMOOTHING = 5.0
SERVICE_TTL = 300.0
CHUNK = 5000


def _chunks(values: Sequence, size: int = CHUNK):
    for i in range(0, len(values), size):
        yield values[i : i + size]


class AnyOf(Lookup):
    """`column = ANY(%s)` with the whole id set as ONE array parameter
    (PostgreSQL): the statement's text does not grow with the set, so psycopg
    has one placeholder to split, not thousands, and the database gets the
    same ScalarArrayOp as from a literal IN list."""

    lookup_name = "any_of"
    prepare_rhs = False
    can_use_none_as_rhs = False

    def get_prep_lookup(self):
        return [int(v) for v in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", (*params, self.rhs)


def uses_arrays(model) -> bool:
    """Whether `model`'s database takes an id set as one array parameter."""
    return connections[router.db_for_read(model)].vendor == "postgresql"


def by_ids(queryset, field: str, ids: Sequence[int]):
    """`queryset` narrowed to rows whose `field` is in `ids`, as a list of
    querysets to read in turn: one statement with an array parameter on
    PostgreSQL, literal IN lists of CHUNK ids elsewhere (SQLite)."""
    ids = list(ids)
    if not ids:
        return []
    if uses_arrays(queryset.model):
        return [queryset.filter(AnyOf(F(field), ids))]
    return [queryset.filter(**{f"{field}__in": chunk}) for chunk in _chunks(ids)]


# --- the institutions' service record -----------------------------------------------------


@dataclass(frozen=True)
class ServiceRecord:
    """Per institution: approval rate by size (len(SIZES) + 1; last = all sizes)
    and share of dispatches answered within the claim deadline. Institutions
    without history get the platform-wide rates."""

    approval: dict[int, np.ndarray]
    deadline: dict[int, float]
    default_approval: np.ndarray
    default_deadline: float

    def approval_for(self, institution_id: int) -> np.ndarray:
        return self.approval.get(institution_id, self.default_approval)

    def deadline_for(self, institution_id: int) -> float:
        return self.deadline.get(institution_id, self.default_deadline)


def service_record(*, before: datetime | None = None) -> ServiceRecord:
    """From the dispatch history (dispatched before `before`, when given):
    two aggregate queries, whatever the number of dispatches."""
    dispatches = Dispatch.objects.all()
    if before is not None:
        dispatches = dispatches.filter(dispatched_at__lt=before)
    outcome = (
        dispatches.filter(state__in=APPROVED + DECLINED)
        .values_list("institution_id", "demand__enterprise__size")
        .annotate(
            pos=Count("pk", filter=Q(state__in=APPROVED)),
            n=Count("pk"),
        )
        .order_by()
    )
    pos_by: dict[int, np.ndarray] = defaultdict(lambda: np.zeros(len(SIZES) + 1))
    n_by: dict[int, np.ndarray] = defaultdict(lambda: np.zeros(len(SIZES) + 1))
    for institution_id, size, pos, n in outcome:
        column = SIZES.get(size or "", len(SIZES))
        pos_by[institution_id][column] += pos
        n_by[institution_id][column] += n
    total_pos = sum((v.sum() for v in pos_by.values()), 0.0)
    total_n = sum((v.sum() for v in n_by.values()), 0.0)
    platform = (total_pos + SMOOTHING * 0.5) / (total_n + SMOOTHING)
    approval: dict[int, np.ndarray] = {}
    for institution_id in sorted(n_by):
        pos, n = pos_by[institution_id], n_by[institution_id]
        overall = (pos.sum() + SMOOTHING * platform) / (n.sum() + SMOOTHING)
        rates = (pos + SMOOTHING * overall) / (n + SMOOTHING)
        rates[len(SIZES)] = overall
        approval[institution_id] = rates

    answered = Q(claimed_at__isnull=False) | Q(decided_at__isnull=False)
    on_time = Q(claimed_at__isnull=False, claimed_at__lte=F("claim_due_at")) | Q(
        claimed_at__isnull=True, decided_at__isnull=False, decided_at__lte=F("claim_due_at")
    )
    timing = (
        dispatches.filter(answered | Q(state=DispatchState.EXPIRED))
        .values_list("institution_id")
        .annotate(ok=Count("pk", filter=on_time), n=Count("pk"))
        .order_by()
    )
    rows = list(timing)
    all_ok = sum(r[1] for r in rows)
    all_n = sum(r[2] for r in rows)
    platform_deadline = (all_ok + SMOOTHING * 0.5) / (all_n + SMOOTHING)
    deadline = {
        institution_id: (ok + SMOOTHING * platform_deadline) / (n + SMOOTHING)
        for institution_id, ok, n in rows
    }
    return ServiceRecord(
        approval=approval,
        deadline=deadline,
        default_approval=np.full(len(SIZES) + 1, platform),
        default_deadline=platform_deadline,
    )


def branch_prefixes() -> dict[int, tuple[str, ...]]:
    """{institution pk: region prefixes of its branches and head office}."""
    out: dict[int, set[str]] = defaultdict(set)
    for institution_id, prefix in Branch.objects.values_list("institution_id", "region__prefix"):
        if prefix:
            out[institution_id].add(prefix)
    for institution_id, prefix in FinancialInstitution.objects.values_list("pk", "region__prefix"):
        if prefix:
            out[institution_id].add(prefix)
    return {k: tuple(sorted(v)) for k, v in out.items()}


# --- products --------------------------------------------------------------------------------


def build_product_table(
    products: Iterable[Product] | None = None, *, record: ServiceRecord | None = None
) -> ProductTable:
    """A ProductTable over `products` (default: every published product), in pk order."""
    if products is None:
        products = Product.objects.filter(state=ProductState.PUBLISHED)
    products = sorted(products, key=lambda p: p.pk)
    builder = ConditionsBuilder(products)
    record = record or service_record()
    branches = branch_prefixes()
    institution_ids = [p.institution_id for p in products]
    approval = np.array(
        [record.approval_for(i) for i in institution_ids], dtype=np.float64
    ).reshape(len(products), len(SIZES) + 1)
    deadline = np.array([record.deadline_for(i) for i in institution_ids], dtype=np.float64)
    return ProductTable.from_conditions(
        [p.pk for p in products],
        [builder.build(p) for p in products],
        approval_rate=approval,
        deadline_rate=deadline,
        branch_regions=[branches.get(i, ()) for i in institution_ids],
        institution_ids=institution_ids,
    )


@dataclass(frozen=True)
class TableVersions:
    """What the per-process caches of a ranking are keyed by, read together."""

    #: The product table's (`product_version`).
    products: tuple
    #: The policy weights' (`policy.weights_in_force`): count, max id and max
    #: updated_at of matching_policyweights. Every set_weights saves the row
    #: (auto_now bumps updated_at), clear_weights deletes it (the count or
    #: the max id drops; a row added again in its place has a newer updated_at).
    weights: tuple


def table_versions() -> TableVersions:
    """The product table's version and the policy weights' in ONE statement,
    written out: it runs on every ranking (each publish), and the ORM would
    compile three aggregates each time.

    The product version changes whenever a product or a branch is added,
    edited, published or withdrawn (every save bumps updated_at), or the
    quoted LPR changes. Compared for equality only (SQLite gives the
    timestamps as text)."""
    product, branch, weights = Product._meta, Branch._meta, PolicyWeights._meta
    alias = router.db_for_read(Product)
    quote = connections[alias].ops.quote_name
    sql = (
        "SELECT p.n, p.top, p.at, b.n, b.top, w.n, w.top, w.at FROM "  # noqa: S608 - no user input
        f"(SELECT COUNT(*) AS n, MAX({quote(product.pk.column)}) AS top, "
        f"MAX({quote(product.get_field('updated_at').column)}) AS at "
        f"FROM {quote(product.db_table)}) p CROSS JOIN "
        f"(SELECT COUNT(*) AS n, MAX({quote(branch.pk.column)}) AS top "
        f"FROM {quote(branch.db_table)}) b CROSS JOIN "
        f"(SELECT COUNT(*) AS n, MAX({quote(weights.pk.column)}) AS top, "
        f"MAX({quote(weights.get_field('updated_at').column)}) AS at "
        f"FROM {quote(weights.db_table)}) w"
    )
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        row = tuple(cursor.fetchone())
    lpr = (getattr(settings, "CHANRONG_LPR_1Y", None), getattr(settings, "CHANRONG_LPR_5Y", None))
    return TableVersions(products=(*row[:5], lpr), weights=row[5:])


def product_version() -> tuple:
    """The product table's version (see `table_versions`)."""
    return table_versions().products


_cache_lock = threading.Lock()
_cache: dict[str, object] = {}


def product_table(*, refresh: bool = False, version: tuple | None = None) -> ProductTable:
    """The live products as a ProductTable, cached per process. One aggregate
    query per call checks the version (or `version`, the `products` of a
    `table_versions()` the caller has just read); the service record is
    recomputed at most every SERVICE_TTL seconds (outcomes trickle in,
    products do not)."""
    if version is None:
        version = product_version()
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get("products")
        if (
            not refresh
            and hit is not None
            and hit[0] == version
            and now - hit[1] < SERVICE_TTL
            and hit[3] == _db_alias_token()
        ):
            return hit[2]
    table = build_product_table()
    with _cache_lock:
        _cache["products"] = (version, now, table, _db_alias_token())
    return table


def _db_alias_token() -> str:
    """Tests swap databases under one process: key the cache by the DB name too."""
    from django.db import connection

    return str(connection.settings_dict.get("NAME"))


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# --- enterprises and demands -----------------------------------------------------------


@dataclass(frozen=True)
class _Membership:
    list_type: str
    sector: str
    starts: date
    ends: date | None
    list_id: int
    list_name: str
    #: "" for this deployment's own lists; else the received list's label
    #: with its provenance (registry.models.lists.received_label).
    source_label: str = ""

    def in_force(self, day: date) -> bool:
        return self.starts <= day and (self.ends is None or day <= self.ends)


_MEMBERSHIP_FIELDS = (
    "enterprise_id",
    "version__list__list_type",
    "version__list__sector",
    "version__effective_from",
    "version__effective_until",
    "version__list_id",
    "version__list__name",
    "version__list__source_deployment",
    "version__list__source_ref",
    "version__source_number",
    "version__number",
)


def _membership_entries():
    return ListEntry.objects.members().filter(
        version__status=VersionStatus.PUBLISHED,
        version__effective_from__isnull=False,
        project__isnull=True,
    )


def _membership_rows(ids: Sequence[int]) -> list:
    """Querysets of the list memberships of `ids` (see `by_ids`)."""
    return [
        part.values_list(*_MEMBERSHIP_FIELDS)
        for part in by_ids(_membership_entries(), "enterprise_id", ids)
    ]


#: One enterprise's memberships (each publish), compiled once: see core.lookups.PlannedQuery.
_one_membership = PlannedQuery(
    lambda _context, eid: (
        _membership_entries().filter(enterprise_id=eid).values_list(*_MEMBERSHIP_FIELDS)
    ),
)


def _memberships(enterprise_ids: Sequence[int]) -> dict[int, list[_Membership]]:
    out: dict[int, list[_Membership]] = defaultdict(list)
    ids = list(enterprise_ids)
    parts = [_one_membership.rows("one", None, ids[0])] if len(ids) == 1 else _membership_rows(ids)
    for rows in parts:
        for eid, list_type, sector, starts, ends, list_id, name, *source in rows:
            deployment, ref, source_number, number = source
            label = (
                received_label(deployment, list_type, name, source_number or number, starts)
                if ref
                else ""
            )
            out[eid].append(_Membership(list_type, sector, starts, ends, list_id, name, label))
    return out


_QUALIFICATION_FIELDS = ("enterprise_id", "kind", "valid_from", "valid_until", "status")


def _qualification_rows(ids: Sequence[int]) -> list:
    return [
        part.values_list(*_QUALIFICATION_FIELDS)
        for part in by_ids(
            # In key order, not the model's (its enterprise's name): that
            # joined every enterprise in the registry to sort a few hundred
            # rows (45 ms of the 派单工作台 at scale 10).
            Qualification.objects.counting().order_by("enterprise_id", "kind", "-valid_from"),
            "enterprise_id",
            ids,
        )
    ]


_one_qualification = PlannedQuery(
    lambda _context, eid: (
        Qualification.objects.counting()
        .filter(enterprise_id=eid)
        .order_by("kind", "-valid_from")
        .values_list(*_QUALIFICATION_FIELDS)
    ),
)


def _qualifications(
    enterprise_ids: Sequence[int],
) -> dict[int, list[tuple[str, date, date | None, bool]]]:
    """(kind, valid from, valid until, verified) per enterprise; rejected
    ones are left out (they count nowhere)."""
    out: dict[int, list] = defaultdict(list)
    ids = list(enterprise_ids)
    parts = (
        [_one_qualification.rows("one", None, ids[0])]
        if len(ids) == 1
        else _qualification_rows(ids)
    )
    for rows in parts:
        for eid, kind, start, until, status in rows:
            out[eid].append((kind, start, until, status == FactStatus.VERIFIED))
    return out


def _list_codes(
    memberships: Iterable[_Membership], day: date
) -> tuple[frozenset[str], bool, tuple[str, ...]]:
    """Same codes as registry.services.eligibility_facts (with the received
    黑名单 that apply, named with their source)."""
    lists: set[str] = set()
    blacklisted = False
    sources: list[str] = []
    for m in memberships:
        if not m.in_force(day):
            continue
        lists.add(m.list_type)
        if m.list_type == ListType.KEY_ENTERPRISES:
            lists |= {"white_list", "key_enterprise"}
            if m.sector == ListSector.MANUFACTURING:
                lists.add("manufacturing_white_list")
        elif m.list_type == ListType.RED:
            lists.add("red_list")
        elif m.list_type == ListType.BLACK:
            blacklisted = True
            if m.source_label:
                sources.append(m.source_label)
    return frozenset(lists), blacklisted, tuple(sources)


_ENTERPRISE_FIELDS = (
    "pk",
    "region_id",
    "region__name",
    "industry_id",
    "industry__name",
    "size",
    "revenue",
    "founded_on",
    "tax_grade",
    "figures_status",
)


def _enterprise_rows(ids: Sequence[int]) -> list:
    return [
        part.values_list(*_ENTERPRISE_FIELDS)
        for part in by_ids(Enterprise.objects.order_by(), "pk", ids)
    ]


_one_enterprise = PlannedQuery(
    lambda _context, eid: Enterprise.objects.filter(pk=eid).values_list(*_ENTERPRISE_FIELDS)
)


def enterprise_facts_bulk(
    pairs: Sequence[tuple[int, date]], *, supply_facts: bool = True, carbon_facts: bool = True
) -> list[el.EnterpriseFacts]:
    """EnterpriseFacts for each (enterprise pk, day): a few queries in all.

    `supply_facts=False` / `carbon_facts=False` leave the supply-chain facts
    (holdings, chains) / the 碳效等级 unknown (None) without reading them: for
    a ranking over products none of which asks for them (`facts_needed`)."""
    ids = sorted({eid for eid, _day in pairs})
    base: dict[int, tuple] = {}
    parts = [_one_enterprise.rows("one", None, ids[0])] if len(ids) == 1 else _enterprise_rows(ids)
    for rows in parts:
        for row in rows:
            base[row[0]] = row[1:]
    quals = _qualifications(ids)
    members = _memberships(ids)
    # Supply-chain facts (finance.supply; None without a provider): holdings
    # per distinct day, chain memberships once.
    by_day: dict[date, list[int]] = defaultdict(list)
    for eid, day in dict.fromkeys(pairs):
        by_day[day].append(eid)
    holdings = {
        day: supply.holdings_for(eids, day) if supply_facts else None
        for day, eids in by_day.items()
    }
    chains = supply.chains_for(ids) if supply_facts else None
    # 碳效等级 (finance.carbon; None without a provider): the latest, once.
    carbon_grades = carbon.grades_for(ids) if carbon_facts else None
    out = []
    for eid, day in pairs:
        row = base[eid]
        region, region_name, industry, industry_name, size, revenue, founded, grade = row[:8]
        figures = row[8]
        active = [
            (k, verified)
            for k, start, until, verified in quals.get(eid, ())
            if start <= day and (until is None or until >= day)
        ]
        kinds = {k for k, verified in active if verified}
        declared = {k for k, verified in active if not verified} - kinds
        lists, blacklisted, black_sources = _list_codes(members.get(eid, ()), day)
        out.append(
            el.EnterpriseFacts(
                region_code=region,
                region_name=region_name or "",
                industry_code=industry,
                industry_name=industry_name or "",
                size=size or None,
                revenue=revenue,
                founded_on=founded,
                tax_grade=grade or None,
                qualifications=frozenset(kinds),
                declared_qualifications=frozenset(declared),
                revenue_verified=figures == FactStatus.VERIFIED,
                lists=lists,
                blacklisted=blacklisted,
                blacklist_sources=black_sources,
                holdings=None if holdings[day] is None else holdings[day][eid],
                chains=None if chains is None else chains[eid],
                carbon_grade=None if carbon_grades is None else carbon_grades[eid],
            )
        )
    return out


DEMAND_FIELDS = (
    "pk",
    "enterprise_id",
    "kind",
    "amount",
    "term_months",
    "rate_max",
    "collateral_offered",
    "published_at",
)


def demand_facts_of(kind, amount, term, rate_max, collateral) -> el.DemandFacts:
    """Same as demands.services.demand_facts, from values."""
    return el.DemandFacts(
        kind=kind,
        amount=amount,
        term_months=term,
        rate_max=rate_max,
        collateral_offered=tuple(collateral or ()),
    )


def facts_needed(products: ProductTable, cols) -> dict[str, bool]:
    """Which optional facts a ranking over the product columns `cols` reads
    (keyword arguments of `enterprise_facts_bulk`, `demand_table`,
    `enterprise_table`). A product with no supply-chain condition (holding,
    chain) never looks at an enterprise's holdings or chains — not in its
    eligibility, its features or its reasons — and one with no 碳效 condition
    and no rate adjustment by grade never at its grade; the ranking is the
    same with those facts unknown."""
    cols = np.asarray(cols, dtype=np.int64)
    carbon_needed = bool(
        (products.max_carbon_grade[cols] >= 0).any()
        or (products.carbon_rate_adj[cols] != 0).any()
        or any(
            products.conditions
            and products.conditions[int(c)] is not None
            and any(products.conditions[int(c)].carbon_rate_adjustments or ())
            for c in cols
        )
    )
    return {
        "supply_facts": bool(
            (products.holdings[cols] != 0).any() or (products.chain[cols] != 0).any()
        ),
        "carbon_facts": carbon_needed,
    }


_needed_for_all: tuple[ProductTable, dict[str, bool]] | None = None


def facts_needed_by_all(products: ProductTable) -> dict[str, bool]:
    """`facts_needed` over every product of `products`, kept for the table
    last asked about (the cached `product_table()`: each publish asks)."""
    global _needed_for_all
    last = _needed_for_all
    if last is not None and last[0] is products:
        return dict(last[1])
    needed = facts_needed(products, np.arange(len(products.ids)))
    _needed_for_all = (products, needed)
    return dict(needed)


def demand_table(
    demands,
    *,
    today: date | None = None,
    as_of_publication: bool = False,
    supply_facts: bool = True,
    carbon_facts: bool = True,
) -> FactTable:
    """A FactTable with one row per demand (a queryset or an iterable of Demand
    or of pks), in pk order. Enterprise facts as of `today`, or, with
    `as_of_publication`, as of each demand's publication day (for training
    on the past without reading facts recorded later)."""
    day = today or timezone.localdate()
    if hasattr(demands, "values_list"):
        queryset = demands
    else:
        pks = [getattr(d, "pk", d) for d in demands]
        parts = by_ids(Demand.objects.all(), "pk", pks)
        queryset = parts[0] if len(parts) == 1 else Demand.objects.filter(pk__in=pks)
    rows = sorted(queryset.values_list(*DEMAND_FIELDS).order_by(), key=lambda r: r[0])
    when = [
        timezone.localtime(r[7]).date() if as_of_publication and r[7] is not None else day
        for r in rows
    ]
    enterprises = enterprise_facts_bulk(
        [(r[1], w) for r, w in zip(rows, when, strict=True)],
        supply_facts=supply_facts,
        carbon_facts=carbon_facts,
    )
    return FactTable.from_facts(
        [r[0] for r in rows],
        [(e, demand_facts_of(*r[2:7])) for e, r in zip(enterprises, rows, strict=True)],
        today=day,
        enterprise_ids=[r[1] for r in rows],
    )


def enterprise_table(
    enterprise_ids: Sequence[int],
    *,
    today: date | None = None,
    supply_facts: bool = True,
    carbon_facts: bool = True,
) -> FactTable:
    """A FactTable of enterprises without a demand (outreach): only the
    enterprise rules are checked. Rows in pk order."""
    day = today or timezone.localdate()
    ids = sorted(set(enterprise_ids))
    facts = enterprise_facts_bulk(
        [(eid, day) for eid in ids], supply_facts=supply_facts, carbon_facts=carbon_facts
    )
    return FactTable.from_facts(ids, [(e, None) for e in facts], today=day, enterprise_ids=ids)


def white_list_members(
    prefixes: Sequence[str], *, today: date | None = None
) -> dict[int, list[str]]:
    """{enterprise pk: names of the white lists in force it is on} for
    enterprises located under any of `prefixes` ("" = everywhere)."""
    day = today or timezone.localdate()
    region_q = Q()
    for prefix in prefixes:
        region_q |= Q(enterprise__region__code__startswith=prefix)
    if not prefixes:
        return {}
    rows = (
        ListEntry.objects.in_force(day)
        .filter(region_q, version__list__list_type__in=WHITE_LIST_TYPES, enterprise__isnull=False)
        .values_list("enterprise_id", "version__list__name")
        .order_by("enterprise_id", "version__list__name")
    )
    out: dict[int, list[str]] = defaultdict(list)
    for eid, name in rows:
        if name not in out[eid]:
            out[eid].append(name)
    return dict(out)
