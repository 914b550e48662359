"""Digital payables vouchers: issue by a listed core enterprise, split and
transfer down the chain, discount at a bank, payment at maturity; the tree
always sums to the face amount; every refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from chanrong.accounts.models import Role
from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry, Notification
from chanrong.registry.models import ListVersion
from chanrong.supplychain import services
from chanrong.supplychain.models import Voucher, VoucherState
from tests.conftest import JIASHAN, _enterprise, _user

from .conftest import TODAY, authorise, confirmed, finance, issued, put_on_core_list, register

pytestmark = pytest.mark.django_db


def fields(caught) -> set[str]:
    return {e.field for e in caught.value.errors}


def leaves(root: Voucher) -> list[tuple[int, str, Decimal]]:
    return sorted(
        (v.holder_id, v.state, v.amount)
        for v in Voucher.objects.tree(root.pk).exclude(state=VoucherState.TRANSFERRED)
    )


@pytest.fixture
def ent3(world):
    """A tier-3 supplier (supplies ent2)."""
    e = _enterprise("嘉善精密铸造有限公司", JIASHAN, "C33", 41)
    world.users["ent3_user"] = _user("ent3_user", Role.ENTERPRISE_USER, enterprise=e)
    return e


def test_the_life_of_a_voucher_tree(sc, world, ent3):
    """Issued to ent (tier 1), split to ent2 and on to ent3, parts discounted
    at two banks, the whole paid at maturity: the leaves always sum to the face."""
    root = issued(sc, "1000000")
    assert root.number.startswith("V") and root.holder == world.ent and root.depth == 0
    assert Notification.objects.filter(
        recipient=world.user("ent_user"), verb="supplychain.voucher.issue"
    ).exists()
    receivable = root.receivable
    receivable.refresh_from_db()
    assert receivable.vouchered == Decimal("1000000") and receivable.available == 0

    to_ent2, kept = services.split_voucher(
        world.user("ent_user"), root, [{"holder": world.ent2.pk, "amount": "400000"}], today=TODAY
    )
    assert (to_ent2.holder_id, to_ent2.amount) == (world.ent2.pk, Decimal("400000"))
    assert (kept.holder_id, kept.amount) == (world.ent.pk, Decimal("600000"))
    assert to_ent2.root_id == root.pk and to_ent2.parent_id == root.pk and to_ent2.depth == 1
    root.refresh_from_db()
    assert root.state == VoucherState.TRANSFERRED and root.allocated == root.amount

    to_ent3 = services.transfer_voucher(
        world.user("ent2_user"), to_ent2, ent3.uscc, "150000", today=TODAY
    )
    assert to_ent3.depth == 2 and to_ent3.holder == ent3
    # ent3 discounts its whole part at bank2; ent a part of its remainder at bank.
    authorise(ent3, world.bank2)
    at_bank2 = services.discount_voucher(
        world.user("bank2_staff"),
        to_ent3,
        {"discount_rate": "3.6", "contract_no": "TX-001"},
        today=TODAY,
    )
    days = (root.due_on - TODAY).days
    assert at_bank2.pk == to_ent3.pk and at_bank2.state == VoucherState.DISCOUNTED
    expected = Decimal("150000") - (Decimal("150000") * Decimal("3.6") / 100 * days / 360).quantize(
        Decimal("0.01")
    )
    assert at_bank2.discount_proceeds == expected
    part = services.discount_voucher(
        world.user("bank_staff"),
        kept,
        {"amount": "100000", "discount_rate": "4", "contract_no": "TX-002"},
        today=TODAY,
    )
    assert part.parent_id == kept.pk and part.bank == world.bank

    check = services.check_tree(root.pk)
    assert check.holds and check.leaves == check.face == Decimal("1000000")
    assert leaves(root) == sorted(
        [
            (world.ent.pk, "discounted", Decimal("100000")),
            (world.ent.pk, "held", Decimal("500000")),
            (world.ent2.pk, "held", Decimal("250000")),
            (ent3.pk, "discounted", Decimal("150000")),
        ]
    )

    with pytest.raises(Conflict) as caught:
        services.pay_vouchers(sc.user("core_user"), root, today=root.due_on - timedelta(days=1))
    assert caught.value.code == "voucher_not_due"
    with pytest.raises(NotAllowed):
        services.pay_vouchers(world.user("ent_user"), root, today=root.due_on)
    paid = services.pay_vouchers(sc.user("core_user"), root, today=root.due_on)
    assert len(paid) == 4 and {v.state for v in paid} == {VoucherState.PAID}
    assert services.check_tree(root.pk).holds
    assert Notification.objects.filter(
        recipient=world.user("bank2_staff"), verb="supplychain.voucher.pay"
    ).exists()
    assert (
        AuditEntry.objects.filter(action="supplychain.voucher.pay").count() == 4
    )  # one per leaf, through the table
    with pytest.raises(Conflict):
        services.pay_vouchers(sc.user("core_user"), root, today=root.due_on)


def test_only_a_listed_core_enterprise_issues_on_its_own_payables(sc, world):
    receivable = confirmed(sc)
    for who in ("ent_user", "ent2_user", "bank_staff", "gov_jiashan"):
        with pytest.raises(NotAllowed):
            services.issue_voucher(world.user(who), receivable, {}, today=TODAY)
    # A debtor that is not on a core-enterprise list in force.
    buyer = _enterprise("嘉善整车销售有限公司", JIASHAN, "F51", 42)
    buyer_user = _user("buyer_user", Role.ENTERPRISE_USER, enterprise=buyer)
    other = register(sc, debtor_uscc=buyer.uscc)
    services.confirm(buyer_user, other, today=TODAY)
    with pytest.raises(NotAllowed) as caught:
        services.issue_voucher(buyer_user, other, {}, today=TODAY)
    assert "核心企业名单" in caught.value.message
    # A list published to take effect later is not yet in force.
    put_on_core_list(world, buyer, since=TODAY + timedelta(days=1))
    with pytest.raises(NotAllowed):
        services.issue_voucher(buyer_user, other, {}, today=TODAY)
    assert services.issue_voucher(buyer_user, other, {}, today=TODAY + timedelta(days=1))
    # Once the core list version is replaced / expired, no more vouchers.
    ListVersion.objects.filter(entries__enterprise=sc.core).update(effective_until=TODAY)
    with pytest.raises(NotAllowed):
        services.issue_voucher(
            sc.user("core_user"), receivable, {}, today=TODAY + timedelta(days=1)
        )
    assert not Voucher.objects.filter(receivable=receivable).exists()


def test_vouchers_and_financing_share_the_confirmed_amount(sc, world):
    receivable = confirmed(sc, part="800000")
    core_user = sc.user("core_user")
    finance(sc, receivable, backing="500000", amount="400000")
    with pytest.raises(Conflict) as caught:
        services.issue_voucher(core_user, receivable, {"amount": "300000.01"}, today=TODAY)
    assert caught.value.code == "exceeds_unfinanced"
    voucher = services.issue_voucher(core_user, receivable, {}, today=TODAY)
    assert voucher.amount == Decimal("300000")  # what was left
    with pytest.raises(Conflict):
        finance(sc, receivable, backing="1", amount="0.5")
    receivable.refresh_from_db()
    assert receivable.financed + receivable.vouchered == receivable.confirmed_amount


def test_issue_refusals(sc):
    core_user = sc.user("core_user")
    unconfirmed = register(sc)
    with pytest.raises(Conflict) as caught:
        services.issue_voucher(core_user, unconfirmed, {}, today=TODAY)
    assert caught.value.code == "receivable_unconfirmed"
    receivable = confirmed(sc, amount="1000")
    for data, field in (
        ({"amount": "0"}, "amount"),
        ({"amount": "1000.01"}, "amount"),
        ({"due_on": TODAY}, "due_on"),
        ({"due_on": "next month"}, "due_on"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            services.issue_voucher(core_user, receivable, data, today=TODAY)
        assert fields(caught) == {field}
    assert not Voucher.objects.exists()


def test_split_refusals_write_nothing(sc, world, ent3):
    root = issued(sc, "1000")
    ent_user = world.user("ent_user")
    with pytest.raises(NotAllowed):
        services.split_voucher(
            world.user("ent2_user"), root, [{"holder": ent3.pk, "amount": "1"}], today=TODAY
        )
    with pytest.raises(NotAllowed):
        services.split_voucher(
            sc.user("core_user"), root, [{"holder": ent3.pk, "amount": "1"}], today=TODAY
        )
    for parts, field in (
        ([{"holder": ent3.pk, "amount": "600"}, {"holder": world.ent2.pk, "amount": "400.01"}],
         "parts"),
        ([{"holder": ent3.pk, "amount": "0"}], "parts[0].amount"),
        ([{"holder": ent3.pk, "amount": "-3"}], "parts[0].amount"),
        ([{"holder": "91330421MA2B00000X", "amount": "3"}], "parts[0].holder"),
        ([{"holder": sc.core.pk, "amount": "3"}], "parts[0].holder"),
        ([], "parts"),
        ([{"holder": world.ent.pk, "amount": "1000"}], "parts"),  # the same voucher again
    ):  # fmt: skip
        with pytest.raises(ValidationFailed) as caught:
            services.split_voucher(ent_user, root, parts, today=TODAY)
        assert field in fields(caught), parts
    with pytest.raises(ValidationFailed) as caught:
        services.transfer_voucher(ent_user, root, world.ent.pk, "10", today=TODAY)
    assert fields(caught) == {"to"}
    with pytest.raises(Conflict) as caught:
        services.transfer_voucher(ent_user, root, ent3.pk, "10", today=root.due_on)
    assert caught.value.code == "voucher_matured"
    assert Voucher.objects.count() == 1
    root.refresh_from_db()
    assert root.state == VoucherState.HELD

    services.transfer_voucher(ent_user, root, ent3.pk, today=TODAY)  # the whole of it
    with pytest.raises(Conflict):  # no longer held by anyone: it was split
        services.transfer_voucher(ent_user, root, world.ent2.pk, "1", today=TODAY)
    assert leaves(root) == [(ent3.pk, "held", Decimal("1000"))]


def test_discount_refusals(sc, world):
    root = issued(sc, "1000")
    data = {"discount_rate": "3", "contract_no": "TX-9"}
    for who in ("ent_user", "core_user", "gov_jiashan"):
        with pytest.raises(NotAllowed):
            services.discount_voucher(world.user(who), root, data, today=TODAY)
    with pytest.raises(NotAllowed):  # the holder has not authorised bank2
        services.discount_voucher(world.user("bank2_staff"), root, data, today=TODAY)
    for bad, field in (
        ({"amount": "1000.01"}, "amount"),
        ({"discount_rate": "0"}, "discount_rate"),
        ({"contract_no": ""}, "contract_no"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            services.discount_voucher(world.user("bank_staff"), root, {**data, **bad}, today=TODAY)
        assert fields(caught) == {field}
    with pytest.raises(Conflict):
        services.discount_voucher(world.user("bank_staff"), root, data, today=root.due_on)
    assert Voucher.objects.count() == 1
    services.discount_voucher(world.user("bank_staff"), root, data, today=TODAY)
    with pytest.raises(Conflict):  # discounted: the holder can no longer split it
        services.split_voucher(
            world.user("ent_user"), root, [{"holder": world.ent2.pk, "amount": "1"}], today=TODAY
        )


def test_the_database_holds_the_tree_shape(sc, world):
    root = issued(sc, "1000")
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.filter(pk=root.pk).update(state=VoucherState.TRANSFERRED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.filter(pk=root.pk).update(state=VoucherState.DISCOUNTED)  # no bank
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.filter(pk=root.pk).update(amount=0)
    # A tampered child shows in the recomputed check.
    _kept, given = services.split_voucher(
        world.user("ent_user"), root, [{"holder": world.ent.pk, "amount": "300"}], today=TODAY
    )[::-1]
    assert services.check_tree(root.pk).holds
    Voucher.objects.filter(pk=given.pk).update(amount=Decimal("301"))
    check = services.check_tree(root.pk)
    assert not check.holds and check.unbalanced == (root.pk,)


def test_who_sees_a_voucher(sc, world, ent3):
    root = issued(sc, "1000")
    child = services.transfer_voucher(world.user("ent_user"), root, ent3.pk, "10", today=TODAY)
    visible = lambda who, v: v in Voucher.objects.visible_to(world.user(who))  # noqa: E731
    assert visible("core_user", child) and visible("ent3_user", child)
    assert visible("ent_user", root) and not visible("ent3_user", root)
    assert visible("gov_jiashan", child) and not visible("gov_jiangsu", child)
    assert not visible("bank_staff", child)
    services.discount_voucher(
        world.user("bank_staff"),
        Voucher.objects.get(parent=root, holder=world.ent),
        {"discount_rate": "3", "contract_no": "TX-1"},
        today=TODAY,
    )
    assert Voucher.objects.visible_to(world.user("bank_staff")).count() == 1
