"""The lists: a platform admin creates a chain for an agency; receivables,
financings and vouchers filter by chain (the creditor or holder is on the
chain, as member or 链主); every list pages beyond its first 500 rows."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.accounts.services import create_token
from chanrong.core.errors import ValidationFailed
from chanrong.supplychain import services
from chanrong.supplychain.models import Chain, ChainKeeper, Receivable

from .conftest import TODAY, confirmed, finance

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_platform_admin_creates_a_chain_for_an_agency_on_the_page(sc, world):
    admin = _client(world.user("admin"))
    page = admin.get(reverse("supplychain:chains")).content.decode()
    assert 'name="agency"' in page and world.gov_jiashan.name in page
    response = admin.post(
        reverse("supplychain:chains"),
        {
            "agency": str(world.gov_jiashan.pk),
            "name": "集成电路",
            "lead": sc.core.uscc,
            "industry": "C39",
        },
    )
    assert response.status_code == 302
    chain = Chain.objects.get(name="集成电路")
    assert chain.kept_by == ChainKeeper.AGENCY and chain.agency == world.gov_jiashan
    assert chain.lead == sc.core and chain.industry_id == "C39"
    assert chain.region_id == world.gov_jiashan.region_id  # the agency's region by default
    # The agency keeps it: its official adds members.
    services.add_member(
        world.user("gov_jiashan"),
        chain,
        {"enterprise": world.ent.pk, "role": "supplier", "tier": 1},
    )
    bad = admin.post(reverse("supplychain:chains"), {"agency": "", "name": "x", "lead": ""})
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"agency": 999999, "name": "甲"}, "agency"),
        ({"agency": "abc", "name": "甲"}, "agency"),
        ({"name": "甲", "industry": "Z99"}, "industry"),
        ({"name": "甲", "region": "110101"}, "region"),  # outside 嘉善县经信局's county
    ],
)
def test_admin_chain_refusals(sc, world, data, field):
    data = {"agency": world.gov_jiashan.pk, **data}
    with pytest.raises(ValidationFailed) as caught:
        services.create_chain(world.user("admin"), data)
    assert field in {e.field for e in caught.value.errors}
    assert not Chain.objects.exists()


def _two_chains(sc, world):
    """ent is on chain A (its supplier); ent2 registers a receivable too but
    is on chain B only."""
    core = sc.user("core_user")
    a = services.create_chain(core, {"name": "甲链"})
    services.add_member(core, a, {"enterprise": world.ent.pk, "role": "supplier", "tier": 1})
    b = services.create_chain(world.user("gov_jiashan"), {"name": "乙链"})
    services.add_member(
        world.user("gov_jiashan"), b, {"enterprise": world.ent2.pk, "role": "supplier", "tier": 1}
    )
    return a, b


def test_lists_filter_by_chain(sc, world):
    a, b = _two_chains(sc, world)
    mine = confirmed(sc)
    finance(sc, mine, amount="100000.00", advance_ratio="80", backing="200000.00")
    theirs = services.register_receivable(
        world.user("ent2_user"),
        {
            "debtor_uscc": sc.core.uscc,
            "contract_no": "B-1",
            "amount": "1000",
            "issued_on": TODAY - timedelta(days=1),
            "due_on": TODAY + timedelta(days=30),
            "invoices": ["26330000000000099991"],
        },
        today=TODAY,
    )
    core = _client(sc.user("core_user"))  # the debtor of both, sees both as payables
    url = reverse("supplychain:receivables")
    page_a = core.get(url, {"chain": a.pk}).content.decode()
    assert mine.contract_no in page_a and theirs.contract_no not in page_a
    page_b = _client(world.user("gov_jiashan")).get(url, {"chain": b.pk}).content.decode()
    assert theirs.contract_no in page_b and mine.contract_no not in page_b
    # A chain the user does not see lists nothing (ent2 is not on chain A, nor leads it).
    assert (
        theirs.contract_no
        not in _client(world.user("ent2_user")).get(url, {"chain": a.pk}).content.decode()
    )
    bank = _client(world.user("bank_staff"))
    assert (
        mine.contract_no in bank.get(reverse("supplychain:bank"), {"chain": a.pk}).content.decode()
    )
    assert (
        'data-financing="'
        not in bank.get(reverse("supplychain:bank"), {"chain": b.pk}).content.decode()
    )
    token = create_token(None, sc.user("core_user"), "t").raw
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    rows = api.get("/api/v1/supplychain/receivables", {"chain": a.pk}).json()["results"]
    assert [r["contract_no"] for r in rows] == [mine.contract_no]
    rows = api.get("/api/v1/supplychain/financings", {"chain": b.pk}).json()["results"]
    assert rows == []
    assert api.get("/api/v1/supplychain/financings", {"chain": a.pk}).json()["count"] == 1


def test_vouchers_filter_by_chain(sc, world):
    a, b = _two_chains(sc, world)
    today = timezone.localdate()
    receivable = services.register_receivable(
        sc.user("ent_user"),
        {
            "debtor_uscc": sc.core.uscc,
            "contract_no": "V-CH-1",
            "amount": "500000",
            "issued_on": today - timedelta(days=2),
            "due_on": today + timedelta(days=60),
            "invoices": ["26330000000000088881"],
        },
        today=today,
    )
    services.confirm(sc.user("core_user"), receivable, today=today)
    root = services.issue_voucher(sc.user("core_user"), receivable, {}, today=today)
    client = _client(sc.user("core_user"))
    url = reverse("supplychain:vouchers")
    assert root.number in client.get(url, {"chain": a.pk}).content.decode()
    assert root.number not in client.get(url, {"chain": b.pk}).content.decode()
    assert root.number not in client.get(url, {"chain": "x"}).content.decode()


def test_lists_page_beyond_500_rows(sc, world):
    rows = [
        Receivable(
            creditor=world.ent,
            debtor_uscc=sc.core.uscc,
            debtor_name=sc.core.name,
            contract_no=f"PG-{i:04d}",
            amount=Decimal("1000.00"),
            issued_on=TODAY,
            due_on=TODAY + timedelta(days=30),
        )
        for i in range(520)
    ]
    Receivable.objects.bulk_create(rows)
    client = _client(world.user("ent_user"))
    url = reverse("supplychain:receivables")
    first = client.get(url).content.decode()
    assert len(re.findall(r"PG-\d{4}", first)) == 50
    assert "共 520 条" in first
    seen: set[str] = set()
    for number in range(1, 12):
        page = client.get(url, {"page": number, "state": "registered"}).content.decode()
        seen |= set(re.findall(r"PG-\d{4}", page))
    assert len(seen) == 520  # every row is reachable, none beyond the 500th lost
    # The debtor's payables page separately (its own parameter keeps the other list's page).
    core = _client(sc.user("core_user")).get(url, {"ppage": 11}).content.decode()
    assert len(set(re.findall(r"PG-\d{4}", core))) == 20
    inbox = _client(sc.user("core_user")).get(reverse("supplychain:inbox"), {"page": 11})
    assert len(set(re.findall(r"PG-\d{4}", inbox.content.decode()))) == 20
