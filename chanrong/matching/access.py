"""Who sees which matching results: the one place the web pages and the API
go through.

The engine's services (`matching.services`) take no actor and return every
product's score; this module applies the platform's visibility rule and the
issue's privacy rules on top of them:

- a demand's matches: only for users who can see the demand
  (`demands.services.get_visible_demand`, else 404). The enterprise, the
  government in scope and platform admins get the full ranked list, the
  institutions, the "why not" list and the weights in force; an institution
  gets ONLY its own products' entries (never another institution's products
  or scores);
- an institution's ranked open demands: only demands that institution may
  see (`Demand.objects.visible_to`);
- an institution's outreach list: only enterprises on list versions it may
  see (`ListEntry.objects.visible_to(...).in_force()`), with name, region
  and lists; profile details and reasons drawn from private facts only where
  the enterprise authorised the institution (`Enterprise.objects.visible_to`).

Products and institutions are named through their own `visible_to`, and an
entry whose product the user may not see is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.errors import NotFound
from chanrong.core.models import Region
from chanrong.core.scope import ScopeKind, scope_of

from .engine import FEATURE_LABELS
from .policy import policy_labels
from .reasons import redact_holdings

#: Entries shown on a demand's page / API answer (full view).
DEMAND_LIMIT = 20
#: Default / maximum length of an institution's ranked-demand and outreach lists.
LIST_LIMIT = 50
MAX_LIST_LIMIT = 200
#: How many of the engine's ranked open demands to look through at most for
#: those an institution may see.
DEMAND_SEARCH_CAP = 5000

#: Reasons that come from an enterprise's own qualifications rather than from
#: the product or from published lists: shown in outreach only where the
#: enterprise authorised the institution.
PRIVATE_REASON_KEYS = ("policy_specialised", "policy_tech", "policy_green")


@dataclass(frozen=True)
class MatchRow:
    product_id: int
    product_name: str
    institution_id: int
    institution_name: str
    score: float
    probability: float | None
    reasons: list[str]
    eligible: bool
    failed: list[str]
    missing: list[str]


@dataclass(frozen=True)
class InstitutionRow:
    institution_id: int
    institution_name: str
    score: float
    best_product_id: int
    best_product_name: str
    reasons: list[str]


@dataclass(frozen=True)
class WeightsInForce:
    weights: dict[str, float]
    region_code: str  # "" = platform default
    region_name: str
    labels: dict[str, str] = field(default_factory=policy_labels)

    @property
    def items(self) -> list[tuple[str, str, float]]:
        """(key, label, weight) in display order."""
        return [(key, self.labels[key], self.weights[key]) for key in self.labels]


@dataclass(frozen=True)
class DemandMatchView:
    demand_id: int
    full: bool  # False: an institution's own entries only
    ranked: list[MatchRow]
    institutions: list[InstitutionRow]
    not_eligible: list[MatchRow]
    weights: WeightsInForce

    #: Recommendations shown open on the demand page; the rest are folded away.
    SHOWN = 5

    @property
    def ranked_top(self) -> list[MatchRow]:
        return self.ranked[: self.SHOWN]

    @property
    def ranked_rest(self) -> list[MatchRow]:
        return self.ranked[self.SHOWN :]

    @property
    def institutions_top(self) -> list[InstitutionRow]:
        return self.institutions[: self.SHOWN]

    @property
    def institutions_rest(self) -> list[InstitutionRow]:
        return self.institutions[self.SHOWN :]

    @property
    def has_probability(self) -> bool:
        """Whether the approval model gave any entry a probability (else no column)."""
        return any(getattr(row, "probability", None) is not None for row in self.ranked)


@dataclass(frozen=True)
class DemandRow:
    demand: Any  # demands.models.Demand (visible to the caller)
    score: float
    best_product_id: int
    best_product_name: str
    reasons: list[str]


@dataclass(frozen=True)
class OutreachRow:
    enterprise_id: int
    enterprise_name: str
    region_code: str
    region_name: str
    lists: list[str]
    score: float
    best_product_id: int
    best_product_name: str
    reasons: list[str]
    authorised: bool
    # Only where the enterprise authorised the institution.
    profile: dict[str, Any] | None


def _services():
    from . import services

    return services


def weights_in_force(weights: dict[str, float], region_code: str) -> WeightsInForce:
    name = ""
    if region_code:
        region = Region.objects.filter(pk=region_code).select_related("parent__parent").first()
        name = region.full_name if region else region_code
    return WeightsInForce(dict(weights), region_code, name or _("平台默认"))


def _product_names(actor, ids) -> dict[int, tuple[str, int, str]]:
    """{product pk: (name, institution pk, institution name)} for the products
    the actor may see."""
    from chanrong.finance.models import FinancialInstitution, Product

    rows = Product.objects.visible_to(actor).filter(pk__in=set(ids))
    products = {
        pk: (name, inst) for pk, name, inst in rows.values_list("pk", "name", "institution")
    }
    institutions = dict(
        FinancialInstitution.objects.visible_to(actor)
        .filter(pk__in={inst for _n, inst in products.values()})
        .values_list("pk", "short_name")
    )
    full_names = dict(
        FinancialInstitution.objects.filter(pk__in=institutions).values_list("pk", "name")
    )
    return {
        pk: (name, inst, institutions[inst] or full_names.get(inst, ""))
        for pk, (name, inst) in products.items()
        if inst in institutions
    }


def _row(match, names, *, redact: bool = False) -> MatchRow:
    """`redact`: for an institution, amounts the enterprise holds are not shown."""
    name, institution_id, institution_name = names[match.product_id]
    return MatchRow(
        product_id=match.product_id,
        product_name=name,
        institution_id=institution_id,
        institution_name=institution_name,
        score=float(match.score),
        probability=None if match.probability is None else float(match.probability),
        reasons=redact_holdings(match.reasons) if redact else list(match.reasons),
        eligible=bool(match.eligible),
        failed=list(match.failed),
        missing=list(match.missing),
    )


def demand_matches(actor, demand_pk: int, *, today: date | None = None) -> DemandMatchView:
    """The matches of a demand as `actor` may see them (NotFound otherwise)."""
    from chanrong.demands.services import get_visible_demand

    demand = get_visible_demand(actor, demand_pk)
    scope = scope_of(actor)
    if scope.kind == ScopeKind.INSTITUTION:
        own = scope.institution_id
        result = _services().match_demand(
            demand, limit=DEMAND_LIMIT, today=today, institution_id=own
        )
        # The engine scored only this institution's products; filter anyway,
        # so nothing of another institution can ever reach this view.
        ranked = [m for m in result.ranked if m.institution_id == own][:DEMAND_LIMIT]
        not_eligible = [m for m in result.not_eligible if m.institution_id == own][:DEMAND_LIMIT]
        institutions = [i for i in result.institutions if i.institution_id == own]
    elif scope.kind in (ScopeKind.ENTERPRISE, ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        own = None
        result = _services().match_demand(demand, limit=DEMAND_LIMIT, today=today)
        ranked, not_eligible = list(result.ranked), list(result.not_eligible)
        institutions = list(result.institutions)
    else:
        raise NotFound(_("融资需求不存在"))
    names = _product_names(
        actor,
        [m.product_id for m in ranked + not_eligible] + [i.best_product_id for i in institutions],
    )
    # Belt and braces: an institution's view holds nothing of another institution.
    keep = (
        (lambda inst: inst == own) if own is not None else (lambda inst: True)  # noqa: E731
    )
    redact = own is not None
    rows = [
        _row(m, names, redact=redact)
        for m in ranked
        if m.product_id in names and keep(m.institution_id)
    ]
    why_not = [
        _row(m, names, redact=redact)
        for m in not_eligible
        if m.product_id in names and keep(m.institution_id)
    ]
    inst_rows = []
    for inst in institutions:
        if inst.best_product_id not in names or not keep(inst.institution_id):
            continue
        product_name, _pinst, institution_name = names[inst.best_product_id]
        inst_rows.append(
            InstitutionRow(
                institution_id=inst.institution_id,
                institution_name=institution_name,
                score=float(inst.score),
                best_product_id=inst.best_product_id,
                best_product_name=product_name,
                reasons=redact_holdings(inst.reasons) if redact else list(inst.reasons),
            )
        )
    return DemandMatchView(
        demand_id=demand.pk,
        full=own is None,
        ranked=rows,
        institutions=inst_rows,
        not_eligible=why_not,
        weights=weights_in_force(result.policy_weights, result.weights_region),
    )


def _institution_of(actor) -> int:
    scope = scope_of(actor)
    if scope.kind != ScopeKind.INSTITUTION:
        raise NotFound(_("仅金融机构用户可用"))
    return scope.institution_id


def institution_demands(
    actor, *, limit: int = LIST_LIMIT, today: date | None = None
) -> list[DemandRow]:
    """Open demands the actor's institution could serve, best first, among
    those it may see. NotFound for anyone but institution users."""
    from chanrong.demands.models import Demand

    from . import adapter, kept

    institution_id = _institution_of(actor)
    limit = max(1, min(limit, MAX_LIST_LIMIT))
    visible = Demand.objects.visible_to(actor)
    # Ranked ahead (matching.kept) and corrected to now, when a usable
    # ranking is kept and holds enough; else ranked here.
    ahead = kept.demand_candidates(institution_id, visible, today=today)
    if ahead is not None:
        candidates, complete = ahead
        open_visible = visible.filter(state__in=adapter.OPEN_STATES)
        rows = _visible_demand_rows(actor, institution_id, candidates, open_visible, limit)
        if len(rows) >= limit or complete:
            return rows
    # The engine ranks only the open demands the institution may see (a
    # subquery), once: the same list as ranking every open demand and
    # keeping the visible ones, without reading the others' facts or
    # ranking again when too few of the best were visible. A few more than
    # needed are asked for, in case a product's name may not be shown.
    ask = limit * 2
    while True:
        candidates = _services().rank_open_demands(
            institution_id, limit=ask, today=today, among=visible
        )
        rows = _visible_demand_rows(actor, institution_id, candidates, visible, limit)
        if len(rows) >= limit or len(candidates) < ask or ask >= DEMAND_SEARCH_CAP:
            return rows
        ask = min(ask * 4, DEMAND_SEARCH_CAP)


#: What the workbench and the API show of a ranked demand (DemandRow.demand).
DEMAND_ROW_FIELDS = (
    "purpose", "kind", "amount", "term_months", "state", "enterprise__name",
    "enterprise__region__name",
)  # fmt: skip


def _visible_demand_rows(actor, institution_id, candidates, visible, limit) -> list[DemandRow]:
    """The first `limit` candidates the actor may see with a product it may
    name, read a window of candidates at a time (a kept ranking holds up to
    200; the page shows 20)."""
    rows: list[DemandRow] = []
    window = limit + 5
    for start in range(0, len(candidates), window):
        part = candidates[start : start + window]
        found = (
            visible.filter(pk__in=[c.demand_id for c in part])
            .select_related("enterprise__region")
            .only(*DEMAND_ROW_FIELDS)
        )
        demands = {d.pk: d for d in found}
        names = _product_names(actor, [c.best_product_id for c in part])
        for c in part:
            demand = demands.get(c.demand_id)
            if demand is None or c.best_product_id not in names:
                continue
            if names[c.best_product_id][1] != institution_id:
                continue
            rows.append(
                DemandRow(
                    demand=demand,
                    score=float(c.score),
                    best_product_id=c.best_product_id,
                    best_product_name=names[c.best_product_id][0],
                    reasons=redact_holdings(c.reasons),
                )
            )
            if len(rows) >= limit:
                return rows
    return rows


def _private_reasons() -> set[str]:
    return {_(FEATURE_LABELS[key]) for key in PRIVATE_REASON_KEYS}


def institution_outreach(
    actor, *, limit: int = LIST_LIMIT, today: date | None = None, group: str = ""
) -> list[OutreachRow]:
    """Enterprises on published lists the institution may see that fit its
    products and have not posted a demand, best first. Name, region and the
    lists always; profile and qualification-based reasons only where the
    enterprise authorised the institution."""
    from . import kept

    institution_id = _institution_of(actor)
    limit = max(1, min(limit, MAX_LIST_LIMIT))
    # Ranked ahead (matching.kept) when a usable ranking is kept and holds
    # enough; a policy group's list is always ranked here.
    ahead = None if group else kept.outreach_candidates(institution_id, today=today)
    if ahead is not None:
        candidates, complete = ahead
        rows = _outreach_rows(actor, institution_id, candidates, today, limit)
        if len(rows) >= limit or complete:
            return rows
    candidates = _services().outreach(institution_id, limit=limit, today=today, group=group)
    return _outreach_rows(actor, institution_id, candidates, today, limit)


def _outreach_rows(actor, institution_id, candidates, today, limit) -> list[OutreachRow]:
    """The first `limit` candidates on a list in force the actor may see,
    with a product it may name, read a window of candidates at a time (a
    kept ranking holds up to 200; the page shows 20)."""
    from chanrong.registry.models import Enterprise, ListEntry

    private = _private_reasons()
    rows: list[OutreachRow] = []
    window = limit + 5
    for start in range(0, len(candidates), window):
        part = candidates[start : start + window]
        ids = [c.enterprise_id for c in part]
        entries = (
            ListEntry.objects.visible_to(actor)
            .in_force(today)
            .filter(enterprise_id__in=ids)
            .select_related("enterprise__region__parent__parent", "version__list")
            .order_by("version__list__name", "version__list_id")
        )
        on_lists: dict[int, list[str]] = {}
        enterprises: dict[int, Any] = {}
        for entry in entries:
            names = on_lists.setdefault(entry.enterprise_id, [])
            if entry.version.list.name not in names:
                names.append(entry.version.list.name)
            enterprises[entry.enterprise_id] = entry.enterprise
        authorised = set(
            Enterprise.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True)
        )
        products = _product_names(actor, [c.best_product_id for c in part])
        for c in part:
            enterprise = enterprises.get(c.enterprise_id)
            if enterprise is None or c.best_product_id not in products:
                continue
            if products[c.best_product_id][1] != institution_id:
                continue
            is_authorised = c.enterprise_id in authorised
            reasons = list(c.reasons)
            if not is_authorised:
                reasons = [r for r in redact_holdings(reasons) if r not in private]
            rows.append(
                OutreachRow(
                    enterprise_id=enterprise.pk,
                    enterprise_name=enterprise.name,
                    region_code=enterprise.region_id,
                    region_name=enterprise.region.full_name,
                    lists=on_lists[enterprise.pk],
                    score=float(c.score),
                    best_product_id=c.best_product_id,
                    best_product_name=products[c.best_product_id][0],
                    reasons=reasons,
                    authorised=is_authorised,
                    profile=_profile(enterprise) if is_authorised else None,
                )
            )
            if len(rows) >= limit:
                return rows
    return rows


def _profile(enterprise) -> dict[str, Any]:
    return {
        "uscc": enterprise.uscc,
        "industry_code": enterprise.industry_id,
        "size": enterprise.size or "",
        "employees": enterprise.employees,
        "revenue_wan": None if enterprise.revenue is None else float(enterprise.revenue / 10000),
    }


# --- panels on the demands app's pages (registered in MatchingConfig.ready) -----------------


def demand_detail_panel(*, user, demand) -> dict[str, Any]:
    """`matches` for the demand page (templates/matching/_demand_matches.html)."""
    try:
        return {"matches": demand_matches(user, demand.pk)}
    except NotFound:
        return {"matches": None}


def workbench_panel(*, user, outreach_group: str = "", **_kwargs) -> dict[str, Any]:
    """The institution workbench's ranked open demands and outreach list
    (templates/matching/_workbench.html); `?outreach=no_loan` narrows the
    list to 无贷户 (首贷培育; any policy group of insights.groups works)."""
    from chanrong.insights.groups import group as policy_group

    from .invite import invited_recently

    group = outreach_group if policy_group(outreach_group) is not None else ""
    outreach = institution_outreach(user, limit=20, group=group)
    return {
        "ranked_demands": institution_demands(user, limit=20),
        "outreach": outreach,
        "outreach_group": group,
        "outreach_invited": invited_recently(
            _institution_of(user), [row.enterprise_id for row in outreach]
        ),
    }
