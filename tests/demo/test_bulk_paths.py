"""The builders' fast paths write what the slow ones wrote.

`base.bulk_set` stands in for QuerySet.bulk_update (a VALUES join on
PostgreSQL instead of one CASE per field), and the demands builder reads an
enterprise's facts through matching's bulk path, with the carbon grades and
the (empty) supply-chain facts read once (`demand_facts.FactsReader`),
instead of finance.services.enterprise_facts: each is checked here against
the path it replaces, on the demo world, on whichever database the suite
runs on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from chanrong.demands.models import Demand
from chanrong.demo.builders import demands as demand_builder
from chanrong.demo.builders.base import bulk_set
from chanrong.demo.builders.demand_facts import FactsReader
from chanrong.finance.eligibility import Holdings
from chanrong.finance.services import enterprise_facts
from chanrong.registry.models import Enterprise, OperatingRecord
from chanrong.supplychain.models import Chain, ChainMember, Receivable, Voucher

pytestmark = pytest.mark.django_db

ENTERPRISE_FIELDS = [
    "founded_on",
    "registered_capital",
    "contact_phone",  # encrypted
    "contact_phone_hash",
    "address",
    "rd_expense",  # nullable decimal
    "is_above_scale",
    "tax_grade_year",  # nullable smallint
    "figures_verified_by",  # foreign key, by name
    "figures_verified_at",
]
RECORD_FIELDS = ["flags", "reviewed_at", "review_note", "profit", "created_at", "updated_at"]


class Rollback(Exception):
    pass


def _rows(model, pks, fields):
    model_fields = [model._meta.get_field(name) for name in fields]
    return list(
        model.objects.filter(pk__in=pks)
        .order_by("pk")
        .values_list("pk", *(f.attname for f in model_fields))
    )


def _written_by(write, model, objs, fields):
    """The rows after `write(objs)`, then rolled back."""
    pks = [o.pk for o in objs]
    try:
        with transaction.atomic():
            write(objs)
            rows = _rows(model, pks, fields)
            raise Rollback
    except Rollback:
        pass
    return rows


def _enterprise_changes(enterprises, agency):
    for i, e in enumerate(enterprises):
        e.founded_on = date(2001, 1, 1) + timedelta(days=37 * i)
        e.registered_capital = Decimal("123.45") * (i + 1)
        e.contact_phone = "" if i % 3 == 0 else f"1380000{i:04d}"
        e.contact_phone_hash = f"hash-{i}"
        e.address = f"测试地址 {i} 号 ' \" \\ 引号"
        e.rd_expense = None if i % 2 else Decimal("0.01")
        e.is_above_scale = bool(i % 2)
        e.tax_grade_year = None if i % 4 == 0 else 2020 + i % 5
        e.figures_verified_by = agency if i % 2 else None
        e.figures_verified_at = datetime(2025, 3, 1, 8, 30, tzinfo=UTC) if i % 2 else None
    return enterprises


def test_bulk_set_writes_what_bulk_update_writes(demo):
    from chanrong.accounts.models import GovernmentAgency

    agency = GovernmentAgency.objects.order_by("pk").first()
    pks = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True)[:25])
    before = _rows(Enterprise, pks, ENTERPRISE_FIELDS)

    def fresh():
        return _enterprise_changes(list(Enterprise.objects.filter(pk__in=pks)), agency)

    expected = _written_by(
        lambda objs: Enterprise.objects.bulk_update(objs, ENTERPRISE_FIELDS, batch_size=7),
        Enterprise,
        fresh(),
        ENTERPRISE_FIELDS,
    )
    got = _written_by(
        lambda objs: bulk_set(Enterprise, objs, ENTERPRISE_FIELDS, batch_size=7),
        Enterprise,
        fresh(),
        ENTERPRISE_FIELDS,
    )
    assert got == expected
    assert got != before  # the changes did change something
    assert _rows(Enterprise, pks, ENTERPRISE_FIELDS) == before  # and were rolled back


def test_bulk_set_writes_json_and_timestamps_as_bulk_update(demo):
    pks = list(OperatingRecord.objects.order_by("pk").values_list("pk", flat=True)[:30])
    assert pks

    def fresh():
        records = list(OperatingRecord.objects.filter(pk__in=pks))
        for i, r in enumerate(records):
            r.flags = [{"field": "revenue", "reason": f"理由 {i}"}] if i % 2 else []
            r.reviewed_at = None if i % 3 else datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
            r.review_note = f"备注 {i}"
            r.profit = Decimal("-1.50") * i
            r.created_at = r.updated_at = datetime(2023, 5, 6, 2, 0, tzinfo=UTC)
        return records

    expected = _written_by(
        lambda objs: OperatingRecord.objects.bulk_update(objs, RECORD_FIELDS),
        OperatingRecord,
        fresh(),
        RECORD_FIELDS,
    )
    got = _written_by(
        lambda objs: bulk_set(OperatingRecord, objs, RECORD_FIELDS, batch_size=4),
        OperatingRecord,
        fresh(),
        RECORD_FIELDS,
    )
    assert got == expected
    assert {row[-1] for row in got} == {datetime(2023, 5, 6, 2, 0, tzinfo=UTC)}


def test_bulk_set_refuses_unsaved_rows_as_bulk_update_does(demo):
    with pytest.raises(ValueError):
        Enterprise.objects.bulk_update([Enterprise(name="x")], ["name"])
    with pytest.raises(ValueError):
        bulk_set(Enterprise, [Enterprise(name="x")], ["name"])


def _demand_pairs():
    pairs = [
        (d.enterprise, d.published_at.date())
        for d in Demand.objects.filter(published_at__isnull=False)
        .select_related("enterprise__region", "enterprise__industry")
        .order_by("pk")[:60]
    ]
    return pairs + [(e, date.today()) for e, _day in pairs[:10]]


def test_demand_stories_read_the_finance_services_facts(demo):
    """The demands builder's facts (read ahead, and not) == finance.services.
    enterprise_facts for the demo's enterprises with a demand, on the day
    each was published and today; here the supply-chain tables have rows,
    so the reader asks finance.supply."""
    pairs = _demand_pairs()
    assert pairs
    ahead = FactsReader(list(Enterprise.objects.values_list("pk", flat=True)))
    assert not ahead.supply_empty
    plain = demand_builder.World([], date(2026, 6, 15))
    for enterprise, day in pairs:
        expected = enterprise_facts(enterprise, today=day)
        assert ahead.facts(enterprise.pk, day) == expected
        assert plain.facts(enterprise, day) == expected


def test_without_supply_chain_rows_the_facts_hold_nothing_as_the_service_says(demo):
    """While the supply-chain tables are empty (when the demands builder runs)
    the reader does not ask finance.supply: zero holdings, no chains. That
    is what the service answers for an enterprise without rows."""
    with_rows = set(ChainMember.objects.values_list("enterprise_id", flat=True))
    with_rows |= set(Chain.objects.values_list("lead_id", flat=True))
    with_rows |= set(Receivable.objects.values_list("creditor_id", flat=True))
    with_rows |= set(Voucher.objects.values_list("holder_id", flat=True))
    pairs = [(e, day) for e, day in _demand_pairs() if e.pk not in with_rows]
    assert pairs
    reader = FactsReader([e.pk for e, _day in pairs])
    reader.supply_empty = True  # as it is before the supply-chain builder runs
    for enterprise, day in pairs:
        facts = reader.facts(enterprise.pk, day)
        assert facts.holdings == Holdings() and facts.chains == frozenset()
        assert facts == enterprise_facts(enterprise, today=day)
