"""The policy weights a ranking uses are cached per process under a version
read with the product table's (adapter.table_versions): the same weights as
reading the table, and an administrator's change — in this process or in
another (no signal reaches it, only the version) — is seen by the next
ranking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chanrong.core.models import Region
from chanrong.matching import adapter, policy, services
from chanrong.matching.models import PolicyWeights
from chanrong.registry.models import Qualification

from .test_services import _demand, products  # noqa: F401 - fixture

CODES = ("330421", "330424", "330402", "330400", "330000", "110101", "320508", "", "999999")
UID = "chanrong.matching.receivers."


@pytest.fixture(autouse=True)
def _fresh_caches():
    adapter.clear_cache()
    policy.forget_weights()
    yield
    adapter.clear_cache()
    policy.forget_weights()


@pytest.fixture
def other_process():
    """Changes made as another process would: this process's signal
    receivers do not hear them, only the version tells."""
    post_save.disconnect(sender=PolicyWeights, dispatch_uid=UID + "weights_saved")
    post_delete.disconnect(sender=PolicyWeights, dispatch_uid=UID + "weights_gone")
    yield
    post_save.connect(
        policy.forget_weights, sender=PolicyWeights, dispatch_uid=UID + "weights_saved"
    )
    post_delete.connect(
        policy.forget_weights, sender=PolicyWeights, dispatch_uid=UID + "weights_gone"
    )


def _set(world, code: str, **values) -> None:
    weights = {"white_list": 1, "specialised": 1, "tech": 1, "green": 1, **values}
    user = world.user("gov_national")
    policy.set_weights(user, Region.objects.get(pk=code), weights)


def _in_force(code: str):
    return policy.weights_in_force(code, adapter.table_versions().weights)


def _assert_cache_agrees() -> None:
    for code in CODES:
        assert _in_force(code) == policy.weights_for_region(code), code


def _uncached(demand):
    """The ranking with every cache dropped first: what the cached one must equal."""
    adapter.clear_cache()
    policy.forget_weights()
    return services.match_demand(demand, limit=50), services.dispatch_targets(demand)


def _ranked(result) -> list[tuple[int, float]]:
    return [(m.product_id, m.score) for m in result.ranked]


@pytest.mark.django_db
def test_the_cached_weights_are_those_of_the_table(world):
    _assert_cache_agrees()
    _set(world, "330000", white_list=3)
    _assert_cache_agrees()
    _set(world, "330421", tech=2.5, green=0)
    _set(world, "330400", specialised=4)
    _set(world, "110000", tech=0)
    _assert_cache_agrees()
    assert _in_force("330421") == policy.weights_for_region("330421")
    assert _in_force("330421")[1] == "330421" and _in_force("330424")[1] == "330400"
    # A caller changing the dict it got changes nothing cached.
    _in_force("330421")[0]["tech"] = 99.0
    assert _in_force("330421")[0]["tech"] == 2.5


@pytest.mark.django_db
def test_an_unchanged_table_is_not_read_again(world):
    _set(world, "330000", white_list=3)
    _in_force("330421")
    with CaptureQueriesContext(connection) as queries:
        assert _in_force("330421")[1] == "330000"
        assert _in_force("330402")[1] == "330000"
    # The version statement only: the weights' rows are not selected again.
    assert len(queries) == 2
    assert not any('"matching_policyweights"."weights"' in q["sql"] for q in queries)


@pytest.mark.django_db
def test_the_next_ranking_sees_each_change(world, products):  # noqa: F811
    Qualification.objects.create(  # 科创: the "tech" weight moves the score
        enterprise=world.ent,
        kind="high_tech",
        issuer="科技厅",
        valid_from=timezone.localdate() - timedelta(days=10),
        status="verified",
    )
    demand = _demand(world)
    seen = []
    for step in (
        lambda: None,
        lambda: _set(world, "330000", tech=5),
        lambda: _set(world, "330421", tech=0),
        lambda: _set(world, "330421", tech=2),
        lambda: policy.clear_weights(world.user("admin"), Region.objects.get(pk="330421")),
    ):
        step()
        result = services.match_demand(demand, limit=50)
        targets = services.dispatch_targets(demand)
        fresh, fresh_targets = _uncached(demand)
        assert (result.policy_weights, result.weights_region) == (
            fresh.policy_weights,
            fresh.weights_region,
        )
        assert _ranked(result) == _ranked(fresh)
        assert targets == fresh_targets
        seen.append((result.weights_region, result.policy_weights["tech"], _ranked(result)))
    assert [s[:2] for s in seen] == [
        ("", 1.0),
        ("330000", 5.0),
        ("330421", 0.0),
        ("330421", 2.0),
        ("330000", 5.0),
    ]
    # The weights do move the scores (so the comparisons above can fail).
    assert seen[1][2] != seen[2][2] and seen[2][2] != seen[3][2] and seen[1][2] == seen[4][2]


@pytest.mark.django_db
def test_another_process_change_is_seen_through_the_version(world, other_process):
    _set(world, "330000", white_list=3)
    assert _in_force("330421") == ({**_in_force("")[0], "white_list": 3.0}, "330000")
    row = PolicyWeights.objects.get(region_id="330000")
    # Edited elsewhere: the row saved again (auto_now moves updated_at).
    row.weights = {**row.weights, "white_list": 0.5}
    row.save()
    assert _in_force("330421")[0]["white_list"] == 0.5
    # Added elsewhere, nearer the county.
    PolicyWeights.objects.bulk_create([PolicyWeights(region_id="330421", weights={"tech": 4})])
    assert _in_force("330421") == policy.weights_for_region("330421")
    assert _in_force("330421")[0]["tech"] == 4.0
    # Removed elsewhere: the county inherits the province's again.
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {PolicyWeights._meta.db_table} WHERE region_id = %s",  # noqa: S608
            ["330421"],
        )
    assert _in_force("330421") == policy.weights_for_region("330421")
    assert _in_force("330421")[1] == "330000"
    _assert_cache_agrees()


@pytest.mark.django_db
def test_a_save_in_this_process_drops_the_cache_even_with_the_same_version(world):
    """A rolled-back row can come back with the same id and, under a frozen
    clock, the same updated_at (tests): the save's signal empties the cache."""
    _set(world, "330000", white_list=3)
    assert _in_force("330421")[0]["white_list"] == 3.0
    row = PolicyWeights.objects.get(region_id="330000")
    # New weights without a new version (a queryset update sends no signal) ...
    PolicyWeights.objects.filter(pk=row.pk).update(weights={**row.weights, "white_list": 2})
    # ... then a save that leaves updated_at alone: only the signal can tell.
    row.save(update_fields=["set_by"])
    assert _in_force("330421")[0]["white_list"] == 2.0
