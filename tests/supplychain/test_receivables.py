"""Receivables: registration with its invoices, 确权 in full or in part,
dispute, withdrawal, 政采 contracts, visibility — and every refusal, with
nothing written."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency, Role
from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry, Notification
from chanrong.supplychain import services
from chanrong.supplychain.models import Invoice, Receivable, ReceivableState
from tests.conftest import JIASHAN, _enterprise, _user

from .conftest import TODAY, confirmed, digital_invoice, invoice, receivable_data, register

pytestmark = pytest.mark.django_db


def fields(caught) -> set[str]:
    return {e.field for e in caught.value.errors}


def test_register_confirm_in_full(sc):
    ent_user, core_user = sc.user("ent_user"), sc.user("core_user")
    data = receivable_data(sc, invoices=[invoice(), digital_invoice()])
    receivable = services.register_receivable(ent_user, data, today=TODAY)
    assert receivable.state == ReceivableState.REGISTERED
    assert receivable.creditor == sc.world.ent
    assert receivable.debtor == sc.core  # the debtor already has an account
    assert receivable.debtor_name == sc.core.name
    assert receivable.invoices.count() == 2
    assert Notification.objects.filter(
        recipient=core_user, verb="supplychain.receivable.register"
    ).exists()

    done = services.confirm(core_user, receivable, today=TODAY)
    assert done.state == ReceivableState.CONFIRMED
    assert done.confirmed_amount == Decimal("1000000.00")
    assert done.confirmed_by == core_user
    assert done.debtor_listed is True  # on the core-enterprise list in force
    assert done.available == Decimal("1000000.00")
    entry = AuditEntry.objects.get(action="supplychain.receivable.confirm", object_id=str(done.pk))
    assert entry.changes["state"] == ["registered", "confirmed"]
    assert Notification.objects.filter(
        recipient=ent_user, verb="supplychain.receivable.confirm"
    ).exists()


def test_partial_confirmation_and_an_unlisted_debtor(sc, world):
    buyer = _enterprise("嘉善机电贸易有限公司", JIASHAN, "F51", 21)
    world.users["buyer"] = _user("buyer", Role.ENTERPRISE_USER, enterprise=buyer)
    receivable = register(sc, debtor_uscc=buyer.uscc, amount="500000")
    done = services.confirm(world.user("buyer"), receivable, "300000.50", today=TODAY)
    assert done.state == ReceivableState.PARTLY_CONFIRMED
    assert done.confirmed_amount == Decimal("300000.50")
    assert done.debtor_listed is False


def test_a_confirmed_amount_never_changes(sc):
    receivable = confirmed(sc, part="600000")
    core_user = sc.user("core_user")
    for again in (None, "700000", "600000"):
        with pytest.raises(Conflict):
            services.confirm(core_user, receivable, again, today=TODAY)
    with pytest.raises(Conflict):
        services.dispute(core_user, receivable, "货物质量问题")
    with pytest.raises(Conflict):
        services.withdraw(sc.user("ent_user"), receivable)
    receivable.refresh_from_db()
    assert receivable.confirmed_amount == Decimal("600000")
    assert receivable.state == ReceivableState.PARTLY_CONFIRMED
    # Nor can a direct write set a state that disagrees with the amount.
    with pytest.raises(IntegrityError), transaction.atomic():
        Receivable.objects.filter(pk=receivable.pk).update(state=ReceivableState.CONFIRMED)


@pytest.mark.parametrize("who", ["ent_user", "ent2_user", "bank_staff", "gov_jiashan", "admin"])
def test_only_the_debtor_confirms_or_disputes(sc, who):
    receivable = register(sc)
    with pytest.raises(NotAllowed) as caught:
        services.confirm(sc.user(who), receivable, today=TODAY)
    assert caught.value.status == 403
    with pytest.raises(NotAllowed):
        services.dispute(sc.user(who), receivable, "不认可")
    receivable.refresh_from_db()
    assert receivable.state == ReceivableState.REGISTERED
    assert not AuditEntry.objects.filter(action__startswith="supplychain.receivable.c").exists()


def test_confirmation_needs_the_debtors_account(sc, world):
    """A receivable on a debtor without an account waits; once the debtor
    registers, its users see and confirm it."""
    from chanrong.core.codes import make_uscc

    uscc = make_uscc("91330421MA2B00007")
    receivable = register(sc, debtor_uscc=uscc, debtor_name="嘉善未注册有限公司")
    assert receivable.debtor is None
    later = _enterprise("嘉善未注册有限公司", JIASHAN, "C34", 22)
    later.uscc = uscc
    later.save(update_fields=["uscc"])
    user = _user("later_user", Role.ENTERPRISE_USER, enterprise=later)
    assert receivable in Receivable.objects.visible_to(user)
    done = services.confirm(user, receivable, today=TODAY)
    assert done.debtor == later and done.state == ReceivableState.CONFIRMED


def test_confirmation_amount_errors_by_field(sc):
    receivable = register(sc, amount="1000")
    for bad in ("0", "-5", "1000.01", "abc", "1.001"):
        with pytest.raises(ValidationFailed) as caught:
            services.confirm(sc.user("core_user"), receivable, bad, today=TODAY)
        assert fields(caught) == {"confirmed_amount"}, bad
    receivable.refresh_from_db()
    assert receivable.state == ReceivableState.REGISTERED


def test_dispute_with_a_reason_then_withdraw_frees_the_invoices(sc):
    numbers = [invoice()]
    receivable = register(sc, invoices=numbers)
    with pytest.raises(ValidationFailed):
        services.dispute(sc.user("core_user"), receivable, "  ")
    done = services.dispute(sc.user("core_user"), receivable, "合同未履行完毕")
    assert done.state == ReceivableState.DISPUTED and done.dispute_reason == "合同未履行完毕"
    with pytest.raises(Conflict):
        services.confirm(sc.user("core_user"), receivable, today=TODAY)
    with pytest.raises(NotAllowed):
        services.withdraw(sc.user("ent2_user"), receivable)
    services.withdraw(sc.user("ent_user"), receivable)
    assert not Invoice.objects.filter(receivable=receivable, active=True).exists()
    again = register(sc, invoices=numbers)  # corrected and registered again
    assert again.invoices.get().number == numbers[0]["number"]


def test_the_same_invoice_is_registered_once_by_anyone(sc, world):
    taken = invoice()
    register(sc, invoices=[taken])
    before = Receivable.objects.count()
    for user in ("ent_user", "ent2_user"):
        with pytest.raises(Conflict) as caught:
            register(sc, user=user, invoices=[invoice(), taken])
        assert caught.value.status == 409 and caught.value.code == "invoice_registered"
        assert taken["number"] in caught.value.message
    assert Receivable.objects.count() == before
    # The database holds it even past the service's check.
    first = Invoice.objects.get(number=taken["number"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            receivable=first.receivable, code=taken["code"], number=taken["number"]
        )


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-100"}, "amount"),
        ({"amount": ""}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"debtor_uscc": "91330421MA2B0000X"}, "debtor_uscc"),
        ({"debtor_uscc": ""}, "debtor_uscc"),
        ({"due_on": TODAY - timedelta(days=20)}, "due_on"),  # before the issue date
        ({"due_on": TODAY - timedelta(days=1), "issued_on": TODAY - timedelta(days=5)}, "due_on"),
        ({"issued_on": TODAY + timedelta(days=1)}, "issued_on"),
        ({"issued_on": "2026/05/01"}, "issued_on"),
        ({"contract_no": ""}, "contract_no"),
        ({"invoices": []}, "invoices"),
        ({"invoices": [{"code": "33002611", "number": "00000001"}]}, "invoices[0]"),
        ({"invoices": ["1234"]}, "invoices[0]"),
        ({"kind": "loan"}, "kind"),
        ({"purchaser_agency": 1}, "purchaser_agency"),  # only for 政采
    ],
)
def test_bad_input_is_refused_by_field_and_writes_nothing(sc, over, field):
    before = (Receivable.objects.count(), Invoice.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationFailed) as caught:
        register(sc, **over)
    assert caught.value.status == 422
    assert field in fields(caught)
    after = (Receivable.objects.count(), Invoice.objects.count(), AuditEntry.objects.count())
    assert after == before


def test_an_invoice_twice_in_one_request_and_oneself_as_debtor(sc):
    same = invoice()
    with pytest.raises(ValidationFailed) as caught:
        register(sc, invoices=[same, dict(same)], debtor_uscc=sc.world.ent.uscc)
    assert fields(caught) == {"invoices[1]", "debtor_uscc"}


def test_only_an_enterprise_registers_its_own_receivables(sc):
    for who in ("bank_staff", "gov_jiashan", "admin"):
        with pytest.raises(NotAllowed):
            services.register_receivable(sc.user(who), receivable_data(sc), today=TODAY)


def test_gov_procurement_confirmed_by_the_purchasing_agency(sc, world):
    """政采: the purchasing body is an agency on the platform; its officials confirm."""
    bureau = GovernmentAgency.objects.create(
        name="嘉善县教育局",
        level=AgencyLevel.COUNTY,
        function=AgencyFunction.OTHER,
        region_id=JIASHAN,
    )
    clerk = _user("edu_clerk", Role.GOV_STAFF, agency=bureau)
    data = receivable_data(
        sc,
        kind="gov_procurement",
        debtor_uscc="",
        purchaser_agency=bureau.pk,
        invoices=[],
        amount="900000",
        payment_schedule=[
            {"due_on": TODAY + timedelta(days=30), "amount": "300000"},
            {"due_on": TODAY + timedelta(days=90), "amount": "600000"},
        ],
    )
    receivable = services.register_receivable(sc.user("ent_user"), data, today=TODAY)
    assert receivable.debtor_name == "嘉善县教育局" and receivable.purchaser_agency == bureau
    assert receivable.payment_schedule[1] == {
        "due_on": (TODAY + timedelta(days=90)).isoformat(),
        "amount": "600000.00",
    }
    assert receivable in Receivable.objects.visible_to(clerk)
    with pytest.raises(NotAllowed):
        services.confirm(sc.user("gov_jiashan"), receivable, today=TODAY)  # another agency
    done = services.confirm(clerk, receivable, today=TODAY)
    assert done.state == ReceivableState.CONFIRMED and done.debtor_listed is False


def test_gov_procurement_with_an_enterprise_like_purchaser(sc, world):
    """政采 whose purchasing body (a 事业单位, USCC 12…) is in the registry."""
    from chanrong.core.codes import make_uscc

    hospital = _enterprise("嘉善县第一人民医院", JIASHAN, "Q84", 23)
    hospital.uscc = make_uscc("12330421MB0000001")
    hospital.save(update_fields=["uscc"])
    user = _user("hospital_user", Role.ENTERPRISE_USER, enterprise=hospital)
    receivable = register(sc, kind="gov_procurement", debtor_uscc=hospital.uscc, invoices=[])
    assert services.confirm(user, receivable, today=TODAY).state == ReceivableState.CONFIRMED


def test_a_payment_schedule_must_add_up(sc):
    bad = [
        {"due_on": TODAY + timedelta(days=30), "amount": "100"},
        {"due_on": TODAY + timedelta(days=20), "amount": "100"},
        {"due_on": TODAY + timedelta(days=400), "amount": "100"},
    ]
    with pytest.raises(ValidationFailed) as caught:
        register(sc, kind="gov_procurement", amount="1000", payment_schedule=bad)
    assert fields(caught) == {"payment_schedule[1].due_on", "payment_schedule[2].due_on"}
    with pytest.raises(ValidationFailed) as caught:
        register(
            sc,
            kind="gov_procurement",
            amount="1000",
            payment_schedule=[{"due_on": TODAY + timedelta(days=30), "amount": "999"}],
        )
    assert fields(caught) == {"payment_schedule"}


def test_who_sees_a_receivable(sc, world):
    from chanrong.registry.models import DataAuthorisation

    receivable = register(sc)
    seen = lambda who: receivable in Receivable.objects.visible_to(world.user(who))  # noqa: E731
    assert seen("ent_user") and seen("core_user") and seen("admin")
    assert seen("gov_jiashan") and seen("gov_zhejiang") and seen("gov_national")
    assert not seen("gov_jiangsu") and not seen("ent2_user")
    # Banks: only once confirmed, and only those the supplier authorised.
    assert not seen("bank_staff") and not seen("bank2_staff")
    services.confirm(sc.user("core_user"), receivable, today=TODAY)
    assert seen("bank_staff") and not seen("bank2_staff")
    DataAuthorisation.objects.filter(enterprise=world.ent).update(revoked_at=timezone.now())
    assert not seen("bank_staff")
