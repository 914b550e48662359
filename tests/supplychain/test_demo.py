"""The demo county's 供应链金融: two chains with listed 链主, receivables
and financing in every state, financing never above what was confirmed,
every voucher tree summing to its face, nothing after the build day, and
the demo accounts seeing their part of it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import Client

from chanrong.accounts.models import User
from chanrong.demo import services as demo
from chanrong.supplychain import services
from chanrong.supplychain.models import (
    Chain,
    ChainMeasure,
    ChainMember,
    DiscountApplication,
    DiscountApplicationState,
    Financing,
    FinancingState,
    Receivable,
    ReceivableAttachment,
    ReceivableKind,
    ReceivableState,
    Voucher,
    VoucherState,
)
from tests.module_demo import PASSWORD, demo_for_module

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 7, 15)
JIASHAN = "330421"


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media(settings, media_root):
    settings.MEDIA_ROOT = media_root


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, media_root):
    """Built once for the module (tests/module_demo.py); each test sees it fresh."""
    with demo_for_module(
        django_db_blocker, settings={"MEDIA_ROOT": media_root}, seed=11, scale=0.05, today=TODAY
    ) as result:
        yield result


def test_every_state_occurs_and_the_sums_hold(built):
    chains = list(Chain.objects.order_by("name"))
    assert {c.name for c in chains} == {"新能源汽车零部件", "精密机械"}
    for chain in chains:
        assert chain.region_id == JIASHAN and chain.lead_id is not None
        # The 链主 is on a 应收账款核心企业名单 in force, through the registry's lists.
        assert services.is_listed_core(chain.lead_id, TODAY)
        roles = set(ChainMember.objects.filter(chain=chain).values_list("role", "tier"))
        assert {("supplier", 1), ("supplier", 2), ("supplier", 3)} <= roles
        assert any(role == "dealer" for role, _tier in roles)
        assert ChainMeasure.objects.filter(chain=chain).exists()

    assert set(Receivable.objects.values_list("state", flat=True)) == set(ReceivableState.values)
    assert set(Financing.objects.values_list("state", flat=True)) == set(FinancingState.values)
    assert set(Voucher.objects.values_list("state", flat=True)) == set(VoucherState.values)
    procurement = Receivable.objects.filter(kind=ReceivableKind.GOV_PROCUREMENT)
    assert procurement.filter(
        purchaser_agency__region_id=JIASHAN, state=ReceivableState.CONFIRMED
    ).exists()
    assert (
        Financing.objects.filter(receivable__kind=ReceivableKind.GOV_PROCUREMENT)
        .exclude(repayment_account="")
        .exists()
    )
    # Two banks share a receivable somewhere.
    assert any(len(banks) > 1 for banks in _banks_by_receivable().values())

    # Financed never above confirmed, and the running totals are their rows.
    backing = dict(
        Financing.objects.values("receivable_id")
        .annotate(total=Sum("backing"))
        .values_list("receivable_id", "total")
    )
    vouchered = dict(
        Voucher.objects.filter(parent__isnull=True)
        .values("receivable_id")
        .annotate(total=Sum("amount"))
        .values_list("receivable_id", "total")
    )
    for r in Receivable.objects.all():
        assert r.financed == backing.get(r.pk, Decimal(0)), r.contract_no
        assert r.vouchered == vouchered.get(r.pk, Decimal(0)), r.contract_no
        if r.confirmed_amount is None:
            assert r.financed == r.vouchered == 0
        else:
            assert r.financed + r.vouchered <= r.confirmed_amount, r.contract_no
    for f in Financing.objects.all():
        assert f.amount <= f.backing * f.advance_ratio / 100
        assert f.financed_on <= TODAY and (f.repaid_on is None or f.repaid_on <= TODAY)
        if f.state == FinancingState.OVERDUE:
            assert f.matures_on < TODAY
        if f.state == FinancingState.ACTIVE:
            assert f.matures_on >= TODAY

    # Every voucher tree sums to its face; splits go two levels down.
    roots = list(Voucher.objects.filter(parent__isnull=True).values_list("pk", flat=True))
    assert len(roots) >= 3
    for root in roots:
        check = services.check_tree(root)
        assert check.holds, (root, check)
    assert Voucher.objects.filter(depth=2).exists()

    # Nothing after the build day.
    for r in Receivable.objects.all():
        assert r.issued_on <= TODAY and r.created_at.date() <= TODAY
        assert r.confirmed_at is None or r.confirmed_at.date() <= TODAY
    assert not Voucher.objects.filter(issued_on__gt=TODAY).exists()


def _banks_by_receivable() -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    for receivable_id, bank_id in Financing.objects.values_list("receivable_id", "bank_id"):
        out[receivable_id].add(bank_id)
    return out


def test_the_demo_accounts_log_in_and_see_their_part(built):
    for username in ("ent_user", "ent2_user", "bank_staff", "bank2_staff", "gov_jiashan"):
        assert Client().login(username=username, password=PASSWORD), username
    ent_user = User.objects.get(username="ent_user")
    bank_staff = User.objects.get(username="bank_staff")
    mine = Receivable.objects.visible_to(ent_user).filter(creditor_id=ent_user.enterprise_id)
    # A confirmed receivable of ent_user's enterprise financed by bank_staff's bank …
    assert Financing.objects.filter(
        receivable__in=mine.confirmed(), bank_id=bank_staff.institution_id
    ).exists()
    assert Financing.objects.visible_to(bank_staff).exists()
    # … and one it still offers to that bank (confirmed, nothing financed).
    assert mine.confirmed().filter(financed=0, vouchered=0).exists()
    # It holds a voucher from its 链主; ent2_user's enterprise a part of one.
    assert Voucher.objects.filter(holder_id=ent_user.enterprise_id).exists()
    ent2 = User.objects.get(username="ent2_user")
    assert Voucher.objects.visible_to(ent2).exists()
    gov = User.objects.get(username="gov_jiashan")
    assert Chain.objects.visible_to(gov).count() == 2


def test_attachments_and_discount_applications(built):
    ent_user = User.objects.get(username="ent_user")
    bank_staff = User.objects.get(username="bank_staff")
    mine = Receivable.objects.filter(creditor_id=ent_user.enterprise_id)
    assert ReceivableAttachment.objects.filter(receivable__in=mine).count() >= 2 * mine.count() - 2
    registered = ReceivableAttachment.objects.filter(receivable__state=ReceivableState.REGISTERED)
    assert set(registered.values_list("kind", flat=True)) <= {"contract"}
    # The bank downloads the papers of a receivable offered to it: real PDFs.
    offered = ReceivableAttachment.objects.visible_to(bank_staff).first()
    client = Client()
    client.force_login(bank_staff)
    response = client.get(f"/supplychain/attachments/{offered.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    # ent_user's enterprise waits for bank_staff's bank; one declined, one accepted elsewhere.
    pending = DiscountApplication.objects.get(holder_id=ent_user.enterprise_id)
    assert pending.state == DiscountApplicationState.PENDING
    assert pending.bank_id == bank_staff.institution_id and pending.amount < pending.voucher.amount
    states = set(DiscountApplication.objects.values_list("state", flat=True))
    assert {"pending", "declined", "accepted"} <= states
    for application in DiscountApplication.objects.all():  # nothing after the build day
        assert application.created_at.date() <= TODAY
        assert application.decided_at is None or application.decided_at.date() <= TODAY
    accepted = DiscountApplication.objects.get(state=DiscountApplicationState.ACCEPTED)
    assert accepted.discounted.state == VoucherState.DISCOUNTED
    assert services.check_tree(accepted.voucher.tree_root_id).holds
    page = client.get("/supplychain/discount-applications/?state=pending").content.decode()
    assert f'data-application="{pending.pk}"' in page


def _rows() -> dict[str, list[tuple]]:
    from chanrong.demo.builders import supplychain

    return {label: list(rows) for label, rows in supplychain.digest_rows()}


def test_same_seed_same_supply_chains(refdata_loaded, settings):
    """This builder's rows (its digest rows, which hold no primary key) are
    the same after a rebuild, whatever the database's sequences were."""
    settings.CHANRONG_DEMO_PASSWORD = PASSWORD
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo.build_demo(seed=5, scale=0.02, today=TODAY, reset=True)  # a module demo may be there
    first = _rows()
    demo.build_demo(seed=5, scale=0.02, today=TODAY, reset=True)
    assert _rows() == first
    assert len(first["supplychain_receivables"]) > 20
    assert first["supplychain_attachments"] and first["supplychain_discount_applications"]
