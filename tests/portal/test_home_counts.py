"""The government home page's figures after issue 20's indexes (registry and
risk 0011) and the size breakdown counted one size at a time: each figure is
still the number of rows of the list its link opens, for a county (嘉善), a
province (浙江), the nation and a bank; and the numbers are the right ones
(enterprises in 杭州 and 苏州 tell the scopes apart)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from chanrong.core.codes import UNKNOWN_SIZE
from chanrong.demands.models import Demand, DemandState, Dispatch, DispatchState
from chanrong.portal.todo import todos_for
from chanrong.portal.workbench import SIZE_ORDER, summary_for
from chanrong.registry.models import Enterprise
from chanrong.risk.models import Alert, AlertState, RuleKind, WarningRule
from tests.conftest import _enterprise
from tests.demands.conftest import bank_products, make_demand  # noqa: F401
from tests.demands.test_sla import at, freeze_time
from tests.risk.conftest import reported

pytestmark = pytest.mark.django_db

NOW = at(2026, 3, 4, 10)
HANGZHOU = "330106"  # 西湖区: in 浙江, not in 嘉善


@pytest.fixture
def scene(world, bank_products, make_demand):  # noqa: F811
    """Open, acknowledged and disposed warnings and overdue, expired and
    on-time demands of enterprises in 嘉善, 杭州 and 苏州; the first bank
    lends to ent (嘉善) and to the 杭州 enterprise, the second to nobody."""
    hz = _enterprise("杭州西湖软件有限公司", HANGZHOU, "I65", 4)
    Enterprise.objects.filter(pk=hz.pk).update(size="")  # an unknown size
    rules = [
        WarningRule.objects.create(
            agency=world.gov_zhejiang,
            region_prefix="33",
            name=f"规则{i}",
            kind=RuleKind.OVERDUE,
            severity="red",
        )
        for i in range(2)
    ]

    def alert(rule, enterprise, state):
        Alert.objects.create(
            rule=rule,
            enterprise=enterprise,
            severity="red",
            detail="预警",
            state=state,
            opened_on=NOW.date(),
        )

    for enterprise in (world.ent, world.ent2, hz, world.ent_js):
        alert(rules[0], enterprise, AlertState.OPEN)
    alert(rules[1], world.ent, AlertState.ACKNOWLEDGED)
    alert(rules[1], world.ent2, AlertState.DISPOSED)
    alert(rules[1], hz, AlertState.OPEN)
    reported(world, uscc=world.ent.uscc, contract_no="JS-1")
    reported(world, uscc=hz.uscc, contract_no="HZ-1")

    with freeze_time(NOW - timedelta(days=5)):
        made = {
            name: make_demand(user=user, purpose=name)
            for name, user in (
                ("overdue", "ent_user"),
                ("on_time", "ent2_user"),
                ("expired_never", "ent2_user"),
                ("expired_claimed", "ent_user"),
                ("overdue_hz", "ent_user"),
                ("expired_js", "ent2_user"),
            )
        }
    Dispatch.objects.filter(demand__in=made.values()).update(claim_due_at=NOW + timedelta(days=1))
    for name in ("overdue", "overdue_hz"):
        Dispatch.objects.filter(demand=made[name]).update(claim_due_at=NOW - timedelta(hours=1))
    for name in ("expired_never", "expired_claimed", "expired_js"):
        Demand.objects.filter(pk=made[name].pk).update(state=DemandState.EXPIRED)
        Dispatch.objects.filter(demand=made[name]).update(state=DispatchState.EXPIRED)
    claimed = Dispatch.objects.filter(demand=made["expired_claimed"]).first()
    Dispatch.objects.filter(pk=claimed.pk).update(claimed_at=NOW - timedelta(days=2))
    Demand.objects.filter(pk=made["overdue_hz"].pk).update(enterprise=hz)
    Demand.objects.filter(pk=made["expired_js"].pk).update(enterprise=world.ent_js)
    return hz


#: viewer -> (open warnings, 超期无人接单), worked out from the scene by hand.
EXPECTED = {
    "gov_jiashan": (2, 2),  # ent, ent2; overdue, expired_never
    "gov_zhejiang": (4, 3),  # + the 杭州 enterprise's two; + overdue_hz
    "gov_national": (5, 4),  # + 苏州's; + expired_js
    "gov_jiangsu": (1, 1),
    "bank_staff": (3, None),  # the warnings of the enterprises it lends to
    "bank2_staff": (0, None),
}


def _listed(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200
    context = response.context
    page_obj = context["page_obj"] if "page_obj" in context else context["pager"]["page_obj"]
    return page_obj.paginator.count


def _client(world, viewer: str) -> Client:
    client = Client()
    client.force_login(world.user(viewer))
    return client


@pytest.mark.parametrize("viewer", sorted(EXPECTED))
def test_to_do_counts_are_the_rows_their_lists_show(world, scene, viewer):
    alerts, unclaimed = EXPECTED[viewer]
    with freeze_time(NOW):
        todos = {item.key: item for item in todos_for(world.user(viewer), NOW)}
        client = _client(world, viewer)
        assert todos["alerts"].count == alerts
        assert _listed(client, todos["alerts"].url) == alerts
        if unclaimed is None:
            assert "demands_unclaimed" not in todos
        else:
            assert todos["demands_unclaimed"].count == unclaimed
            assert _listed(client, todos["demands_unclaimed"].url) == unclaimed


@pytest.mark.parametrize(
    ("viewer", "total"), [("gov_jiashan", 2), ("gov_zhejiang", 3), ("gov_national", 4)]
)
def test_enterprises_by_size_are_the_rows_of_the_filtered_registry(world, scene, viewer, total):
    summary = summary_for(world.user(viewer))
    client = _client(world, viewer)
    assert summary["enterprises"] == total == _listed(client, reverse("registry:list"))
    by_size = {row["size"]: row["count"] for row in summary["by_size"]}
    assert list(by_size) == [size or UNKNOWN_SIZE for size in SIZE_ORDER]
    for size, count in by_size.items():
        assert _listed(client, f"{reverse('registry:list')}?size={size}") == count
    assert by_size[UNKNOWN_SIZE] == (0 if viewer == "gov_jiashan" else 1)
    assert sum(by_size.values()) == total
