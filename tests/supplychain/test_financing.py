"""Financing on confirmed receivables: the lifecycle through repayment or
overdue, the double-financing guard across banks, and every refusal."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from chanrong.accounts.models import Role
from chanrong.core.domain import discard_pending
from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry, Notification
from chanrong.finance.models import FinancialInstitution, InstitutionKind
from chanrong.supplychain import services, signals
from chanrong.supplychain.models import Financing, FinancingState, Receivable
from tests.conftest import JIASHAN, _user

from .conftest import TODAY, authorise, confirmed, finance, finance_data, register

pytestmark = pytest.mark.django_db


def fields(caught) -> set[str]:
    return {e.field for e in caught.value.errors}


@pytest.fixture
def events():
    """What the app tells banks' systems (in the transaction)."""
    seen: list = []

    def receiver(sender, events, **kwargs):
        seen.extend(events)

    signals.institution_events.connect(receiver)
    yield seen
    signals.institution_events.disconnect(receiver)


def test_finance_then_repay(sc, world, events):
    receivable = confirmed(sc)
    financing = finance(sc, receivable)
    assert financing.state == FinancingState.ACTIVE
    assert financing.backing == Decimal("1000000.00")  # the whole unfinanced balance
    assert financing.amount == Decimal("800000.00")
    assert financing.matures_on == receivable.due_on
    receivable.refresh_from_db()
    assert receivable.financed == Decimal("1000000.00") and receivable.available == 0
    assert AuditEntry.objects.filter(action="supplychain.financing.create").count() == 1
    # The supplier is told; so is the debtor, who must now pay the factor.
    assert Notification.objects.filter(recipient=world.user("ent_user")).exists()
    assert Notification.objects.filter(
        recipient=sc.user("core_user"), verb="supplychain.financing.assigned"
    ).exists()
    assert [(bank, name) for bank, name, _p in events] == [
        (world.bank.pk, "supplychain.receivable_confirmed"),  # offered to the authorised bank
        (world.bank.pk, "supplychain.financing_created"),
    ]

    with pytest.raises(NotAllowed):
        services.repay(world.user("bank2_staff"), financing, today=TODAY)
    with pytest.raises(ValidationFailed) as caught:
        services.repay(
            world.user("bank_staff"), financing, repaid_on=TODAY + timedelta(days=1), today=TODAY
        )
    assert fields(caught) == {"repaid_on"}
    done = services.repay(world.user("bank_staff"), financing, today=TODAY + timedelta(days=90))
    assert done.state == FinancingState.REPAID and done.repaid_on == TODAY + timedelta(days=90)
    assert events[-1][1] == "supplychain.financing_repaid"
    with pytest.raises(Conflict):
        services.repay(world.user("bank_staff"), financing, today=TODAY + timedelta(days=91))
    # Repaid backing is not freed: the debtor's payment extinguished it.
    receivable.refresh_from_db()
    assert receivable.financed == Decimal("1000000.00")


def test_banks_share_a_receivable_up_to_its_confirmed_amount(sc, world):
    receivable = confirmed(sc, amount="1000000", part="600000")
    authorise(world.ent, world.bank2)
    first = finance(sc, receivable, backing="250000", amount="200000")
    second = finance(sc, receivable, "bank2_staff", backing="350000", amount="280000")
    assert (first.backing, second.backing) == (Decimal("250000"), Decimal("350000"))
    before = Financing.objects.count()
    with pytest.raises(Conflict) as caught:
        finance(sc, receivable, backing="1", amount="0.80")
    assert caught.value.code == "fully_financed"
    assert Financing.objects.count() == before
    receivable.refresh_from_db()
    assert receivable.financed == receivable.confirmed_amount == Decimal("600000")


def test_a_second_bank_asking_for_more_than_is_left_is_refused(sc, world):
    receivable = confirmed(sc)
    authorise(world.ent, world.bank2)
    finance(sc, receivable, backing="400000", amount="320000")
    with pytest.raises(Conflict) as caught:
        finance(sc, receivable, "bank2_staff", backing="600000.01", amount="100000")
    assert caught.value.status == 409 and caught.value.code == "exceeds_unfinanced"
    assert "600,000.00" in caught.value.message  # what is left
    # Without a backing the bank takes what is left, and lends at most its ratio of it.
    with pytest.raises(ValidationFailed) as caught:
        finance(sc, receivable, "bank2_staff", amount="480000.01")
    assert fields(caught) == {"amount"}
    last = finance(sc, receivable, "bank2_staff", amount="480000")
    assert last.backing == Decimal("600000.00")


def test_the_database_refuses_financing_beyond_the_confirmed_amount(sc):
    receivable = confirmed(sc, part="500000")
    with pytest.raises(IntegrityError), transaction.atomic():
        Receivable.objects.filter(pk=receivable.pk).update(financed=Decimal("500000.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Receivable.objects.filter(pk=receivable.pk).update(
            financed=Decimal("300000"), vouchered=Decimal("200000.01")
        )
    unconfirmed = register(sc)
    with pytest.raises(IntegrityError), transaction.atomic():
        Receivable.objects.filter(pk=unconfirmed.pk).update(financed=Decimal("1"))


def test_only_banks_finance(sc, world):
    receivable = confirmed(sc)
    guarantor = FinancialInstitution.objects.create(
        name="嘉善县融资担保有限公司", kind=InstitutionKind.GUARANTEE, region_id=JIASHAN
    )
    authorise(world.ent, guarantor)
    guarantor_user = _user("guarantor_staff", Role.INSTITUTION_STAFF, institution=guarantor)
    for user in (world.user("ent_user"), sc.user("core_user"), world.user("gov_jiashan"),
                 world.user("admin"), guarantor_user):  # fmt: skip
        with pytest.raises(NotAllowed) as caught:
            services.finance(user, receivable, finance_data(), today=TODAY)
        assert caught.value.status == 403
    assert not Financing.objects.exists()


def test_a_bank_the_supplier_has_not_authorised_is_refused(sc, world):
    receivable = confirmed(sc)
    with pytest.raises(NotAllowed):
        finance(sc, receivable, "bank2_staff")
    assert not Financing.objects.exists()


def test_unconfirmed_disputed_and_matured_receivables_are_not_financed(sc, world):
    registered = register(sc)
    with pytest.raises(Conflict) as caught:
        finance(sc, registered)
    assert caught.value.code == "receivable_unconfirmed"
    disputed = services.dispute(sc.user("core_user"), register(sc), "未收货")
    with pytest.raises(Conflict):
        finance(sc, disputed)
    matured = confirmed(sc)
    with pytest.raises(Conflict) as caught:
        services.finance(
            world.user("bank_staff"),
            matured,
            finance_data(),
            today=matured.due_on + timedelta(days=1),
        )
    assert caught.value.code == "receivable_matured"
    assert not Financing.objects.exists()


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"mode": "loan"}, "mode"),
        ({"advance_ratio": "0"}, "advance_ratio"),
        ({"advance_ratio": "100.5"}, "advance_ratio"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"backing": "1000000.01"}, "backing"),  # above the confirmed amount
        ({"backing": "500000", "amount": "400000.01"}, "amount"),  # above backing × 80 %
        ({"registration_no": ""}, "registration_no"),
        ({"registration_no": "中登123"}, "registration_no"),
        ({"contract_no": ""}, "contract_no"),
        ({"financed_on": TODAY + timedelta(days=1)}, "financed_on"),
        ({"matures_on": TODAY - timedelta(days=1)}, "matures_on"),
    ],
)
def test_bad_financing_input_by_field(sc, over, field):
    receivable = confirmed(sc)
    with pytest.raises(ValidationFailed) as caught:
        finance(sc, receivable, **over)
    assert field in fields(caught)
    receivable.refresh_from_db()
    assert receivable.financed == 0 and not Financing.objects.exists()


def test_a_registration_number_backs_one_financing(sc):
    first = confirmed(sc)
    second = confirmed(sc)
    financing = finance(sc, first)
    with pytest.raises(Conflict) as caught:
        finance(sc, second, registration_no=financing.registration_no)
    assert caught.value.code == "registration_used"
    second.refresh_from_db()
    assert second.financed == 0


def test_gov_procurement_financing_records_the_repayment_account(sc, world):
    from chanrong.core.codes import make_uscc
    from tests.conftest import _enterprise

    school = _enterprise("嘉善县实验学校", JIASHAN, "P83", 31)
    school.uscc = make_uscc("12330421MB0000002")
    school.save(update_fields=["uscc"])
    school_user = _user("school_user", Role.ENTERPRISE_USER, enterprise=school)
    receivable = register(sc, kind="gov_procurement", debtor_uscc=school.uscc, invoices=[])
    services.confirm(school_user, receivable, today=TODAY)
    with pytest.raises(ValidationFailed) as caught:
        finance(sc, receivable, mode="pledge")
    assert fields(caught) == {"repayment_account"}
    financing = finance(
        sc, receivable, mode="pledge", repayment_account="嘉善农商行营业部 201000123456789"
    )
    assert financing.repayment_account.endswith("201000123456789")


def test_overdue_job_marks_unpaid_financings_once(sc, world, events):
    receivable = confirmed(sc)
    financing = finance(sc, receivable)
    repaid = finance(sc, confirmed(sc))
    services.repay(world.user("bank_staff"), repaid, today=TODAY)
    assert services.mark_overdue(today=financing.matures_on) == 0  # due today, not yet overdue
    later = financing.matures_on + timedelta(days=1)
    assert services.mark_overdue(today=later) == 1
    assert services.mark_overdue(today=later) == 0
    financing.refresh_from_db()
    assert financing.state == FinancingState.OVERDUE and financing.overdue_on == later
    assert events[-1][1] == "supplychain.financing_overdue"
    assert Notification.objects.filter(
        recipient=world.user("bank_staff"), verb="supplychain.financing.overdue"
    ).exists()
    # An overdue financing may still be repaid.
    done = services.repay(world.user("bank_staff"), financing, today=later + timedelta(days=5))
    assert done.state == FinancingState.REPAID


def test_confirmation_is_offered_to_authorised_banks(sc, world, events):
    discard_pending()
    authorise(world.ent, world.bank2)
    receivable = confirmed(sc)
    offered = sorted(
        bank for bank, name, _p in events if name == "supplychain.receivable_confirmed"
    )
    assert offered == sorted([world.bank.pk, world.bank2.pk])
    payload = events[0][2]
    assert payload["receivable_id"] == receivable.pk and payload["available"] == "1000000.00"


def test_who_sees_a_financing(sc, world):
    financing = finance(sc, confirmed(sc))
    seen = lambda who: financing in Financing.objects.visible_to(world.user(who))  # noqa: E731
    assert seen("bank_staff") and seen("ent_user") and seen("core_user") and seen("gov_jiashan")
    assert not seen("bank2_staff") and not seen("ent2_user") and not seen("gov_jiangsu")


def test_the_hourly_job_marks_financings_overdue(sc, world):
    from django.utils import timezone

    from chanrong.core import periodic
    from chanrong.supplychain import tasks

    job = {j.name: j for j in periodic.jobs()}["chanrong.supplychain.tasks.mark_overdue_financings"]
    assert job.every == timedelta(hours=1)
    today = timezone.localdate()
    receivable = services.register_receivable(
        world.user("ent_user"),
        {
            "debtor_uscc": sc.core.uscc,
            "contract_no": "HT-OVERDUE",
            "amount": "1000",
            "issued_on": today - timedelta(days=100),
            "due_on": today - timedelta(days=10),
            "invoices": ["26330000000000099999"],
        },
        today=today - timedelta(days=100),
    )
    services.confirm(sc.user("core_user"), receivable, today=today - timedelta(days=90))
    services.finance(
        world.user("bank_staff"),
        receivable,
        finance_data(amount="800"),
        today=today - timedelta(days=90),
    )
    assert tasks.mark_overdue_financings.call() == 1
    assert tasks.mark_overdue_financings.call() == 0
    assert Financing.objects.get(receivable=receivable).state == FinancingState.OVERDUE
