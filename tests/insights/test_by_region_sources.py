"""Every computed source's `by_region` pass (one grouped query for all the
regions under a prefix, what insights' county table uses) answers what its
`fn` answers region by region, on the demo's records of every app (loan book,
policy, funds, listing, supply chain, events, platform financing); and the
county table agrees with the one-region figures for every computed indicator,
a county with no records included."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chanrong.core.models import Region
from chanrong.insights import services
from chanrong.insights.models import IndicatorDefinition
from chanrong.insights.services.regional import county_table
from chanrong.insights.sources import registered
from tests.module_demo import demo_for_module

JIASHAN = "330421"

# Sources given a by_region pass for issue 21, and the loan book's (rewritten
# without per-loan subqueries): each must have one.
GROUPED = (
    "risk.",
    "policy.",
    "funds.",
    "listing.",
    "supplychain.",
    "events.",
    "platform.",
    "registry.",
)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Built once for the module (tests/module_demo.py); each test sees it fresh."""
    with demo_for_module(django_db_blocker, seed=11, scale=0.05) as ctx:
        yield ctx


def _counties(prefix: str) -> list[str]:
    return list(
        Region.objects.filter(code__startswith=prefix, level="county")
        .order_by("code")
        .values_list("code", flat=True)
    )


def test_every_platform_source_has_a_by_region_pass():
    missing = [k for k, s in registered().items() if k.startswith(GROUPED) and not s.by_region]
    assert not missing


WINDOWS = (
    (None, date(2022, 12, 31)),  # a 时点 at a past year end
    (date(2023, 1, 1), date(2023, 12, 31)),  # a 时期
    (None, date(2030, 12, 31)),  # everything the demo holds
    (date(2024, 1, 1), date(2030, 12, 31)),
)


@pytest.mark.django_db
def test_by_region_equals_one_region_at_a_time(demo):
    seen_data = set()
    for key, source in sorted(registered().items()):
        if source.by_region is None:
            continue
        for prefix in ("33", ""):
            all_counties = set(_counties(prefix))
            for start, end in WINDOWS:
                # a row registered at a city or province level (a fund) is
                # keyed by that code: only the counties' figures are compared
                found = {
                    c: v
                    for c, v in source.by_region(prefix, start, end).items()
                    if c in all_counties
                }
                empty = sorted(all_counties - set(found))[:2]
                # 嘉善, where the demo puts most of its records, always
                for code in {*found, *empty, JIASHAN}:
                    expected = source.fn(code, start, end)
                    got = found.get(code)
                    if got is None:
                        assert expected in (None, 0), (key, prefix, code, start, end)
                    else:
                        assert got == expected, (key, prefix, code, start, end)
                        if got:
                            seen_data.add(key)
    # the demo gives (nearly) every source something to count
    assert len(seen_data) >= len(registered()) - 3, sorted(set(registered()) - seen_data)
    for family in GROUPED:
        assert any(k.startswith(family) for k in seen_data), (family, sorted(seen_data))


@pytest.mark.django_db
def test_county_table_equals_one_county_at_a_time(demo):
    zhejiang = Region.objects.get(code="330000")
    definitions = [d for d in IndicatorDefinition.objects.all() if d.computed]
    table = county_table(zhejiang, [2022, 2023], definitions)
    with_data = sorted(
        {
            c
            for c, row in table.items()
            for by_year in row.values()
            for v, _s in by_year.values()
            if v
        }
    )
    without = [c for c in table if c not in with_data][:1]
    assert with_data and without
    for code in [*with_data[:3], *without]:
        county = Region.objects.get(code=code)
        for d in definitions:
            for year in (2022, 2023):
                one = services.indicator_value(d, county, date(year, 1, 1), date(year, 12, 31))
                assert table[code][d.code][year] == (one.value, one.second), (code, d.code, year)
                if d.is_rate and table[code][d.code][year][0] is None:
                    continue
                assert table[code][d.code][year][0] is not None or one.value is None
    assert Decimal(0) in {table[without[0]][d.code][2023][0] for d in definitions}


@pytest.mark.django_db
def test_inclusive_statements_equal_the_orm_rule(demo):
    """The 普惠 balance and rate, one SQL statement each, against the rule
    written as ORM filters with a 授信 subquery per loan (risk._inclusive)."""
    from django.db.models import F, OuterRef, Sum

    from chanrong.risk import sources as risk
    from chanrong.risk.models import LoanAccount

    for prefix in ("33", ""):
        for year in (2021, 2022, 2023):
            start, end = date(year, 1, 1), date(year, 12, 31)
            book = risk._inclusive(risk.on_book(prefix, end), end)
            assert risk.inclusive_balance_by_region(prefix, None, end) == risk._balances(book, end)
            loans = LoanAccount.objects.filter(
                disbursed_on__gte=start, disbursed_on__lte=end, rate__isnull=False
            )
            if prefix:
                loans = loans.filter(enterprise__region__code__startswith=prefix)
            rows = (
                risk._inclusive(loans, OuterRef("disbursed_on"))
                .values("enterprise__region_id")
                .order_by()
                .annotate(w=Sum(F("principal") * F("rate")), n=Sum("principal"))
                .values_list("enterprise__region_id", "w", "n")
            )
            expected = {code: w / n for code, w, n in rows if n}
            assert risk.inclusive_rate_by_region(prefix, start, end) == expected
            assert expected or year < 2023


@pytest.mark.django_db
def test_npl_statement_equals_the_orm_rule(demo):
    """不良贷款率's one statement against the rule as ORM filters: the balance
    of the loans on the book, and of those whose latest event is 次级/可疑/损失."""
    from chanrong.risk import sources as risk

    for prefix in ("33", ""):
        for year in (2021, 2022, 2023):
            end = date(year, 12, 31)
            book = risk.on_book(prefix, end)
            total = risk._balances(book, end)
            bad = risk._balances(risk._non_performing_at(book, end), end)
            expected = {code: (bad.get(code, Decimal(0)), t) for code, t in total.items()}
            assert risk._npl_pairs(prefix, end) == expected
            assert any(b for b, _t in expected.values()) or year < 2023


@pytest.mark.django_db
def test_by_region_many_equals_one_window_at_a_time(demo):
    """A source's `by_region_many` (every window in one statement, what the
    county table asks) answers, window by window, what `by_region` answers
    for that window alone — several year ends at once, and periods."""
    many = {k: s for k, s in registered().items() if s.by_region_many is not None}
    assert {k for k in many if k.startswith("risk.")} == {
        k for k in registered() if k.startswith("risk.")
    }
    stocks = [(None, date(y, 12, 31)) for y in (2020, 2021, 2022, 2023)]
    periods = [(date(y, 1, 1), date(y, 12, 31)) for y in (2021, 2022, 2023)]
    seen = set()
    for key, source in sorted(many.items()):
        windows = periods if source.kind == "period" else stocks
        for prefix in ("33", JIASHAN, ""):
            answered = source.by_region_many(prefix, windows)
            assert set(answered) == set(windows), key
            for start, end in windows:
                alone = source.by_region(prefix, start, end)
                assert answered[(start, end)] == alone, (key, prefix, start, end)
                if any(alone.values()):
                    seen.add(key)
    assert seen == set(many), sorted(set(many) - seen)


@pytest.mark.django_db
def test_book_balances_equal_the_orm_rule(demo):
    """The 制造业, 制造业中长期 and 绿色信贷 balances of the one pass over the
    loan book (risk.book_pass) against each rule as ORM filters over the
    loans on the book, summed loan by loan (risk._balances)."""
    from chanrong.risk import sources as risk

    for prefix in ("33", ""):
        for year in (2021, 2022, 2023):
            end = date(year, 12, 31)
            book = risk.on_book(prefix, end)
            manufacturing = risk._manufacturing(book)
            for got, expected in (
                (risk.manufacturing_balance_by_region, risk._balances(manufacturing, end)),
                (
                    risk.manufacturing_long_term_by_region,
                    risk._balances(risk._long_term(manufacturing), end),
                ),
                (risk.green_balance_by_region, risk._balances(risk._green(book, end), end)),
            ):
                assert got(prefix, None, end) == expected, (got.__name__, prefix, year)


@pytest.mark.django_db
def test_the_book_batch_answers_what_each_source_answers(demo):
    """The county table asks the loan book's five balances and ratio in one
    pass for every date (risk.book_sources_many): the same as each source's
    own `by_region_many`, and a key it does not know is left to its source."""
    from chanrong.risk import sources as risk

    stocks = [(None, date(y, 12, 31)) for y in (2020, 2021, 2022, 2023)]
    keys = [k for k, s in registered().items() if k.startswith("risk.") and s.kind == "stock"]
    answered = risk.book_sources_many(
        "33", {**{k: stocks for k in keys}, "events.sessions": stocks}
    )
    assert set(answered) == set(keys) and len(keys) == 5
    for key in keys:
        assert answered[key] == registered()[key].by_region_many("33", stocks), key
