"""Equity demands and funds, through the matching engine's institution direction.

A fund is put to the engine as one column of a ProductTable, exactly as a
bank's product is: an 股权投资 product (it answers equity demands only)
whose conditions are the fund's focus — its region (投资区域), its focus
industries (GB/T 4754 prefixes), its typical ticket (单笔投资下限/上限 as the
amount bounds) and the earliest of its focus stages (as the enterprise's
minimum age). The engine checks eligibility and scores the pairs with its
own features and weights (`engine.rank_demands` for a fund,
`engine.eligibility` + `engine.score` for a demand); no second scorer here.

The engine knows a minimum age only; a fund that invests in early stages
only also has a maximum. That upper bound is applied here as a filter on the
engine's answer (an enterprise whose age is known and past the fund's last
focus stage is left out), never as a score. Stages are read from age:
models.STAGE_YEARS.

Visibility: a fund's ranked demands come only from demands the user may
see (`Demand.objects.visible_to`), for users who keep the fund; a demand's
matching funds only for users who may see the demand (the demand page's
panel), and funds are a public directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core.models import Industry
from chanrong.core.money import format_amount
from chanrong.demands.models import Demand, DemandKind
from chanrong.finance.eligibility import Area, IndustryRef, ProductConditions
from chanrong.matching import adapter, engine
from chanrong.matching.features import FactTable, ProductTable
from chanrong.matching.reasons import reason_labels

from .. import permissions as perms
from ..models import STAGE_YEARS, Fund, FundStage, FundStatus

#: How many of a user's visible open equity demands are ranked at most.
DEMAND_CAP = 5000


@dataclass(frozen=True)
class DemandFit:
    demand: Demand
    score: float
    reasons: list[str]  # the engine's top reasons, plain Chinese
    fit: list[str]  # why the fund's focus holds: industry, region, stage, amount


@dataclass(frozen=True)
class FundFit:
    fund: Fund
    score: float
    reasons: list[str]
    fit: list[str]


def conditions_of(fund: Fund, industry_names: dict[str, str]) -> ProductConditions:
    stages = [s for s in FundStage.values if s in (fund.focus_stages or [])]
    min_years = STAGE_YEARS[stages[0]][0] if stages else None
    region = fund.region
    return ProductConditions(
        product_kind="equity",
        amount_min=fund.ticket_min,
        amount_max=fund.ticket_max,
        regions=(Area(region.code, region.prefix, region.name),),
        industries_in=tuple(
            IndustryRef(code, industry_names.get(code, code)) for code in fund.focus_industries
        ),
        min_years=min_years or None,
    )


def fund_table(funds: list[Fund]) -> ProductTable:
    """The funds as engine columns, in pk order (ids = fund pks)."""
    funds = sorted(funds, key=lambda f: f.pk)
    codes = {c for f in funds for c in f.focus_industries}
    names = dict(Industry.objects.filter(code__in=codes).values_list("code", "name"))
    return ProductTable.from_conditions(
        [f.pk for f in funds],
        [conditions_of(f, names) for f in funds],
        branch_regions=[(f.region.prefix,) for f in funds],
        institution_ids=[f.manager_id for f in funds],
    )


def _stage_of(age: int) -> str:
    for stage, (lo, hi) in STAGE_YEARS.items():
        if age >= lo and (hi is None or age < hi):
            return stage
    return FundStage.MATURE


def _stage_ok(fund: Fund, facts: FactTable, row: int) -> bool:
    if not fund.focus_stages or not facts.age_known[row]:
        return True
    return _stage_of(int(facts.age_years[row])) in fund.focus_stages


def _fit(fund: Fund, facts: FactTable, row: int, industry_names: dict[str, str]) -> list[str]:
    enterprise, wanted = facts.facts[row] if facts.facts else (None, None)
    out: list[str] = []
    code = str(facts.industry[row])
    if fund.focus_industries and code:
        out.append(
            _("行业：%(name)s属基金重点投资行业")
            % {"name": industry_names.get(code) or getattr(enterprise, "industry_name", "") or code}
        )
    elif not fund.focus_industries:
        out.append(_("行业：基金不限投资行业"))
    out.append(_("地区：企业位于基金投资区域（%(region)s）") % {"region": fund.region.name})
    if facts.age_known[row]:
        age = int(facts.age_years[row])
        out.append(
            _("阶段：企业成立 %(n)s 年，属%(stage)s")
            % {"n": age, "stage": FundStage(_stage_of(age)).label}
        )
    if wanted is not None and wanted.amount is not None and ticket_label(fund) != "—":
        out.append(
            _("金额：需求 %(amount)s，基金单笔投资 %(ticket)s")
            % {"amount": format_amount(wanted.amount), "ticket": ticket_label(fund)}
        )
    return out


def _reasons(products: ProductTable, facts: FactTable, row: int, col: int) -> list[str]:
    rows, cols = np.array([row]), np.array([col])
    _failed, unknown = engine.eligibility(products, facts, rows, cols)
    zero = np.zeros(1, dtype=np.int64)
    feats = engine.pair_features(
        products, facts, rows, cols, zero, zero, unknown[0], engine.DEFAULT_POLICY_WEIGHTS
    )
    return reason_labels(engine.top_reasons(feats, 0))


def _industry_names(codes) -> dict[str, str]:
    return dict(Industry.objects.filter(code__in=set(codes)).values_list("code", "name"))


def open_equity_demands(user):
    return Demand.objects.visible_to(user).filter(
        kind=DemandKind.EQUITY, state__in=adapter.OPEN_STATES
    )


def demands_for_fund(
    user, fund: Fund, *, limit: int = 20, today: date | None = None
) -> list[DemandFit]:
    """The open equity demands (that `user` may see) the fund fits best, best
    first (score desc, demand id asc), each with the engine's reasons and the
    focus that holds. Empty for users who do not keep the fund."""
    if not perms.can_see_matches(user, fund):
        return []
    day = today or timezone.localdate()
    demands = open_equity_demands(user)
    if fund.region.prefix:
        # The fund's region is one of its conditions (`conditions_of`): a
        # demand from elsewhere fails it and is never ranked, so its facts
        # are not read.
        demands = demands.filter(enterprise__region__code__startswith=fund.region.prefix)
    pks = list(demands.order_by("pk").values_list("pk", flat=True)[:DEMAND_CAP])
    if not pks:
        return []
    products = fund_table([fund])
    cols = np.array([0])
    # A fund asks for no supply-chain fact and no 碳效等级: those are not read.
    facts = adapter.demand_table(pks, today=day, **adapter.facts_needed(products, cols))
    rows, scores, _best = engine.rank_demands(products, facts, cols, k=len(facts))
    names = _industry_names([*facts.industry.tolist(), *fund.focus_industries])
    picked = [
        (int(r), float(s))
        for r, s in zip(rows, scores, strict=True)
        if r >= 0 and np.isfinite(s) and _stage_ok(fund, facts, int(r))
    ][:limit]
    demands = Demand.objects.select_related("enterprise").in_bulk(
        [int(facts.ids[r]) for r, _ in picked]
    )
    return [
        DemandFit(
            demand=demands[int(facts.ids[r])],
            score=s,
            reasons=_reasons(products, facts, r, 0),
            fit=_fit(fund, facts, r, names),
        )
        for r, s in picked
    ]


def funds_for_demand(
    demand: Demand, *, limit: int = 10, today: date | None = None
) -> list[FundFit]:
    """The investing funds whose focus an equity demand fits, best first
    (score desc, fund id asc). The caller has checked the user may see the demand."""
    if demand.kind != DemandKind.EQUITY:
        return []
    day = today or timezone.localdate()
    funds = list(
        Fund.objects.filter(status=FundStatus.INVESTING).select_related("region", "manager")
    )
    if not funds:
        return []
    funds.sort(key=lambda f: f.pk)
    facts = adapter.demand_table([demand.pk], today=day)
    if not len(facts):
        return []
    products = fund_table(funds)
    rows, cols = np.array([0]), np.arange(len(funds))
    failed, unknown = engine.eligibility(products, facts, rows, cols)
    ok = np.flatnonzero(engine.meets(failed[0], unknown[0]))
    ok = np.array([c for c in ok if _stage_ok(funds[c], facts, 0)], dtype=np.int64)
    if not len(ok):
        return []
    zero = np.zeros(len(ok), dtype=np.int64)
    feats = engine.pair_features(
        products,
        facts,
        rows,
        ok,
        zero,
        np.arange(len(ok)),
        unknown[0][ok],
        engine.DEFAULT_POLICY_WEIGHTS,
    )
    scores = engine.score(feats)
    order = np.lexsort((products.ids[ok], -scores))[:limit]
    names = _industry_names(
        [*facts.industry.tolist(), *(c for f in funds for c in f.focus_industries)]
    )
    return [
        FundFit(
            fund=funds[int(ok[i])],
            score=float(scores[i]),
            reasons=reason_labels(engine.top_reasons(feats, int(i))),
            fit=_fit(funds[int(ok[i])], facts, 0, names),
        )
        for i in order
    ]


def demand_detail_panel(*, user, demand) -> dict[str, Any]:
    """`fund_matches` for the demand page (templates/funds/_demand_funds.html):
    only on equity demands; the demand page has already checked visibility."""
    if demand.kind != DemandKind.EQUITY:
        return {}
    return {"fund_matches": funds_for_demand(demand)}


def ticket_label(fund: Fund) -> str:
    if fund.ticket_min is None and fund.ticket_max is None:
        return "—"
    lo = format_amount(fund.ticket_min) if fund.ticket_min else "—"
    hi = format_amount(fund.ticket_max) if fund.ticket_max else "—"
    return f"{lo} – {hi}"
