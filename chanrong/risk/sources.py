"""The 金融资源 indicators the loan book answers (registered with insights'
computed sources in RiskConfig.ready; the keys are insights.catalogue's).

Every figure is rebuilt from the history of each loan, never read from
today's running `outstanding`, so a balance at a past year end is what it was
on that day:

- a loan is **on the book at D** when it was disbursed on or before D and was
  not renewed (无还本续贷: its balance continues as the new loan, which is on
  the book from its own disbursement) or written off (核销) on or before D;
  a recalled loan (提前收回) stays on the book until it is repaid;
- its **balance at D** = principal − principal repaid on or before D;
- its **class at D** (五级分类) = the class of its latest LoanEvent on or before
  D (the opening event carries the class at disbursement); none: 正常.

Both loans made through the platform and loans the banks report (平台外) count:
the book is the region's lending as far as the platform knows it.

The rules of each indicator (also written in the catalogue's 口径):

- 制造业贷款余额 (时点): balance at D of loans to enterprises whose industry is
  in GB/T 4754 门类 C (制造业).
- 制造业中长期贷款余额 (时点): the same, original term over one year
  (maturity later than the same day a year after disbursement) — the PBOC's
  中长期贷款 (原始期限一年以上).
- 普惠型小微企业贷款余额 (时点): loans to 小型 / 微型 enterprises (the registry's
  size, 工信部联企业〔2011〕300号) whose 单户授信总额 is 1000 万元 or less — the
  CBIRC definition of 普惠型小微企业贷款 (银保监办发〔2019〕48号: 单户授信总额
  1000 万元（含）以下的小微企业贷款; the PBOC's 普惠小微贷款 statistics use the
  same limit). The platform holds loans, not
  credit lines, so the borrower's 授信 at one institution is taken as the sum of
  the principal of its loans from that institution on the book at D.
- 普惠型小微企业贷款利率 (时期): principal-weighted average of the contract
  rate (执行年利率) of 普惠型 loans disbursed in [start, end] (the 授信 test at
  the disbursement date); loans with no rate reported are left out.
- 不良贷款率 (时点): balance of loans classed 次级 / 可疑 / 损失 at D ÷ balance
  of all loans at D, in percent.
- 绿色信贷余额 (时点): balance at D of loans to enterprises that are members
  (not removed) of a published 绿色融资企业（项目）库 version (registry
  ListType.GREEN) in force at D. The platform has no green-product or
  green-purpose flag on a loan, so the borrower's listing decides.

Each source answers one region prefix (`fn`), every county under a prefix
(`by_region`), and several dates at once (`by_region_many`). The balances and
不良贷款率 are read from one pass over the loan book (book_pass), which the
county table asks once for all five sources and every date of a plan
(`book_sources_many`, registered as a batch); the rate is one statement for
every period. bench/indicators_compute.py measures it.
"""

from __future__ import annotations

from datetime import date
from decimal import Context, Decimal

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from chanrong.core.codes import EnterpriseSize
from chanrong.registry.models import EntryChange, ListEntry, ListType, VersionStatus

from . import book_pass
from .models import NON_PERFORMING, LoanAccount, LoanEvent, LoanStatus, Repayment

INCLUSIVE_LIMIT = Decimal("10000000")  # 单户授信总额 1000 万元（含）
_EXITS = (LoanStatus.RENEWED, LoanStatus.WRITTEN_OFF)
_ZERO = Value(Decimal(0))
_SMALL = (EnterpriseSize.SMALL, EnterpriseSize.MICRO)


def on_book(prefix: str, on: date):
    """Loans of enterprises under `prefix` on the book at `on`."""
    qs = LoanAccount.objects.filter(disbursed_on__lte=on).exclude(
        status__in=_EXITS, closed_on__lte=on
    )
    if prefix:
        qs = qs.filter(enterprise__region__code__startswith=prefix)
    return qs


def _non_performing_at(qs, on: date):
    """Loans of `qs` whose class at `on` (that of their latest LoanEvent on or
    before `on`, ties broken by the later row) is 次级 / 可疑 / 损失: the
    latest event found by an anti-join (no later event on or before `on`)."""
    later = LoanEvent.objects.filter(loan=OuterRef("loan"), on__lte=on).filter(
        Q(on__gt=OuterRef("on")) | Q(on=OuterRef("on"), pk__gt=OuterRef("pk"))
    )
    latest_bad = (
        LoanEvent.objects.filter(on__lte=on, classification__in=sorted(NON_PERFORMING))
        .exclude(Exists(later))
        .values("loan")
    )
    return qs.filter(pk__in=latest_bad)


def _manufacturing(qs):
    return qs.filter(enterprise__industry__code__startswith="C")


def _long_term(qs):
    return qs.filter(book_pass.LONG_TERM_Q)


def _inclusive(qs, on):
    """Small and micro borrowers whose 授信 at the lender (principal of their
    loans from it on the book at `on`, a date or the loan's own column) is at
    most 1000 万元."""
    credit = Coalesce(
        Subquery(
            LoanAccount.objects.filter(
                enterprise_id=OuterRef("enterprise_id"),
                institution_id=OuterRef("institution_id"),
                disbursed_on__lte=on,
            )
            .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=on) | ~Q(status__in=_EXITS))
            .order_by()
            .values("enterprise_id")
            .annotate(total=Sum("principal"))
            .values("total")[:1]
        ),
        _ZERO,
    )
    return (
        qs.filter(enterprise__size__in=_SMALL)
        .annotate(credit_line=credit)
        .filter(credit_line__lte=INCLUSIVE_LIMIT)
    )


def _green(qs, on: date):
    listed = ListEntry.objects.filter(
        enterprise_id=OuterRef("enterprise_id"),
        version__list__list_type=ListType.GREEN,
        version__status=VersionStatus.PUBLISHED,
        version__effective_from__lte=on,
    ).filter(Q(version__effective_until__isnull=True) | Q(version__effective_until__gte=on))
    listed = listed.exclude(change=EntryChange.REMOVED)
    return qs.filter(Exists(listed))


# --------------------------------------------------------------------------
# balances grouped by the borrower's region (6-digit code)


def _balances(qs, on: date) -> dict[str, Decimal]:
    """Σ (principal − principal repaid on or before `on`) of the loans `qs`,
    by borrower region, in one statement: the loans joined to their
    repayments grouped once (no subquery per loan), principal and repaid
    summed apart and subtracted (the same sum as loan by loan)."""
    inner, params = (
        qs.order_by()
        .values(
            book_id=F("pk"), book_region=F("enterprise__region_id"), book_principal=F("principal")
        )
        .query.sql_with_params()
    )
    repayments = connection.ops.quote_name(Repayment._meta.db_table)
    sql = (
        "SELECT t.book_region, SUM(t.book_principal), SUM(COALESCE(p.amount, 0)) "  # noqa: S608
        f"FROM ({inner}) t LEFT JOIN (SELECT r.loan_id, SUM(r.principal) AS amount "
        f"FROM {repayments} r WHERE r.paid_on <= %s GROUP BY r.loan_id) p "
        "ON p.loan_id = t.book_id GROUP BY t.book_region"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, on])
        rows = cursor.fetchall()
    return {
        code: _money_value(principal) - _money_value(repaid) for code, principal, repaid in rows
    }


def _total(values: dict[str, Decimal]) -> Decimal:
    return sum(values.values(), Decimal(0))


_CENT = Decimal("0.01")
_FLOAT = Context(prec=15)  # how Django turns SQLite's REAL sums into Decimal


def _money_value(value) -> Decimal:
    if isinstance(value, Decimal):
        return value.quantize(_CENT)
    return _FLOAT.create_decimal_from_float(float(value or 0)).quantize(_CENT)


# --------------------------------------------------------------------------
# every date at once: the balances and 不良贷款率 from one pass over the loan
# book (book_pass), for one source or — `book_sources_many`, what the county
# table asks — for all of them and every date of a plan together.

Window = tuple[date | None, date]


def _dates(windows: list[Window]) -> list[date]:
    return sorted({end for _start, end in windows})


def _answers(figures: book_pass.Figures, name: str, windows: list[Window]) -> dict:
    index = {d: i for i, d in enumerate(figures.dates)}
    if name == book_pass.NPL:
        return {w: _pairs_to_ratio(figures.npl[index[w[1]]]) for w in windows}
    return {w: figures.balances[name][index[w[1]]] for w in windows}


def book_sources_many(prefix: str, wanted: dict[str, list[Window]]) -> dict[str, dict]:
    """{source key: {window: {region: value}}} for the loan-book sources in
    `wanted` (keys of insights.catalogue), every window, one statement."""
    figures_of = _book_keys()
    asked = {key: windows for key, windows in wanted.items() if key in figures_of and windows}
    if not asked:
        return {}
    dates = sorted({end for windows in asked.values() for _s, end in windows})
    figures = book_pass.book_figures(prefix, dates, {figures_of[k] for k in asked})
    return {key: _answers(figures, figures_of[key], windows) for key, windows in asked.items()}


def _book_keys() -> dict[str, str]:
    from chanrong.insights import catalogue as c

    return {
        c.SOURCE_MANUFACTURING_LOANS: book_pass.MANUFACTURING,
        c.SOURCE_MANUFACTURING_LONG_TERM: book_pass.LONG_TERM,
        c.SOURCE_INCLUSIVE_SME_LOANS: book_pass.INCLUSIVE,
        c.SOURCE_GREEN_CREDIT: book_pass.GREEN,
        c.SOURCE_NPL_RATIO: book_pass.NPL,
    }


def _one(name: str):
    def many(prefix: str, windows: list[Window]) -> dict:
        figures = book_pass.book_figures(prefix, _dates(windows), {name})
        return _answers(figures, name, windows)

    def by_region(prefix: str, start: date | None, end: date) -> dict:
        return many(prefix, [(start, end)])[(start, end)]

    return many, by_region


manufacturing_balance_many, manufacturing_balance_by_region = _one(book_pass.MANUFACTURING)
manufacturing_long_term_many, manufacturing_long_term_by_region = _one(book_pass.LONG_TERM)
inclusive_balance_many, inclusive_balance_by_region = _one(book_pass.INCLUSIVE)
green_balance_many, green_balance_by_region = _one(book_pass.GREEN)
npl_ratio_many, npl_ratio_by_region = _one(book_pass.NPL)


def _pairs_to_ratio(pairs: dict[str, tuple[Decimal, Decimal]]) -> dict[str, Decimal]:
    # A region whose loans are all repaid has no ratio (as npl_ratio answers).
    return {code: num / den * 100 for code, (num, den) in pairs.items() if den}


def _npl_pairs(prefix: str, on: date) -> dict[str, tuple[Decimal, Decimal]]:
    return book_pass.book_figures(prefix, [on], {book_pass.NPL}).npl[0]


def _run(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _quote(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _enterprises() -> str:
    return _quote(LoanAccount._meta.get_field("enterprise").related_model)


def _rate_pairs_many(
    prefix: str, periods: list[tuple[date, date]]
) -> list[dict[str, tuple[Decimal, Decimal]]]:
    """(Σ principal × rate, Σ principal) of the 普惠型 loans disbursed in each
    period with a rate, by borrower region, in one statement: the 授信 test
    at each loan's own disbursement date (a self-join on (borrower, lender)
    grouped per loan — `_inclusive(qs, OuterRef("disbursed_on"))` without a
    subquery per loan) depends on the loan alone, so it is done once for
    every period, and each period's sums are a column."""
    first = min(s for s, _e in periods)
    last = max(e for _s, e in periods)
    select, select_params = [], []
    for start, end in periods:
        inside = "l.disbursed_on >= %s AND l.disbursed_on <= %s"
        select.append(
            f"SUM(CASE WHEN {inside} THEN l.principal * l.rate ELSE 0 END), "
            f"SUM(CASE WHEN {inside} THEN l.principal ELSE 0 END)"
        )
        select_params += [start, end, start, end]
    loans = _quote(LoanAccount)
    where_prefix = "AND e.region_id LIKE %s " if prefix else ""
    sql = (
        f"SELECT e.region_id, {', '.join(select)} "  # noqa: S608 (names only)
        f"FROM {loans} l JOIN {_enterprises()} e ON e.id = l.enterprise_id "
        "WHERE l.disbursed_on >= %s AND l.disbursed_on <= %s AND l.rate IS NOT NULL "
        f"AND e.size IN (%s, %s) {where_prefix}"
        "AND l.id IN ("
        f"SELECT n.id FROM {loans} n JOIN {loans} o "
        "ON o.enterprise_id = n.enterprise_id AND o.institution_id = n.institution_id "
        "AND o.disbursed_on <= n.disbursed_on "
        "AND (o.closed_on IS NULL OR o.closed_on > n.disbursed_on OR o.status NOT IN (%s, %s)) "
        "WHERE n.disbursed_on >= %s AND n.disbursed_on <= %s "
        "GROUP BY n.id HAVING SUM(o.principal) <= %s"
        ") GROUP BY e.region_id"
    )
    params: list = [*select_params, first, last, *[str(x) for x in _SMALL]]
    if prefix:
        params.append(prefix + "%")
    params += [*[str(x) for x in _EXITS], first, last, int(INCLUSIVE_LIMIT)]
    out: list[dict] = [{} for _p in periods]
    for row in _run(sql, params):
        for i in range(len(periods)):
            weighted, weight = row[1 + 2 * i : 3 + 2 * i]
            out[i][row[0]] = (_exact(weighted), _money_value(weight))
    return out


def _rate_pairs(prefix: str, start: date, end: date) -> dict[str, tuple[Decimal, Decimal]]:
    return _rate_pairs_many(prefix, [(start, end)])[0]


def _exact(value) -> Decimal:
    """A product's sum as Django reads it (SQLite answers a float)."""
    if isinstance(value, Decimal):
        return value
    return _FLOAT.create_decimal_from_float(float(value or 0))


def _pairs_to_ratio_rate(pairs: dict[str, tuple[Decimal, Decimal]]) -> dict[str, Decimal]:
    return {code: num / den for code, (num, den) in pairs.items() if den}


def inclusive_rate_many(prefix: str, windows: list[Window]):
    periods = [(start or end, end) for start, end in windows]
    found = [_pairs_to_ratio_rate(pairs) for pairs in _rate_pairs_many(prefix, periods)]
    return {w: found[i] for i, w in enumerate(windows)}


def inclusive_rate_by_region(prefix: str, start: date | None, end: date):
    return inclusive_rate_many(prefix, [(start, end)])[(start, end)]


# --------------------------------------------------------------------------
# one region prefix (the insights source signature)


def manufacturing_balance(prefix: str, start: date | None, end: date) -> Decimal:
    return _total(manufacturing_balance_by_region(prefix, start, end))


def manufacturing_long_term(prefix: str, start: date | None, end: date) -> Decimal:
    return _total(manufacturing_long_term_by_region(prefix, start, end))


def inclusive_balance(prefix: str, start: date | None, end: date) -> Decimal:
    return _total(inclusive_balance_by_region(prefix, start, end))


def green_balance(prefix: str, start: date | None, end: date) -> Decimal:
    return _total(green_balance_by_region(prefix, start, end))


def npl_ratio(prefix: str, start: date | None, end: date) -> Decimal | None:
    pairs = _npl_pairs(prefix, end).values()
    bad = sum((p[0] for p in pairs), Decimal(0))
    total = sum((p[1] for p in pairs), Decimal(0))
    return bad / total * 100 if total else None


def inclusive_rate(prefix: str, start: date | None, end: date) -> Decimal | None:
    pairs = _rate_pairs(prefix, start or end, end).values()
    weighted = sum((p[0] for p in pairs), Decimal(0))
    weight = sum((p[1] for p in pairs), Decimal(0))
    return weighted / weight if weight else None


def register() -> None:
    from chanrong.insights import catalogue as c
    from chanrong.insights.sources import register_batch, register_source

    for key, fn, by_region, many, label, money, kind in (
        (c.SOURCE_MANUFACTURING_LOANS, manufacturing_balance, manufacturing_balance_by_region,
         manufacturing_balance_many, "制造业贷款余额（risk 贷款台账）", True, "stock"),
        (c.SOURCE_MANUFACTURING_LONG_TERM, manufacturing_long_term,
         manufacturing_long_term_by_region, manufacturing_long_term_many,
         "制造业中长期贷款余额（risk 贷款台账）", True, "stock"),
        (c.SOURCE_INCLUSIVE_SME_LOANS, inclusive_balance, inclusive_balance_by_region,
         inclusive_balance_many, "普惠型小微企业贷款余额（risk 贷款台账）", True, "stock"),
        (c.SOURCE_INCLUSIVE_SME_RATE, inclusive_rate, inclusive_rate_by_region,
         inclusive_rate_many, "普惠型小微企业贷款加权平均利率（risk 贷款台账）", False, "period"),
        (c.SOURCE_NPL_RATIO, npl_ratio, npl_ratio_by_region, npl_ratio_many,
         "不良贷款率（risk 贷款台账）", False, "stock"),
        (c.SOURCE_GREEN_CREDIT, green_balance, green_balance_by_region, green_balance_many,
         "绿色信贷余额（risk 贷款台账 × 绿色库）", True, "stock"),
    ):  # fmt: skip
        register_source(
            key, fn, label=label, money=money, kind=kind, by_region=by_region, by_region_many=many
        )
    register_batch("risk.book", book_sources_many)
