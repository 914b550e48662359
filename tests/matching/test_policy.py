"""Policy weights: longest-prefix resolution, validation, scope, audit."""

from __future__ import annotations

import pytest

from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry, Region
from chanrong.matching import policy
from chanrong.matching.models import PolicyWeights

from .surface_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

DEFAULT = {"white_list": 1.0, "specialised": 1.0, "tech": 1.0, "green": 1.0}


def weights(w=1, s=1, t=1, g=1) -> dict:
    return {"white_list": w, "specialised": s, "tech": t, "green": g}


def region(code: str) -> Region:
    return Region.objects.get(pk=code)


def test_no_row_anywhere_gives_defaults_and_no_source(world):
    assert policy.weights_for_region("330421") == (DEFAULT, "")
    assert policy.weights_for_region("") == (DEFAULT, "")
    assert policy.weights_for_region("999999") == (DEFAULT, "")


def test_nearest_region_above_wins(world):
    policy.set_weights(world.user("gov_zhejiang"), region("330000"), weights(w=3))
    assert policy.weights_for_region("330421") == ({**DEFAULT, "white_list": 3.0}, "330000")
    assert policy.weights_for_region("330402") == ({**DEFAULT, "white_list": 3.0}, "330000")
    policy.set_weights(world.user("gov_jiashan"), region("330421"), weights(g=0, t=2.5))
    assert policy.weights_for_region("330421") == (
        {**DEFAULT, "tech": 2.5, "green": 0.0},
        "330421",
    )
    # a sibling county and the city keep the province's weights
    assert policy.weights_for_region("330424")[1] == "330000"
    assert policy.weights_for_region("330400")[1] == "330000"
    # another province: defaults
    assert policy.weights_for_region("320508") == (DEFAULT, "")
    # the batch table resolves the same way
    table = policy.weights_table()
    for code in ("330421", "330424", "320508", "330000"):
        assert policy.resolve(table, code) == policy.weights_for_region(code)


def test_municipal_district_inherits_from_its_municipality(world):
    policy.set_weights(world.user("gov_national"), region("110000"), weights(s=4))
    assert policy.weights_for_region("110101") == ({**DEFAULT, "specialised": 4.0}, "110000")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (weights(w=6), "white_list"),
        (weights(s=-0.1), "specialised"),
        (weights(t="abc"), "tech"),
        (weights(g=True), "green"),
        (weights(g=float("nan")), "green"),
        (weights(g="Infinity"), "green"),
        ({"white_list": 1, "specialised": 1, "tech": 1}, "green"),
        ({**weights(), "extra": 1}, "extra"),
        (weights(w=""), "white_list"),
    ],
)
def test_bad_values_are_field_errors_and_write_nothing(world, data, field):
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        policy.set_weights(world.user("gov_jiashan"), region("330421"), data)
    assert field in {e.field for e in caught.value.errors}
    assert not PolicyWeights.objects.exists()
    assert AuditEntry.objects.count() == before


def test_not_a_dict_is_refused(world):
    with pytest.raises(ValidationFailed):
        policy.set_weights(world.user("gov_jiashan"), region("330421"), [1, 2, 3, 4])


def test_bounds_and_numeric_strings_are_accepted(world):
    row = policy.set_weights(world.user("gov_jiashan"), region("330421"), weights(0, 5, "2.5", 1))
    assert row.weights == {"white_list": 0.0, "specialised": 5.0, "tech": 2.5, "green": 1.0}


@pytest.mark.parametrize(
    ("username", "code", "allowed"),
    [
        ("gov_jiashan", "330421", True),
        ("gov_jiashan_staff", "330421", True),
        ("gov_jiashan", "330400", False),  # above its county
        ("gov_jiashan", "330424", False),  # a sibling county
        ("gov_zhejiang", "330421", True),
        ("gov_jiangsu", "330421", False),
        ("gov_national", "330421", True),
        ("admin", "320508", True),
        ("bank_staff", "330421", False),
        ("ent_user", "330421", False),
    ],
)
def test_who_may_set_weights(world, username, code, allowed):
    if allowed:
        policy.set_weights(world.user(username), region(code), weights(w=2))
        assert PolicyWeights.objects.get(region_id=code).weights["white_list"] == 2.0
    else:
        with pytest.raises(NotAllowed):
            policy.set_weights(world.user(username), region(code), weights(w=2))
        assert not PolicyWeights.objects.exists()


def test_setting_is_audited_with_before_and_after(world):
    user = world.user("gov_jiashan")
    policy.set_weights(user, region("330421"), weights(w=2))
    created = AuditEntry.objects.get(action="matching.policy_weights.create")
    assert created.actor_id == user.pk
    assert created.changes["white_list"] == [None, 2.0]
    policy.set_weights(user, region("330421"), weights(w=3, g=0))
    updated = AuditEntry.objects.get(action="matching.policy_weights.update")
    assert updated.changes == {"white_list": [2.0, 3.0], "green": [1.0, 0.0]}
    row = PolicyWeights.objects.get(region_id="330421")
    assert row.set_by == user
    assert policy.clear_weights(user, region("330421")) is True
    assert AuditEntry.objects.filter(action="matching.policy_weights.delete").count() == 1
    assert not PolicyWeights.objects.exists()
    assert policy.clear_weights(user, region("330421")) is False
