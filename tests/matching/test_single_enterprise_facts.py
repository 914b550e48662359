"""One enterprise's facts through the compiled single-enterprise queries
(`adapter._one_enterprise` and its siblings, core.lookups.PlannedQuery,
used when publishing a demand) are the facts the ORM path reads for several
enterprises at once, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chanrong.matching import adapter
from chanrong.registry.models import Qualification

from .test_adapter import _fresh_cache, registry_facts  # noqa: F401 - fixtures


@pytest.mark.django_db
def test_one_enterprise_reads_the_same_facts_as_the_bulk_path(world, registry_facts):  # noqa: F811
    today = registry_facts
    enterprises = (world.ent, world.ent2, world.ent_js)
    for day in (today, today - timedelta(days=100)):
        bulk = adapter.enterprise_facts_bulk([(e.pk, day) for e in enterprises])
        alone = [adapter.enterprise_facts_bulk([(e.pk, day)])[0] for e in enterprises]
        assert alone == bulk
    (ent,) = adapter.enterprise_facts_bulk([(world.ent.pk, today)])
    assert "manufacturing_white_list" in ent.lists and ent.tax_grade == "A"
    assert ent.qualifications == frozenset({"high_tech"})
    (ent2,) = adapter.enterprise_facts_bulk([(world.ent2.pk, today)])
    assert ent2.blacklisted is True and "red_list" not in ent2.lists


@pytest.mark.django_db
def test_the_compiled_queries_read_the_rows_of_now(world, registry_facts):  # noqa: F811
    """Compiled once, run each time: a qualification added afterwards counts."""
    today = registry_facts
    (before,) = adapter.enterprise_facts_bulk([(world.ent_js.pk, today)])
    assert "tech_sme" not in before.qualifications
    Qualification.objects.create(
        enterprise=world.ent_js,
        kind="tech_sme",
        issuer="科技厅",
        valid_from=today - timedelta(days=1),
        status="verified",
    )
    with CaptureQueriesContext(connection) as queries:
        (after,) = adapter.enterprise_facts_bulk(
            [(world.ent_js.pk, today)], supply_facts=False, carbon_facts=False
        )
    assert "tech_sme" in after.qualifications
    # The enterprise, its qualifications, its list memberships: one statement each.
    assert len(queries) == 3
    assert (
        after
        == adapter.enterprise_facts_bulk(
            [(world.ent_js.pk, today), (world.ent.pk, today)],
            supply_facts=False,
            carbon_facts=False,
        )[0]
    )


@pytest.mark.django_db
def test_an_unknown_enterprise_reads_nothing_and_fails_as_before(world):
    with pytest.raises(KeyError):
        adapter.enterprise_facts_bulk([(2_000_000_000, timezone.localdate())])
