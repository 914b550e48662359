"""The event rules: 行政处罚 and 涉诉/司法判决 credit records raise alerts within a
look-back window and above an optional minimum amount; evaluated when the
registry records them (credit_records_changed, after commit); the rules page
accepts the new kinds with their parameters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chanrong.core.errors import ValidationFailed
from chanrong.registry.services import credit
from chanrong.risk.models import Alert, WarningRule
from chanrong.risk.services import warnings

pytestmark = pytest.mark.django_db


def rule(world, kind, **params):
    return warnings.create_rule(
        world.user("gov_jiashan"),
        {"name": f"{kind} 规则", "kind": kind, "severity": "orange", "params": params},
    )


def record(world, enterprise, kind="penalty", days_ago=10, **fields):
    return {
        "uscc": enterprise.uscc,
        "kind": kind,
        "occurred_on": (timezone.localdate() - timedelta(days=days_ago)).isoformat(),
        "source": "嘉善县市场监督管理局" if kind == "penalty" else "嘉善县人民法院",
        "reference": f"REF-{enterprise.pk}-{kind}-{days_ago}",
        **fields,
    }


def test_parameters():
    assert warnings.parse_params("penalty_event", {}) == {"within_days": 365, "min_amount": 0}
    assert warnings.parse_params("judgment_event", {"min_amount": "100000"})["min_amount"] == 100000
    with pytest.raises(ValidationFailed) as caught:
        warnings.parse_params("penalty_event", {"within_days": 0, "min_amount": -5})
    assert {e.field for e in caught.value.errors} == {"params.within_days", "params.min_amount"}


def test_matchers_window_amount_and_region(world):
    penalties = rule(world, "penalty_event", within_days=90, min_amount=10000)
    judgments = rule(world, "judgment_event", within_days=365)
    gov = world.user("gov_jiashan")
    credit.record_credit_records(
        gov,
        [
            record(world, world.ent, amount="50000", reference="嘉市监罚〔2026〕1号"),
            record(world, world.ent, days_ago=30, amount="20000"),
            record(world, world.ent2, amount="500"),  # below the minimum
            record(world, world.ent2, days_ago=200, amount="90000"),  # outside 90 days
            record(world, world.ent2, kind="judgment", days_ago=100, amount=None),
            record(world, world.ent, kind="tax", source="国家税务总局嘉善县税务局"),
        ],
    )
    credit.record_credit_records(
        world.user("gov_jiangsu"), [record(world, world.ent_js, amount="90000")]
    )
    on = timezone.localdate()
    hits = warnings.MATCHERS["penalty_event"](penalties, on, None)
    assert set(hits) == {world.ent.pk}
    assert "嘉市监罚〔2026〕1号" in hits[world.ent.pk] and "共 2 条" in hits[world.ent.pk]
    assert set(warnings.MATCHERS["judgment_event"](judgments, on, None)) == {world.ent2.pk}
    assert warnings.MATCHERS["penalty_event"](penalties, on, {world.ent2.pk}) == {}


def test_records_arriving_raise_alerts_after_commit(world, django_capture_on_commit_callbacks):
    rule(world, "judgment_event")
    with django_capture_on_commit_callbacks(execute=True):
        credit.record_credit_records(
            world.user("gov_jiashan"),
            [record(world, world.ent, kind="judgment", reference="（2026）浙0421民初1234号")],
        )
    alert = Alert.objects.get()
    assert alert.enterprise_id == world.ent.pk and alert.severity == "orange"
    assert "（2026）浙0421民初1234号" in alert.detail
    # The same records again: idempotent, no second alert.
    with django_capture_on_commit_callbacks(execute=True):
        credit.record_credit_records(
            world.user("gov_jiashan"),
            [record(world, world.ent, kind="judgment", reference="（2026）浙0421民初1234号")],
        )
    assert Alert.objects.count() == 1


def test_rules_page_accepts_the_new_kinds(world):
    client = Client()
    client.force_login(world.user("gov_jiashan"))
    page = client.get("/risk/rules/")
    assert "p_penalty_event_min_amount" in page.content.decode()
    response = client.post(
        "/risk/rules/",
        {
            "name": "近半年行政处罚",
            "kind": "penalty_event",
            "severity": "yellow",
            "p_penalty_event_within_days": "180",
            "p_penalty_event_min_amount": "10000",
        },
    )
    assert response.status_code == 302
    assert WarningRule.objects.get().params == {"within_days": 180, "min_amount": 10000}
    response = client.post(
        "/risk/rules/",
        {
            "name": "x",
            "kind": "judgment_event",
            "severity": "red",
            "p_judgment_event_within_days": "0",
        },
    )
    assert response.status_code == 422
    assert WarningRule.objects.count() == 1
