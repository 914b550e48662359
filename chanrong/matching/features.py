"""Columnar form of products and demands for the matching engine.

The pure per-pair rules live in `chanrong.finance.eligibility`; this module
turns many `ProductConditions` and many (EnterpriseFacts, DemandFacts) into
NumPy arrays so `engine` can check millions of pairs at once. Encodings are
chosen so that every rule of the pure function becomes an exact comparison:

* amounts are integers in 分 (元 × 100) and rates integers in 1/10000 of a
  percent, so no float rounding can turn "equal" into "greater";
* unknown facts carry an explicit `*_known` flag (never zero), because the
  pure function asks for them ("需补充：…") instead of failing them;
* "no condition" on the product side is a flag too (`has_*`), mirroring the
  pure function's truthiness tests (`if c.min_years:` treats 0 as absent);
* region and industry codes stay strings and are matched by prefix through a
  small table per distinct value (see `PrefixIndex`).

A table built from arrays (the benchmark, a DB adapter) need not carry the
dataclasses; `conditions` / `facts` are kept only to render reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import ROUND_FLOOR, Decimal

import numpy as np

from chanrong.finance.eligibility import (
    COLLATERAL_LABELS,
    DEMAND_KIND_LABELS,
    HOLDING_LABELS,
    LIST_LABELS,
    N_,
    PRODUCT_DEMAND_KINDS,
    QUALIFICATION_LABELS,
    SIZE_LABELS,
    TAX_GRADES,
    DemandFacts,
    EnterpriseFacts,
    ProductConditions,
    years_between,
)

# --- bit positions, named by the pure function's condition keys ---------------------

#: Failed conditions, in the order the pure function checks them.
FAILED_KEYS: tuple[str, ...] = (
    "regions",
    "industries_in",
    "industries_out",
    "sizes",
    "qualifications",
    "lists",
    "tax_grade",
    "min_years",
    "min_revenue",
    "blacklisted",
    "chain",
    "holdings",
    "carbon_grade",
    "kind",
    "amount_max",
    "amount_min",
    "term_max",
    "term_min",
    "rate",
    "collateral",
)
#: Facts reported as "需补充：…".
UNKNOWN_KEYS: tuple[str, ...] = (
    "industry",
    "size",
    "qualifications",
    "qualifications_unverified",
    "lists",
    "tax_grade",
    "founded_on",
    "revenue",
    "revenue_unverified",
    "blacklisted",
    "chains",
    "holdings",
    "carbon_grade",
    "collateral",
)
FAIL = {key: np.uint32(1 << i) for i, key in enumerate(FAILED_KEYS)}
UNKNOWN = {key: np.uint32(1 << i) for i, key in enumerate(UNKNOWN_KEYS)}
#: "需核验": a requirement met only by the enterprise's own unverified word.
#: Reported like a missing fact (the pure function's wording), but a pair
#: carrying it is ranked as NOT meeting the requirement (issue 15).
UNVERIFIED = np.uint32(UNKNOWN["qualifications_unverified"] | UNKNOWN["revenue_unverified"])

#: Codes outside a vocabulary share this bit: no product can require it and
#: no enterprise can satisfy a requirement with it.
OTHER_BIT = 15


def _vocab(keys) -> dict[str, int]:
    out = {key: i for i, key in enumerate(keys)}
    assert len(out) < OTHER_BIT
    return out


SIZES = _vocab(SIZE_LABELS)
QUALIFICATIONS = _vocab(QUALIFICATION_LABELS)
LISTS = _vocab(LIST_LABELS)
COLLATERALS = _vocab(COLLATERAL_LABELS)
DEMAND_KINDS = _vocab(DEMAND_KIND_LABELS)
HOLDINGS = _vocab(HOLDING_LABELS)

#: Policy categories the government can weigh for its region. An enterprise
#: belongs to a category through its lists and qualifications; a product
#: belonging to it (a 科创 loan, a green loan) doubles the weight.
POLICY_KEYS: tuple[str, ...] = ("white_list", "specialised", "tech", "green")
POLICY_LABELS = {
    "white_list": N_("融资白名单"),
    "specialised": N_("专精特新"),
    "tech": N_("科创企业"),
    "green": N_("绿色发展"),
}
_POLICY_MEMBERS = {
    "white_list": (("lists", "white_list"), ("lists", "manufacturing_white_list")),
    "specialised": (("qualifications", "specialised_sme"), ("qualifications", "little_giant")),
    "tech": (("qualifications", "high_tech"), ("qualifications", "tech_sme")),
    "green": (("qualifications", "green_factory"),),
}
_PRODUCT_POLICY = {"tech": "tech", "green": "green"}


def bit(vocab: dict[str, int], code: str) -> int:
    return 1 << vocab.get(code, OTHER_BIT)


def mask(vocab: dict[str, int], codes) -> int:
    out = 0
    for code in codes:
        out |= bit(vocab, code)
    return out


def grade_rank(grade: str) -> int:
    """Same ranking as the pure function: A best; an unrecognised grade ranks last."""
    grade = grade.strip().upper()
    return TAX_GRADES.index(grade) if grade in TAX_GRADES else len(TAX_GRADES)


def fen(amount: Decimal) -> int:
    return int((Decimal(amount) * 100).to_integral_value(ROUND_FLOOR))


def rate_units(rate: Decimal) -> int:
    return int((Decimal(rate) * 10000).to_integral_value(ROUND_FLOOR))


I64_MIN = np.iinfo(np.int64).min
I64_MAX = np.iinfo(np.int64).max


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True) with a flat inverse; for object
    arrays (region and industry codes) by a dict instead of sorting a million
    Python strings (same sorted values, same inverse)."""
    if values.dtype != object:
        uniq, inverse = np.unique(values, return_inverse=True)
        return uniq, inverse.reshape(-1)
    codes: dict = {}
    first = np.fromiter(
        (codes.setdefault(v, len(codes)) for v in values), dtype=np.int64, count=len(values)
    )
    ordered = sorted(codes)
    rank = np.empty(len(ordered), dtype=np.int64)
    rank[[codes[v] for v in ordered]] = np.arange(len(ordered))
    uniq = np.empty(len(ordered), dtype=object)
    uniq[:] = ordered
    return uniq, rank[first]


def grade_column(carbon_grade: np.ndarray) -> np.ndarray:
    """Column of `ProductTable.carbon_rate_adj` for each 碳效等级 (-1 unknown → 0)."""
    return np.maximum(carbon_grade, 0).astype(np.int64)


def adjusted_rate_min(rate_min: np.ndarray, adjust: np.ndarray) -> np.ndarray:
    """`finance.eligibility.adjusted_rate_min` on arrays (1e-4 % units): the
    product's lowest rate plus the adjustment for the enterprise's grade,
    never below 0; I64_MIN (no rate stated) stays I64_MIN. Used by the rate
    filter and by the fit_rate feature alike, so both see the same rate."""
    rate_min, adjust = np.broadcast_arrays(rate_min, adjust)
    return np.where(rate_min == I64_MIN, rate_min, np.maximum(rate_min + adjust, 0))


def policy_members(quals: np.ndarray, lists: np.ndarray) -> np.ndarray:
    """(n, len(POLICY_KEYS)) 0/1 float: which policy categories each enterprise is in."""
    out = np.zeros((len(quals), len(POLICY_KEYS)), dtype=np.float64)
    for k, key in enumerate(POLICY_KEYS):
        for source, code in _POLICY_MEMBERS[key]:
            vocab, values = (LISTS, lists) if source == "lists" else (QUALIFICATIONS, quals)
            out[:, k] = np.maximum(out[:, k], (values & bit(vocab, code)) != 0)
    return out


# --- prefix matching -------------------------------------------------------------------


class PrefixIndex:
    """For each product a set of code prefixes; answers "does value v start with any?".

    Built once per product table; `any_match(values)` returns a (len(values), P)
    boolean table by expanding each distinct value into its own prefixes and a
    sparse product × prefix incidence matrix, so no Python loop runs per pair.
    Products with no prefix never match (callers decide what "no condition" means)."""

    def __init__(self, prefix_lists: Sequence[Sequence[str]]):
        from scipy import sparse  # at use: SciPy's import costs every process that starts Django

        self.vocab: dict[str, int] = {}
        rows, cols = [], []
        for p, prefixes in enumerate(prefix_lists):
            for prefix in prefixes:
                q = self.vocab.setdefault(prefix, len(self.vocab))
                rows.append(p)
                cols.append(q)
        self.size = len(prefix_lists)
        data = np.ones(len(rows), dtype=np.float32)
        self.incidence = sparse.csr_matrix(
            (data, (rows, cols)), shape=(self.size, max(len(self.vocab), 1))
        )
        self.has_any = np.diff(self.incidence.indptr) > 0
        self.max_len = max((len(p) for p in self.vocab), default=0)
        self._cache: dict[str, np.ndarray] = {}

    def any_match(self, values: Sequence[str], cols: np.ndarray | None = None) -> np.ndarray:
        """Rows are cached per value: batches meet the same few thousand region
        and industry codes again and again (memory: distinct values x P bytes)."""
        missing = [v for v in dict.fromkeys(values) if v not in self._cache]
        if missing:
            for value, row in zip(missing, self._compute(missing), strict=True):
                self._cache[value] = row
        width = self.size if cols is None else len(cols)
        if not len(values):
            return np.zeros((0, width), dtype=bool)
        if cols is None:
            return np.stack([self._cache[v] for v in values])
        return np.stack([self._cache[v][cols] for v in values])

    def _compute(self, values: Sequence[str]) -> np.ndarray:
        from scipy import sparse

        rows, cols = [], []
        for u, value in enumerate(values):
            for n in range(min(len(value), self.max_len) + 1):
                q = self.vocab.get(value[:n])
                if q is not None:
                    rows.append(u)
                    cols.append(q)
        hits = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(len(values), self.incidence.shape[1]),
        )
        return (hits @ self.incidence.T).toarray() > 0


# --- the two tables --------------------------------------------------------------------


@dataclass
class ProductTable:
    """P products as columns of arrays; row order is the product id order."""

    ids: np.ndarray  # int64, strictly increasing
    kind_answers: np.ndarray  # uint16 mask over DEMAND_KINDS
    amount_min: np.ndarray  # int64 分, I64_MIN when absent
    amount_max: np.ndarray  # int64 分, I64_MAX when absent
    term_min: np.ndarray  # int64 months, I64_MIN when absent
    term_max: np.ndarray  # int64 months, I64_MAX when absent
    rate_min: np.ndarray  # int64 1e-4 %, I64_MIN when absent
    collateral_required: np.ndarray  # bool
    collateral_options: np.ndarray  # uint16 mask over COLLATERALS
    regions: list[tuple[str, ...]]
    industries_in: list[tuple[str, ...]]
    industries_out: list[tuple[str, ...]]
    sizes: np.ndarray  # uint16 mask over SIZES (0 = any)
    qualifications: np.ndarray  # uint16 mask over QUALIFICATIONS
    lists: np.ndarray  # uint16 mask over LISTS
    min_tax_rank: np.ndarray  # int8, -1 when absent
    min_years: np.ndarray  # int64, 0 when absent
    min_revenue: np.ndarray  # int64 分, 0 when absent
    exclude_blacklisted: np.ndarray  # bool
    holdings: np.ndarray  # uint16 mask over HOLDINGS (0 = none required; any one suffices)
    chain: np.ndarray  # int64 chain id, 0 when the product names no chain
    #: (P, len(POLICY_KEYS)) 1 where the product itself serves a policy category.
    policy: np.ndarray
    #: Institution service record: approval rate for similar enterprises by
    #: size (P, len(SIZES) + 1; the last column = all sizes), share of
    #: decisions within the deadline (P,), branch region prefixes.
    approval_rate: np.ndarray
    deadline_rate: np.ndarray
    branch_regions: list[tuple[str, ...]]
    institution_ids: np.ndarray  # int64
    conditions: list[ProductConditions] | None = None
    #: int8 the worst 碳效等级 accepted (1 best … 5), -1 when absent; filled
    #: with -1 when not given (tables built before the condition existed).
    max_carbon_grade: np.ndarray | None = None
    #: (P, 6) int64 rate adjustment in 1e-4 % by 碳效等级: column g for grade g
    #: (1 … 5), column 0 (grade unknown) always 0; zeros when not given.
    carbon_rate_adj: np.ndarray | None = None
    _regions: PrefixIndex | None = field(default=None, repr=False)
    _ind_in: PrefixIndex | None = field(default=None, repr=False)
    _ind_out: PrefixIndex | None = field(default=None, repr=False)
    _branches: PrefixIndex | None = field(default=None, repr=False)

    def __post_init__(self):
        if len(self.ids) > 1 and not np.all(np.diff(self.ids) > 0):
            raise ValueError("product ids must be strictly increasing")
        self._regions = PrefixIndex(self.regions)
        self._ind_in = PrefixIndex(self.industries_in)
        self._ind_out = PrefixIndex(self.industries_out)
        self._branches = PrefixIndex(self.branch_regions)
        self._industry_cache: dict[str, np.ndarray] = {}
        if self.max_carbon_grade is None:
            self.max_carbon_grade = np.full(len(self.ids), -1, dtype=np.int8)
        if self.carbon_rate_adj is None:
            self.carbon_rate_adj = np.zeros((len(self.ids), 6), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, cols: np.ndarray) -> ProductTable:
        """The table of the products `cols` only (increasing), e.g. one
        institution's: a smaller plan for its outreach list."""
        cols = np.asarray(cols, dtype=np.int64)
        values = {}
        for f in fields(self):
            if f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            if value is None:
                values[f.name] = None
            elif isinstance(value, list):
                values[f.name] = [value[c] for c in cols]
            else:
                values[f.name] = value[cols]
        return ProductTable(**values)

    @classmethod
    def from_conditions(
        cls,
        ids: Sequence[int],
        conditions: Sequence[ProductConditions],
        *,
        approval_rate: np.ndarray | None = None,
        deadline_rate: np.ndarray | None = None,
        branch_regions: Sequence[tuple[str, ...]] | None = None,
        institution_ids: Sequence[int] | None = None,
    ) -> ProductTable:
        n = len(conditions)

        def col(fn, dtype):
            return np.fromiter((fn(c) for c in conditions), dtype=dtype, count=n)

        policy = np.zeros((n, len(POLICY_KEYS)))
        for p, c in enumerate(conditions):
            key = _PRODUCT_POLICY.get(c.product_kind)
            if key:
                policy[p, POLICY_KEYS.index(key)] = 1.0
            if {"specialised_sme", "little_giant"} & set(c.required_qualifications):
                policy[p, POLICY_KEYS.index("specialised")] = 1.0
        return cls(
            ids=np.asarray(ids, dtype=np.int64),
            kind_answers=col(
                lambda c: mask(DEMAND_KINDS, PRODUCT_DEMAND_KINDS.get(c.product_kind, ())),
                np.uint16,
            ),
            amount_min=col(
                lambda c: I64_MIN if c.amount_min is None else fen(c.amount_min), np.int64
            ),
            amount_max=col(
                lambda c: I64_MAX if c.amount_max is None else fen(c.amount_max), np.int64
            ),
            term_min=col(lambda c: I64_MIN if c.term_min is None else c.term_min, np.int64),
            term_max=col(lambda c: I64_MAX if c.term_max is None else c.term_max, np.int64),
            rate_min=col(
                lambda c: I64_MIN if c.rate_min is None else rate_units(c.rate_min), np.int64
            ),
            collateral_required=col(lambda c: bool(c.collateral_required), bool),
            collateral_options=col(lambda c: mask(COLLATERALS, c.collateral_options), np.uint16),
            regions=[tuple(a.prefix for a in c.regions) for c in conditions],
            industries_in=[tuple(r.code for r in c.industries_in) for c in conditions],
            industries_out=[tuple(r.code for r in c.industries_out) for c in conditions],
            sizes=col(lambda c: mask(SIZES, c.sizes), np.uint16),
            qualifications=col(
                lambda c: mask(QUALIFICATIONS, c.required_qualifications), np.uint16
            ),
            lists=col(lambda c: mask(LISTS, c.required_lists), np.uint16),
            min_tax_rank=col(
                lambda c: grade_rank(c.min_tax_grade) if c.min_tax_grade else -1, np.int8
            ),
            min_years=col(lambda c: c.min_years or 0, np.int64),
            min_revenue=col(lambda c: fen(c.min_revenue) if c.min_revenue else 0, np.int64),
            exclude_blacklisted=col(lambda c: bool(c.exclude_blacklisted), bool),
            holdings=col(lambda c: mask(HOLDINGS, c.required_holdings), np.uint16),
            chain=col(lambda c: 0 if c.chain is None else int(c.chain.id), np.int64),
            policy=policy,
            approval_rate=(
                np.full((n, len(SIZES) + 1), 0.5)
                if approval_rate is None
                else np.asarray(approval_rate)
            ),
            deadline_rate=np.full(n, 0.5) if deadline_rate is None else np.asarray(deadline_rate),
            branch_regions=list(branch_regions) if branch_regions is not None else [()] * n,
            institution_ids=(
                np.zeros(n, dtype=np.int64)
                if institution_ids is None
                else np.asarray(institution_ids, dtype=np.int64)
            ),
            conditions=list(conditions),
            max_carbon_grade=col(
                lambda c: -1 if c.max_carbon_grade is None else c.max_carbon_grade, np.int8
            ),
            carbon_rate_adj=np.array(
                [
                    [0, *(rate_units(a) for a in c.carbon_rate_adjustments or (0,) * 5)]
                    for c in conditions
                ],
                dtype=np.int64,
            ).reshape(n, 6),
        )

    # Product-side "has a condition" flags, kept in one place.
    @property
    def has_regions(self) -> np.ndarray:
        return self._regions.has_any

    @property
    def has_industry(self) -> np.ndarray:
        return self._ind_in.has_any | self._ind_out.has_any

    def region_ok(self, codes: Sequence[str], cols: np.ndarray | None = None) -> np.ndarray:
        """(len(codes), P or len(cols)) True where the product accepts an enterprise in that region."""
        has = self._regions.has_any if cols is None else self._regions.has_any[cols]
        return self._regions.any_match(codes, cols) | ~has

    def industry_fail(self, codes: Sequence[str], cols: np.ndarray | None = None) -> np.ndarray:
        """(len(codes), P) uint32 of industries_in / industries_out failure bits ("" = unknown: none)."""
        missing = [c for c in dict.fromkeys(codes) if c not in self._industry_cache]
        for code, row in zip(missing, self._industry_fail(missing), strict=True):
            self._industry_cache[code] = row
        if not len(codes):
            return np.zeros((0, len(self) if cols is None else len(cols)), dtype=np.uint32)
        if cols is None:
            return np.stack([self._industry_cache[c] for c in codes])
        return np.stack([self._industry_cache[c][cols] for c in codes])

    def _industry_fail(self, codes: Sequence[str]) -> np.ndarray:
        hit_in = self._ind_in.any_match(codes)
        hit_out = self._ind_out.any_match(codes)
        out = np.where(self._ind_in.has_any & ~hit_in, FAIL["industries_in"], np.uint32(0))
        out |= np.where(hit_out, FAIL["industries_out"], np.uint32(0))
        known = np.array([bool(c) for c in codes])[:, None]
        return np.where(known, out, np.uint32(0)).astype(np.uint32)

    def local(self, codes: Sequence[str], cols: np.ndarray | None = None) -> np.ndarray:
        """(len(codes), P or len(cols)) True where the institution has a branch covering the region."""
        return self._branches.any_match(codes, cols)


@dataclass
class FactTable:
    """D demands (each with its enterprise's facts) as columns of arrays."""

    ids: np.ndarray  # int64 demand ids
    enterprise_ids: np.ndarray  # int64
    region: np.ndarray  # object (str), "" when unknown
    industry: np.ndarray  # object (str), "" when unknown
    size: np.ndarray  # uint16 single bit over SIZES, 0 when unknown
    size_index: np.ndarray  # int8 index into SIZES, len(SIZES) when unknown/other
    quals: np.ndarray  # uint16 mask of verified qualifications
    quals_known: np.ndarray  # bool
    #: uint16 mask of qualifications only declared (active, not verified).
    quals_declared: np.ndarray
    lists: np.ndarray  # uint16 mask
    lists_known: np.ndarray  # bool
    tax_rank: np.ndarray  # int8, -1 when unknown
    age_years: np.ndarray  # int64 whole years on `today`
    age_known: np.ndarray  # bool
    revenue: np.ndarray  # int64 分
    revenue_known: np.ndarray  # bool
    revenue_verified: np.ndarray  # bool: False when the revenue is declared only
    blacklisted: np.ndarray  # int8: -1 unknown, 0 no, 1 yes
    kind: np.ndarray  # uint16 single bit over DEMAND_KINDS, 0 when not stated
    amount: np.ndarray  # int64 分
    has_amount: np.ndarray  # bool
    term: np.ndarray  # int64 months
    has_term: np.ndarray  # bool
    rate_max: np.ndarray  # int64 1e-4 %
    has_rate: np.ndarray  # bool
    collateral: np.ndarray  # uint16 mask of collateral offered
    collateral_known: np.ndarray  # bool
    collateral_nonempty: np.ndarray  # bool
    #: False for an enterprise without a demand (outreach): no demand rule is checked.
    has_demand: np.ndarray  # bool
    holdings: np.ndarray  # uint16 mask over HOLDINGS of the kinds held (amount > 0)
    holdings_known: np.ndarray  # bool
    #: (D, len(HOLDINGS)) int64 分 held of each kind (0 when unknown), for reasons.
    holdings_amount: np.ndarray
    #: Index into `chain_sets` of the row's chain memberships, -1 when unknown.
    chain_key: np.ndarray  # int64
    chain_sets: list[frozenset[int]]
    facts: list[tuple[EnterpriseFacts, DemandFacts | None]] | None = None
    #: int8 latest 碳效等级 (1 best … 5), -1 when unknown (filled when not given).
    carbon_grade: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def __post_init__(self):
        if self.carbon_grade is None:
            self.carbon_grade = np.full(len(self.ids), -1, dtype=np.int8)
        #: (D, len(POLICY_KEYS)) policy categories of each demand's enterprise.
        self.policy = policy_members(
            np.where(self.quals_known, self.quals, 0), np.where(self.lists_known, self.lists, 0)
        )

    @classmethod
    def from_facts(
        cls,
        ids: Sequence[int],
        rows: Sequence[tuple[EnterpriseFacts, DemandFacts | None]],
        *,
        today: date,
        enterprise_ids: Sequence[int] | None = None,
    ) -> FactTable:
        n = len(rows)
        es = [r[0] for r in rows]
        ds = [r[1] or DemandFacts() for r in rows]

        def col(items, fn, dtype):
            return np.fromiter((fn(x) for x in items), dtype=dtype, count=n)

        ages = [years_between(e.founded_on, today) if e.founded_on else 0 for e in es]
        held = np.zeros((n, len(HOLDINGS)), dtype=np.int64)
        have = np.zeros(n, dtype=np.uint16)
        for r, e in enumerate(es):
            if e.holdings is not None:
                for kind, k in HOLDINGS.items():
                    amount = e.holdings.amount(kind)
                    held[r, k] = max(fen(amount), 0)
                    if amount > 0:  # the pure function's test, not the rounded 分
                        have[r] |= 1 << k
        chain_sets: dict[frozenset[int], int] = {}
        chain_key = np.fromiter(
            (
                -1
                if e.chains is None
                else chain_sets.setdefault(frozenset(e.chains), len(chain_sets))
                for e in es
            ),
            dtype=np.int64,
            count=n,
        )
        return cls(
            ids=np.asarray(ids, dtype=np.int64),
            enterprise_ids=np.asarray(
                enterprise_ids if enterprise_ids is not None else ids, dtype=np.int64
            ),
            region=np.array([e.region_code or "" for e in es], dtype=object),
            industry=np.array([e.industry_code or "" for e in es], dtype=object),
            size=col(es, lambda e: bit(SIZES, e.size) if e.size else 0, np.uint16),
            size_index=col(
                es, lambda e: SIZES.get(e.size, len(SIZES)) if e.size else len(SIZES), np.int8
            ),
            quals=col(es, lambda e: mask(QUALIFICATIONS, e.qualifications or ()), np.uint16),
            quals_known=col(es, lambda e: e.qualifications is not None, bool),
            quals_declared=col(
                es, lambda e: mask(QUALIFICATIONS, e.declared_qualifications or ()), np.uint16
            ),
            lists=col(es, lambda e: mask(LISTS, e.lists or ()), np.uint16),
            lists_known=col(es, lambda e: e.lists is not None, bool),
            tax_rank=col(es, lambda e: grade_rank(e.tax_grade) if e.tax_grade else -1, np.int8),
            age_years=np.asarray(ages, dtype=np.int64),
            age_known=col(es, lambda e: e.founded_on is not None, bool),
            revenue=col(es, lambda e: 0 if e.revenue is None else fen(e.revenue), np.int64),
            revenue_known=col(es, lambda e: e.revenue is not None, bool),
            revenue_verified=col(es, lambda e: bool(e.revenue_verified), bool),
            blacklisted=col(
                es, lambda e: -1 if e.blacklisted is None else int(bool(e.blacklisted)), np.int8
            ),
            kind=col(ds, lambda d: 0 if d.kind is None else bit(DEMAND_KINDS, d.kind), np.uint16),
            amount=col(ds, lambda d: 0 if d.amount is None else fen(d.amount), np.int64),
            has_amount=col(ds, lambda d: d.amount is not None, bool),
            term=col(ds, lambda d: 0 if d.term_months is None else d.term_months, np.int64),
            has_term=col(ds, lambda d: d.term_months is not None, bool),
            rate_max=col(
                ds, lambda d: 0 if d.rate_max is None else rate_units(d.rate_max), np.int64
            ),
            has_rate=col(ds, lambda d: d.rate_max is not None, bool),
            collateral=col(ds, lambda d: mask(COLLATERALS, d.collateral_offered or ()), np.uint16),
            collateral_known=col(ds, lambda d: d.collateral_offered is not None, bool),
            collateral_nonempty=col(ds, lambda d: bool(d.collateral_offered), bool),
            has_demand=np.fromiter((r[1] is not None for r in rows), dtype=bool, count=n),
            holdings=have,
            holdings_known=col(es, lambda e: e.holdings is not None, bool),
            holdings_amount=held,
            chain_key=chain_key,
            chain_sets=list(chain_sets),
            facts=[(e, d) for e, d in zip(es, (r[1] for r in rows), strict=True)],
            carbon_grade=col(
                es, lambda e: -1 if e.carbon_grade is None else e.carbon_grade, np.int8
            ),
        )
