"""Enterprises of the pilot county and the authorisations they have given.

3,000 enterprises at scale 1: four in five registered in 嘉善县 itself, the
rest elsewhere in 嘉兴市. Industries are weighted like a manufacturing county
(vocabulary.INDUSTRY_WEIGHTS) over the GB/T 4754 divisions actually loaded.
Employees, revenue and assets come from one latent "how big is this firm"
draw, so they move together as they do in life, and the size is whatever
the 2011 standard makes of them (registry.services.compute_size): mostly
small and micro, some medium, a few large.

The generator (`generate`) is plain Python over plain inputs, so it can be
checked for determinism without a database; `build` feeds it from the
database and writes its rows in batches.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from chanrong.core.codes import size_exclusion, size_group
from chanrong.core.models import Industry, IndustryLevel, Region, RegionLevel
from chanrong.registry.models import DataAuthorisation, Enterprise
from chanrong.registry.services import compute_size

from ..vocabulary import (
    ASSET_TURNOVER,
    DEFAULT_ASSET_TURNOVER,
    DEFAULT_INDUSTRY_WEIGHT,
    INDUSTRY_WEIGHTS,
    INDUSTRY_WORDS,
    LEGAL_FORMS,
    REVENUE_PER_EMPLOYEE_WAN,
    TRADE_NAME_CHARS,
)
from .base import DemoContext, bulk_insert, cumulative

NAME = "enterprises"
# What this builder writes; a rebuild empties these and whatever references them.
MODELS = ("registry.enterprise", "registry.dataauthorisation")

BASE_COUNT = 3000
PILOT_COUNTY = "330421"
PILOT_CITY = "330400"
PILOT_SHARE = 0.8
# The two enterprises behind the demo accounts ent_user and ent2_user.
DEMO_ENTERPRISES = (
    # name, industry, employees, revenue 万元, assets 万元
    ("嘉善精工机械有限公司", "C34", 120, Decimal("3500"), Decimal("5200")),
    ("嘉善新材料科技有限公司", "C26", 45, Decimal("1800"), Decimal("2600")),
)
WAN = Decimal(10000)
_CHARS = tuple(dict.fromkeys(TRADE_NAME_CHARS))  # de-duplicated, order kept


@dataclass(frozen=True)
class RegionChoice:
    code: str
    place: str  # the place name an enterprise there puts first: 嘉善, 海宁, 嘉兴 …
    weight: float


@dataclass
class EnterpriseRow:
    uscc: str
    name: str
    region_code: str
    industry_code: str
    employees: int
    revenue: Decimal  # 元
    assets: Decimal  # 元


def enterprise_count(scale: float) -> int:
    return max(len(DEMO_ENTERPRISES), round(BASE_COUNT * scale))


def place_name(region_name: str, city_name: str) -> str:
    """嘉善县 -> 嘉善, 海宁市 -> 海宁; a district takes its city's name (南湖区 -> 嘉兴)."""
    if region_name.endswith("区"):
        return city_name.removesuffix("市")
    for suffix in ("自治县", "县", "市"):
        if region_name.endswith(suffix) and len(region_name) > len(suffix) + 1:
            return region_name.removesuffix(suffix)
    return region_name


def industry_choices(codes: list[tuple[str, str, str | None]]) -> list[tuple[str, float]]:
    """(code, weight) over the loaded industries.

    `codes` is (code, level, parent) for every loaded industry. Divisions the
    size standard does not cover (金融业, 教育 …) are left out, so every demo
    enterprise gets a size; a division that spans several size groups (G59,
    K70) is replaced by its groups, sharing the division's weight.
    """
    children: dict[str, list[str]] = {}
    for code, level, parent in codes:
        if level == IndustryLevel.GROUP and parent:
            children.setdefault(parent, []).append(code)
    out: list[tuple[str, float]] = []
    for code, level, _parent in codes:
        if level != IndustryLevel.DIVISION:
            continue
        weight = INDUSTRY_WEIGHTS.get(code, DEFAULT_INDUSTRY_WEIGHT)
        if weight <= 0 or size_exclusion(code):
            continue
        if size_group(code):
            out.append((code, weight))
            continue
        groups = [g for g in children.get(code, []) if size_group(g)]
        out.extend((g, weight / len(groups)) for g in groups)
    return out


def _words(industry_code: str) -> tuple[str, ...]:
    return (
        INDUSTRY_WORDS.get(industry_code)
        or INDUSTRY_WORDS.get(industry_code[:3])
        or INDUSTRY_WORDS.get(industry_code[0])
        or ("实业",)
    )


class _Namer:
    """Distinct, plausible names: 地名 + 字号 + 行业词 + 组织形式."""

    def __init__(self, rng: random.Random, taken: list[str]):
        self.rng = rng
        self.taken = set(taken)
        self.forms = [form for form, _w in LEGAL_FORMS]
        self.form_weights = cumulative([w for _f, w in LEGAL_FORMS])

    def trade_name(self, length: int) -> str:
        return "".join(self.rng.sample(_CHARS, length))

    def name(self, place: str, industry_code: str) -> str:
        words = _words(industry_code)
        for attempt in range(200):
            # Two-character 字号 first; three when two keep colliding (only
            # at very large scales).
            trade = self.trade_name(2 if attempt < 100 else 3)
            word = self.rng.choice(words)
            form = self.rng.choices(self.forms, cum_weights=self.form_weights, k=1)[0]
            prefix = place
            style = self.rng.random()
            if style < 0.25 and place == "嘉善":
                prefix = "嘉善县"
            elif style > 0.97:
                prefix = "浙江" + place
            name = f"{prefix}{trade}{word}{form}"
            if name not in self.taken:
                self.taken.add(name)
                return name
        raise RuntimeError("could not find a free enterprise name")  # pragma: no cover


def _figures(rng: random.Random, industry_code: str) -> tuple[int, Decimal, Decimal]:
    """Employees and (元) revenue and assets from one latent size draw."""
    u = rng.random()
    if u < 0.025:
        z = rng.gauss(3.6, 0.6)
    elif u < 0.15:
        z = rng.gauss(2.0, 0.7)
    else:
        z = rng.gauss(0.0, 1.0)
    employees = max(1, min(50_000, round(math.exp(math.log(12) + z))))
    group = size_group(industry_code) or ""
    per_head = REVENUE_PER_EMPLOYEE_WAN.get(group, 25)
    revenue_wan = employees * per_head * math.exp(0.3 * z + rng.gauss(0.0, 0.5))
    turnover = ASSET_TURNOVER.get(group, DEFAULT_ASSET_TURNOVER)
    assets_wan = revenue_wan * math.exp(rng.gauss(math.log(turnover), 0.45))
    # Kept to 0.1 万元 (1,000 元), as firms report them.
    revenue = Decimal(round(revenue_wan * 10)) * 1000
    assets = Decimal(round(assets_wan * 10)) * 1000
    return employees, revenue.quantize(Decimal("0.01")), assets.quantize(Decimal("0.01"))


def generate(
    rng: random.Random,
    count: int,
    regions: list[RegionChoice],
    industries: list[tuple[str, float]],
    new_uscc: Callable[[random.Random, str], str],
    taken_names: Sequence[str] = (),
) -> Iterator[EnterpriseRow]:
    """`count` enterprises. `new_uscc(rng, region_code)` hands out unused codes."""
    namer = _Namer(rng, list(taken_names))
    region_cum = cumulative([r.weight for r in regions])
    industry_codes = [code for code, _w in industries]
    industry_cum = cumulative([w for _c, w in industries])
    for _ in range(count):
        region = rng.choices(regions, cum_weights=region_cum, k=1)[0]
        industry = rng.choices(industry_codes, cum_weights=industry_cum, k=1)[0]
        employees, revenue, assets = _figures(rng, industry)
        yield EnterpriseRow(
            uscc=new_uscc(rng, region.code),
            name=namer.name(region.place, industry),
            region_code=region.code,
            industry_code=industry,
            employees=employees,
            revenue=revenue,
            assets=assets,
        )


def region_choices() -> list[RegionChoice]:
    city = Region.objects.get(pk=PILOT_CITY)
    counties = list(
        Region.objects.filter(parent_id=PILOT_CITY, level=RegionLevel.COUNTY).order_by("code")
    )
    others = [r for r in counties if r.code != PILOT_COUNTY]
    choices = [RegionChoice(PILOT_COUNTY, "嘉善", PILOT_SHARE)]
    choices += [
        RegionChoice(r.code, place_name(r.name, city.name), (1 - PILOT_SHARE) / len(others))
        for r in others
    ]
    return choices


def _to_model(row: EnterpriseRow) -> Enterprise:
    enterprise = Enterprise(
        uscc=row.uscc,
        name=row.name,
        region_id=row.region_code,
        industry_id=row.industry_code,
        employees=row.employees,
        revenue=row.revenue,
        assets=row.assets,
    )
    enterprise.size = compute_size(enterprise)
    return enterprise


def build(ctx: DemoContext) -> None:
    rng = ctx.rng(NAME)
    count = enterprise_count(ctx.scale)

    # The two demo enterprises first, with fixed names and figures.
    demo = []
    for name, industry, employees, revenue_wan, assets_wan in DEMO_ENTERPRISES:
        demo.append(
            _to_model(
                EnterpriseRow(
                    uscc=ctx.new_uscc(rng, PILOT_COUNTY),
                    name=name,
                    region_code=PILOT_COUNTY,
                    industry_code=industry,
                    employees=employees,
                    revenue=revenue_wan * WAN,
                    assets=assets_wan * WAN,
                )
            )
        )
    bulk_insert(ctx, Enterprise, demo, "enterprises")
    ctx.refs["demo_enterprises"] = demo

    industries = industry_choices(
        list(Industry.objects.order_by("code").values_list("code", "level", "parent_id"))
    )
    rows = generate(
        rng,
        count - len(demo),
        region_choices(),
        industries,
        ctx.new_uscc,
        taken_names=[e.name for e in demo],
    )
    # Authorisations (企业 -> 机构) come from their own stream so that the
    # enterprises do not change when the authorisation rules do.
    grants_rng = ctx.rng("authorisations")
    institutions = ctx.refs["institutions"]
    banks = _grant_targets(institutions)
    grants: list[DataAuthorisation] = [
        # ent_user's enterprise has authorised bank_manager's bank; ent2 none.
        DataAuthorisation(enterprise=demo[0], institution=institutions["jsrcb"])
    ]
    batch: list[Enterprise] = []
    done = len(demo)
    step = max(ctx.batch_size * 25, 50_000)
    for row in rows:
        batch.append(_to_model(row))
        if len(batch) >= ctx.batch_size:
            _flush(ctx, batch, grants, grants_rng, banks)
            done += len(batch)
            batch = []
            if done % step < ctx.batch_size:
                ctx.progress(f"企业 {done:,}/{count:,}")
    if batch:
        _flush(ctx, batch, grants, grants_rng, banks)
    if grants:
        bulk_insert(ctx, DataAuthorisation, grants, "authorisations")


def _grant_targets(institutions: dict) -> tuple[list, list[float]]:
    """Which institutions enterprises authorise, and how often: the local
    banks most, then the big banks, then guarantee and micro-loan firms."""
    weights = {
        "jsrcb": 30,
        "icbc": 12,
        "abc": 12,
        "ccb": 10,
        "boc": 8,
        "jxb": 8,
        "czb": 6,
        "hzb": 5,
        "nbb": 5,
        "jsvb": 4,
        "jsguar": 4,
        "jsmicro": 2,
        "zjguar": 2,
    }
    keys = list(weights)
    return [institutions[k] for k in keys], cumulative([weights[k] for k in keys])


def _flush(ctx, batch, grants, rng, targets) -> None:
    bulk_insert(ctx, Enterprise, batch, "enterprises")
    institutions, cum = targets
    for enterprise in batch:
        # About one enterprise in ten has authorised one to three institutions.
        if enterprise.region_id != PILOT_COUNTY or rng.random() >= 0.12:
            continue
        chosen = []
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            institution = rng.choices(institutions, cum_weights=cum, k=1)[0]
            if institution not in chosen:
                chosen.append(institution)
        grants.extend(DataAuthorisation(enterprise=enterprise, institution=i) for i in chosen)
    if len(grants) >= ctx.batch_size:
        bulk_insert(ctx, DataAuthorisation, grants[:], "authorisations")
        grants.clear()
