"""The learning loop on the database: training pairs from real outcomes, the
evaluate command on a small demo, saving, loading and retraining."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from chanrong.demands.models import Demand, DemandState, Dispatch, DispatchState
from chanrong.matching import adapter, engine, learning, model, services, tasks

from .surface_fixtures import publish


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    adapter.clear_cache()
    yield tmp_path
    adapter.clear_cache()


def _settled(world, state, dispatch_states, *, days_ago):
    at = timezone.now() - timedelta(days=days_ago)
    demand = Demand.objects.create(
        enterprise=world.ent,
        kind="debt",
        amount=Decimal(2_000_000),
        term_months=12,
        purpose="周转",
        state=state,
        published_at=at,
    )
    for institution, dstate in dispatch_states:
        Dispatch.objects.create(
            demand=demand,
            institution=institution,
            state=dstate,
            dispatched_at=at,
            claim_due_at=at + timedelta(days=2),
        )
    return demand


def test_training_pairs_label_dispatch_outcomes(world):
    mine = publish(world.user("bank_staff"), name="善企信用贷")
    publish(world.user("bank_staff"), name="善企微贷", amount_max_wan=50)  # fails: never chosen
    publish(world.user("bank2_staff"), name="工行快贷")
    won = _settled(
        world,
        DemandState.DISBURSED,
        [(world.bank, DispatchState.DISBURSED), (world.bank2, DispatchState.NOT_SELECTED)],
        days_ago=40,
    )
    _settled(
        world,
        DemandState.REJECTED,
        [(world.bank, DispatchState.REJECTED), (world.bank2, DispatchState.DECLINED)],
        days_ago=20,
    )
    _settled(  # withdrawn: teaches nothing
        world, DemandState.WITHDRAWN, [(world.bank, DispatchState.CANCELLED)], days_ago=10
    )
    data = learning.training_set()
    assert len(data) == 4
    assert data.X.shape == (4, len(engine.FEATURE_NAMES))
    assert list(data.groups[:2]) == [won.pk, won.pk]  # time order
    labels = dict(zip(zip(data.groups, data.institution_ids, strict=True), data.y, strict=True))
    assert labels[(won.pk, world.bank.pk)] == 1 and labels[(won.pk, world.bank2.pk)] == 0
    assert int(data.y.sum()) == 1
    bank_pairs = data.product_ids[data.institution_ids == world.bank.pk]
    assert set(bank_pairs) == {mine.pk}
    assert np.all(data.when[:-1] <= data.when[1:])


def test_evaluate_on_a_small_demo_then_save_and_score(refdata_loaded, settings, _var_dir):
    from chanrong.demo import services as demo

    settings.CHANRONG_DEMO_PASSWORD = "Demo-password-for-tests-1"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo.build_demo(seed=11, scale=0.05)
    out = StringIO()
    call_command("matching_evaluate", "--save", stdout=out)
    text = out.getvalue()
    assert "outcomes: database" in text
    assert "learned" in text and "rule only" in text and "top 5" in text
    path = model.default_path()
    assert path.exists() and path.parent == _var_dir
    fitted = services.current_model()
    assert fitted is not None
    demand = Demand.objects.filter(state__in=adapter.OPEN_STATES).order_by("pk").first()
    ranked = services.match_demand(demand).ranked
    assert ranked and all(m.probability is not None and 0 < m.probability < 1 for m in ranked)
    assert any("模型" in r for m in ranked for r in m.reasons) or ranked[0].reasons
    # The periodic job retrains from the same outcomes.
    path.unlink()
    result = tasks.retrain_model.call()
    assert result["trained"] is True and path.exists()


def test_evaluate_without_outcomes_says_so(world):
    with pytest.raises(CommandError, match="not enough outcomes"):
        call_command("matching_evaluate", stdout=StringIO())
    assert tasks.retrain_model.call() == {"trained": False, "outcomes": 0}
    assert services.current_model() is None


def test_a_damaged_model_file_means_rule_only(world, _var_dir):
    model.default_path().write_bytes(b"not a model")
    assert services.current_model() is None
