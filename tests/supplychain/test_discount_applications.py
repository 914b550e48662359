"""The holder's discount application: the holder of a voucher node applies
to discount (part of) it at a bank it authorised; the bank accepts (the
discount is recorded through the ordinary discount logic, the tree still
sums) or declines with a reason; the holder may withdraw. Services, pages,
API; refusals write nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.accounts.services import create_token
from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry, Notification
from chanrong.supplychain import services, signals
from chanrong.supplychain.models import (
    DiscountApplication,
    DiscountApplicationState,
    Voucher,
    VoucherState,
)

from .conftest import TODAY, issued, receivable_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    seen: list = []

    def receiver(sender, events, **kwargs):
        seen.extend(events)

    signals.institution_events.connect(receiver)
    yield seen
    signals.institution_events.disconnect(receiver)


def _apply(sc, voucher, user="ent_user", **data):
    data.setdefault("bank", sc.world.bank.pk)
    return services.apply_for_discount(sc.user(user), voucher, data, today=TODAY)


def _accept(sc, application, user="bank_staff", **over):
    data = {"discount_rate": "3.6", "contract_no": "TX-APP-1", **over}
    return services.accept_discount_application(sc.user(user), application, data, today=TODAY)


def test_apply_then_the_bank_accepts_a_part(sc, world, events):
    root = issued(sc)  # 1,000,000 held by ent
    application = _apply(sc, root, amount="400000.00", note="月底资金周转")
    assert application.state == DiscountApplicationState.PENDING
    assert events[-1][:2] == (world.bank.pk, "supplychain.discount_applied")
    assert Notification.objects.filter(recipient=world.user("bank_staff")).exists()
    done = _accept(sc, application)
    assert done.state == DiscountApplicationState.ACCEPTED
    node = done.discounted
    assert node.state == VoucherState.DISCOUNTED and node.amount == Decimal("400000.00")
    assert node.bank_id == world.bank.pk and node.parent_id == root.pk
    root.refresh_from_db()
    assert root.state == VoucherState.TRANSFERRED
    assert services.check_tree(root.pk).holds
    assert "supplychain.voucher_discounted" in [e[1] for e in events]
    assert AuditEntry.objects.filter(
        action="supplychain.discount_application.accept", object_id=str(application.pk)
    ).exists()
    assert Notification.objects.filter(recipient=world.user("ent_user")).exists()


def test_apply_for_the_whole_node(sc):
    root = issued(sc, amount="300000.00")
    done = _accept(sc, _apply(sc, root))
    assert done.discounted_id == root.pk and done.amount == Decimal("300000.00")


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"amount": "1000000.01"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"bank": None}, "bank"),
        ({"bank": 999999}, "bank"),
        ({"bank": "not-a-bank"}, "bank"),
    ],
)
def test_bad_applications_are_refused_by_field(sc, over, field):
    root = issued(sc)
    data = {"bank": sc.world.bank.pk, **over}
    with pytest.raises(ValidationFailed) as caught:
        services.apply_for_discount(sc.user("ent_user"), root, data, today=TODAY)
    assert field in {e.field for e in caught.value.errors}
    assert not DiscountApplication.objects.exists()


def test_only_authorised_banks_and_only_the_holder(sc, world):
    root = issued(sc)
    with pytest.raises(ValidationFailed):  # ent never authorised the second bank
        _apply(sc, root, bank=world.bank2.pk)
    with pytest.raises(NotAllowed):
        _apply(sc, root, user="core_user")
    with pytest.raises(NotAllowed):
        _apply(sc, root, user="ent2_user")
    _apply(sc, root)
    with pytest.raises(Conflict):  # one pending application per bank
        _apply(sc, root)
    assert DiscountApplication.objects.count() == 1


def test_a_node_no_longer_held_cannot_be_applied_for_or_accepted(sc, world):
    root = issued(sc)
    application = _apply(sc, root, amount="100000.00")
    services.split_voucher(
        sc.user("ent_user"), root, [{"holder": world.ent2.pk, "amount": "500000.00"}], today=TODAY
    )
    with pytest.raises(Conflict):
        _apply(sc, root)
    with pytest.raises(Conflict):
        _accept(sc, application)
    application.refresh_from_db()
    assert application.state == DiscountApplicationState.PENDING
    assert not Voucher.objects.filter(state=VoucherState.DISCOUNTED).exists()


def test_only_the_chosen_bank_decides_and_a_reason_is_required(sc, world):
    root = issued(sc)
    application = _apply(sc, root)
    with pytest.raises(NotAllowed):
        _accept(sc, application, user="bank2_staff")
    with pytest.raises(NotAllowed):
        _accept(sc, application, user="ent_user")
    with pytest.raises(ValidationFailed):
        _accept(sc, application, discount_rate="")
    with pytest.raises(ValidationFailed):
        services.decline_discount_application(sc.user("bank_staff"), application, " ")
    application.refresh_from_db()
    assert application.state == DiscountApplicationState.PENDING
    done = services.decline_discount_application(sc.user("bank_staff"), application, "额度已满")
    assert done.state == DiscountApplicationState.DECLINED and done.decline_reason == "额度已满"
    assert Notification.objects.filter(
        recipient=world.user("ent_user"), verb="supplychain.discount_application.decline"
    ).exists()
    with pytest.raises(Conflict):
        _accept(sc, done)
    root.refresh_from_db()
    assert root.state == VoucherState.HELD


def test_the_holder_withdraws_and_the_bank_is_told(sc, world, events):
    root = issued(sc)
    application = _apply(sc, root)
    with pytest.raises(NotAllowed):
        services.withdraw_discount_application(sc.user("bank_staff"), application)
    done = services.withdraw_discount_application(sc.user("ent_user"), application)
    assert done.state == DiscountApplicationState.WITHDRAWN
    assert events[-1][1] == "supplychain.discount_withdrawn"
    with pytest.raises(Conflict):
        _accept(sc, done)
    _apply(sc, root)  # may apply to the same bank again


def test_visibility(sc, world):
    application = _apply(sc, issued(sc))
    seen = {
        name: DiscountApplication.objects.visible_to(sc.user(name))
        .filter(pk=application.pk)
        .exists()
        for name in ("ent_user", "bank_staff", "bank2_staff", "ent2_user", "gov_jiashan", "admin")
    }
    assert seen == {
        "ent_user": True,
        "bank_staff": True,
        "bank2_staff": False,
        "ent2_user": False,
        "gov_jiashan": True,
        "admin": True,
    }


# --- pages and API -------------------------------------------------------------------------


def _live_voucher(sc):
    """A voucher due after the real today (the pages use today's date)."""
    today = timezone.localdate()
    data = receivable_data(
        sc, issued_on=today - timedelta(days=5), due_on=today + timedelta(days=90)
    )
    receivable = services.register_receivable(sc.user("ent_user"), data, today=today)
    services.confirm(sc.user("core_user"), receivable, today=today)
    return services.issue_voucher(sc.user("core_user"), receivable, {}, today=today)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_apply_accept_and_decline(sc, world):
    root = _live_voucher(sc)
    holder = _client(sc.user("ent_user"))
    page = holder.get(reverse("supplychain:voucher", args=[root.pk])).content.decode()
    assert 'data-testid="apply-discount-form"' in page and world.bank.name in page
    apply_url = reverse("supplychain:apply_discount", args=[root.pk])
    bad = holder.post(apply_url, {"bank": str(world.bank2.pk), "amount": "100"})
    assert bad.status_code == 422 and not DiscountApplication.objects.exists()
    response = holder.post(apply_url, {"bank": str(world.bank.pk), "amount": "250000"})
    assert response.status_code == 302
    application = DiscountApplication.objects.get()
    bank = _client(sc.user("bank_staff"))
    listed = bank.get(reverse("supplychain:discount_applications") + "?state=pending")
    assert f'data-application="{application.pk}"' in listed.content.decode()
    assert (
        'data-testid="pending-applications"'
        in bank.get(reverse("supplychain:bank")).content.decode()
    )
    detail = reverse("supplychain:discount_application", args=[application.pk])
    assert 'data-testid="accept-form"' in bank.get(detail).content.decode()
    assert 'data-testid="accept-form"' not in holder.get(detail).content.decode()
    assert _client(sc.user("bank2_staff")).get(detail).status_code == 404
    accept = reverse("supplychain:accept_discount_application", args=[application.pk])
    assert bank.post(accept, {"discount_rate": "abc", "contract_no": "TX"}).status_code == 422
    assert holder.post(accept, {"discount_rate": "3", "contract_no": "TX"}).status_code == 403
    assert bank.post(accept, {"discount_rate": "3.2", "contract_no": "TX-P-1"}).status_code == 302
    application.refresh_from_db()
    assert application.state == DiscountApplicationState.ACCEPTED
    assert application.discounted.amount == Decimal("250000.00")
    # A second application, declined on the page.
    holder.post(apply_url.replace(str(root.pk), str(root.pk)), {"bank": str(world.bank.pk)})
    kept = Voucher.objects.get(parent=root, state=VoucherState.HELD)
    holder.post(reverse("supplychain:apply_discount", args=[kept.pk]), {"bank": str(world.bank.pk)})
    second = DiscountApplication.objects.get(voucher=kept)
    decline = reverse("supplychain:decline_discount_application", args=[second.pk])
    assert bank.post(decline, {"reason": ""}).status_code == 422
    assert bank.post(decline, {"reason": "不符合授信条件"}).status_code == 302
    second.refresh_from_db()
    assert second.state == DiscountApplicationState.DECLINED


def test_api_apply_list_accept(sc, world):
    root = _live_voucher(sc)
    client = Client()
    holder = {"HTTP_AUTHORIZATION": f"Bearer {create_token(None, sc.user('ent_user'), 't').raw}"}
    bank = {"HTTP_AUTHORIZATION": f"Bearer {create_token(None, sc.user('bank_staff'), 't').raw}"}
    url = f"/api/v1/supplychain/vouchers/{root.pk}/discount-applications"
    refused = client.post(
        url, {"bank": world.bank.pk, "amount": "-1"}, content_type="application/json", **holder
    )
    assert refused.status_code == 422
    created = client.post(
        url, {"bank": world.bank.pk, "amount": "600000"}, content_type="application/json", **holder
    )
    assert created.status_code == 201, created.content
    app_id = created.json()["id"]
    assert created.json()["state"] == "pending"
    again = client.post(url, {"bank": world.bank.pk}, content_type="application/json", **holder)
    assert again.status_code == 409
    listed = client.get("/api/v1/supplychain/discount-applications?state=pending", **bank).json()
    assert [a["id"] for a in listed["results"]] == [app_id]
    accept = f"/api/v1/supplychain/discount-applications/{app_id}/accept"
    by_holder = client.post(
        accept,
        {"discount_rate": "3", "contract_no": "X"},
        content_type="application/json",
        **holder,
    )
    assert by_holder.status_code == 403
    done = client.post(
        accept,
        {"discount_rate": "3.1", "contract_no": "TX-API"},
        content_type="application/json",
        **bank,
    )
    assert done.status_code == 200 and done.json()["state"] == "accepted"
    assert Decimal(done.json()["discount_proceeds"]) < Decimal("600000")
    withdraw = client.post(f"/api/v1/supplychain/discount-applications/{app_id}/withdraw", **holder)
    assert withdraw.status_code == 409
