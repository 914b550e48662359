"""The supply-chain pages over HTTP: who sees what (404 for everyone
else), the forms through POSTs, bad input shown by field (and by invoice or
split row) with nothing written, conflicts (409) shown as a message on the
page, never an error page.

The pages call the services with today's date, so dates here are relative
to today."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.supplychain import services
from chanrong.supplychain.models import (
    Chain,
    ChainMeasure,
    ChainMember,
    Financing,
    Invoice,
    Receivable,
    ReceivableState,
    Voucher,
    VoucherState,
)
from tests.conftest import JIAXING, _enterprise

from .conftest import invoice

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _today():
    return timezone.localdate()


def _form(sc, **over) -> dict:
    """A well-formed registration as the page posts it: three invoice rows,
    the first a 增值税发票, the second a 数电票, the third left empty."""
    today = _today()
    first = invoice()
    data = {
        "kind": "ordinary",
        "debtor_uscc": sc.core.uscc,
        "contract_no": "HT-PAGE-0001",
        "amount": "1,000,000.00",
        "issued_on": str(today - timedelta(days=10)),
        "due_on": str(today + timedelta(days=90)),
        "rows": "3",
        "invoice-0-code": first["code"],
        "invoice-0-number": first["number"],
        "invoice-1-code": "",
        "invoice-1-number": "26332000000012345678",
    }
    data.update(over)
    return data


def _registered(sc, amount="1000000.00", **over) -> Receivable:
    today = _today()
    data = {
        "debtor_uscc": sc.core.uscc,
        "contract_no": f"HT-{amount}",
        "amount": amount,
        "issued_on": today - timedelta(days=10),
        "due_on": today + timedelta(days=90),
        "invoices": [invoice()],
    }
    data.update(over)
    return services.register_receivable(sc.user("ent_user"), data)


def _confirmed(sc, amount="1000000.00", **over) -> Receivable:
    return services.confirm(sc.user("core_user"), _registered(sc, amount, **over))


def _finance_form(**over) -> dict:
    data = {
        "mode": "factoring_recourse",
        "advance_ratio": "80",
        "amount": "800000.00",
        "registration_no": "06930000000000000001",
        "contract_no": "BL-PAGE-1",
    }
    data.update(over)
    return data


# --- navigation and landing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "marker"),
    [
        ("ent_user", "sc-home-enterprise"),
        ("bank_staff", "sc-home-bank"),
        ("gov_jiashan", "sc-home-gov"),
    ],
)
def test_each_role_has_one_menu_entry_to_its_landing_page(sc, name, marker):
    client = _client(sc.user(name))
    home = reverse("supplychain:home")
    page = client.get(reverse("home"))
    assert page.content.decode().count(f'href="{home}"') == 1
    landing = client.get(home)
    assert landing.status_code == 200
    assert f'data-testid="{marker}"' in landing.content.decode()


def test_pages_need_a_login(sc):
    response = Client().get(reverse("supplychain:receivables"))
    assert response.status_code == 302


# --- chains ----------------------------------------------------------------------------


def test_agency_creates_a_chain_adds_and_removes_members_and_measures(sc):
    gov = _client(sc.user("gov_jiashan"))
    response = gov.post(reverse("supplychain:chains"), {"name": "新能源汽车", "lead": sc.core.uscc})
    chain = Chain.objects.get(name="新能源汽车")
    assert response.status_code == 302 and response["Location"] == reverse(
        "supplychain:chain", args=[chain.pk]
    )
    url = reverse("supplychain:member_add", args=[chain.pk])
    assert (
        gov.post(
            url, {"enterprise": sc.world.ent.uscc, "role": "supplier", "tier": "1"}
        ).status_code
        == 302
    )
    assert (
        gov.post(
            url, {"enterprise": sc.world.ent2.uscc, "role": "supplier", "tier": "2"}
        ).status_code
        == 302
    )
    measure = reverse("supplychain:measure_add", args=[chain.pk])
    assert (
        gov.post(measure, {"issued_on": "2026-03-01", "text": "设立链主白名单"}).status_code == 302
    )
    page = gov.get(reverse("supplychain:chain", args=[chain.pk])).content.decode()
    assert "1级供应商" in page and "2级供应商" in page
    assert sc.world.ent.name in page and "2026-03-01" in page and "设立链主白名单" in page
    assert sc.core.name in page

    # The same enterprise twice: 409 as a message, nothing written.
    again = gov.post(url, {"enterprise": sc.world.ent.uscc, "role": "dealer", "tier": "1"})
    assert again.status_code == 409
    assert "已在产业链" in again.content.decode()
    assert ChainMember.objects.filter(chain=chain).count() == 2

    member = ChainMember.objects.get(chain=chain, enterprise=sc.world.ent2)
    assert gov.post(reverse("supplychain:member_remove", args=[member.pk])).status_code == 302
    assert not ChainMember.objects.filter(pk=member.pk).exists()


def test_the_lead_is_picked_from_the_enterprises_the_agency_sees(sc):
    gov = _client(sc.user("gov_jiashan"))
    url = reverse("supplychain:chains")
    assert 'data-picker="enterprises"' in gov.get(url).content.decode()
    elsewhere = _enterprise("嘉兴市外地链主有限公司", JIAXING, "C36", 77)
    for lead, message in (
        (elsewhere.uscc, "不在您的管辖范围内"),
        ("91330421MA0000000X", "不在您的管辖范围内"),
        ("外地链主", "请从列表中选择企业"),
    ):
        response = gov.post(url, {"name": "新能源汽车", "lead": lead})
        assert response.status_code == 422
        assert message in response.content.decode()
    assert not Chain.objects.filter(name="新能源汽车").exists()
    # A full-width, lower-case USCC of an enterprise in its region is picked.
    typed = sc.core.uscc.lower().translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert gov.post(url, {"name": "新能源汽车", "lead": typed}).status_code == 302
    assert Chain.objects.get(name="新能源汽车").lead == sc.core
    # An enterprise keeps its own chain: no 链主 control, a posted one is ignored.
    core = _client(sc.user("core_user"))
    assert 'name="lead"' not in core.get(url).content.decode()
    assert core.post(url, {"name": "集成电路", "lead": elsewhere.uscc}).status_code == 302
    assert Chain.objects.get(name="集成电路").lead == sc.core


def test_member_and_measure_errors_by_field_nothing_written(sc):
    chain = services.create_chain(sc.user("core_user"), {"name": "集成电路"})
    client = _client(sc.user("core_user"))
    bad = client.post(
        reverse("supplychain:member_add", args=[chain.pk]),
        {"enterprise": "91330421000000000X", "role": "supplier", "tier": "7"},
    )
    assert bad.status_code == 422
    form = bad.context["member_form"]
    assert "enterprise" in form.errors and "tier" in form.errors
    empty = client.post(reverse("supplychain:measure_add", args=[chain.pk]), {"text": " "})
    assert empty.status_code == 422 and "text" in empty.context["measure_form"].errors
    assert not ChainMember.objects.filter(chain=chain).exists()
    assert not ChainMeasure.objects.filter(chain=chain).exists()


def test_only_the_keeper_sees_the_forms_and_may_post(sc):
    chain = services.create_chain(sc.user("core_user"), {"name": "集成电路"})
    services.add_member(
        sc.user("core_user"), chain, {"enterprise": sc.world.ent, "role": "supplier", "tier": 1}
    )
    member_page = _client(sc.user("ent_user")).get(reverse("supplychain:chain", args=[chain.pk]))
    assert (
        member_page.status_code == 200
        and 'data-testid="member-form"' not in member_page.content.decode()
    )
    refused = _client(sc.user("ent_user")).post(
        reverse("supplychain:measure_add", args=[chain.pk]), {"text": "x"}
    )
    assert refused.status_code == 403
    # ent2 is not on the chain: it does not see it at all.
    outsider = _client(sc.user("ent2_user"))
    assert outsider.get(reverse("supplychain:chain", args=[chain.pk])).status_code == 404
    assert (
        outsider.post(
            reverse("supplychain:measure_add", args=[chain.pk]), {"text": "x"}
        ).status_code
        == 404
    )
    assert not ChainMeasure.objects.exists()


# --- receivables -----------------------------------------------------------------------


def test_supplier_registers_a_receivable_with_invoice_rows(sc):
    client = _client(sc.user("ent_user"))
    form = client.get(reverse("supplychain:receivable_new"))
    assert form.status_code == 200 and 'name="invoice-2-number"' in form.content.decode()
    response = client.post(reverse("supplychain:receivable_new"), _form(sc))
    receivable = Receivable.objects.get(contract_no="HT-PAGE-0001")
    assert response.status_code == 302
    assert response["Location"] == reverse("supplychain:receivable", args=[receivable.pk])
    assert receivable.amount == Decimal("1000000.00")
    assert receivable.debtor_id == sc.core.pk
    assert sorted(i.number for i in receivable.invoices.all())[-1] == "26332000000012345678"
    assert receivable.invoices.count() == 2
    listing = client.get(reverse("supplychain:receivables")).content.decode()
    assert "HT-PAGE-0001" in listing and "待确权" in listing


def test_bad_registration_errors_by_field_and_by_invoice_row_nothing_written(sc):
    client = _client(sc.user("ent_user"))
    today = _today()
    response = client.post(
        reverse("supplychain:receivable_new"),
        _form(
            sc,
            debtor_uscc="91330421MA2B3C4D5X",
            amount="-5",
            issued_on=str(today - timedelta(days=1)),
            due_on=str(today - timedelta(days=5)),
            **{"invoice-1-number": "2633200000001234", "invoice-2-number": "ABC"},
        ),
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert {"debtor_uscc", "amount", "due_on"} <= set(errors)
    rows = {row["index"]: row["errors"] for row in response.context["rows"]}
    assert rows[0] == [] and rows[1] and rows[2]
    page = response.content.decode()
    assert 'data-row-error="1"' in page and 'data-row-error="2"' in page
    assert not Receivable.objects.exists() and not Invoice.objects.exists()


def test_no_invoice_is_an_error_on_the_invoices(sc):
    client = _client(sc.user("ent_user"))
    data = _form(sc, **{"invoice-0-code": "", "invoice-0-number": "", "invoice-1-number": ""})
    response = client.post(reverse("supplychain:receivable_new"), data)
    assert response.status_code == 422
    assert "invoices" in response.context["form"].errors
    assert not Receivable.objects.exists()


def test_an_invoice_registered_before_is_a_409_message(sc):
    first = _registered(sc)
    taken = first.invoices.get()
    client = _client(sc.user("ent2_user"))
    response = client.post(
        reverse("supplychain:receivable_new"),
        _form(sc, **{"invoice-0-code": taken.code, "invoice-0-number": taken.number}),
    )
    assert response.status_code == 409
    assert "不能重复登记" in response.content.decode()
    assert Receivable.objects.count() == 1


def test_add_an_invoice_row_without_and_with_javascript(sc):
    client = _client(sc.user("ent_user"))
    grown = client.post(reverse("supplychain:receivable_new"), {**_form(sc), "add_row": "1"})
    assert grown.status_code == 200 and len(grown.context["rows"]) == 4
    assert not Receivable.objects.exists()
    row = client.get(reverse("supplychain:invoice_row"), {"i": "4"}).content.decode()
    assert 'name="invoice-4-number"' in row and "?i=5" in row


def test_the_government_procurement_kind_names_the_agency(sc):
    client = _client(sc.user("ent_user"))
    agency = sc.world.gov_jiashan
    data = _form(
        sc,
        kind="gov_procurement",
        debtor_uscc="",
        purchaser_agency=str(agency.pk),
        contract_no="ZC-2026-1",
        payment_schedule=f"{_today() + timedelta(days=30)} 400000\n{_today() + timedelta(days=90)} 600000",
    )
    response = client.post(reverse("supplychain:receivable_new"), data)
    assert response.status_code == 302
    receivable = Receivable.objects.get(contract_no="ZC-2026-1")
    assert receivable.purchaser_agency == agency and len(receivable.payment_schedule) == 2
    inbox = _client(sc.user("gov_jiashan")).get(reverse("supplychain:inbox")).content.decode()
    assert "ZC-2026-1" in inbox


def test_debtor_confirms_in_part_from_its_inbox(sc):
    receivable = _registered(sc)
    client = _client(sc.user("core_user"))
    inbox = client.get(reverse("supplychain:inbox"))
    assert f'data-receivable="{receivable.pk}"' in inbox.content.decode()
    response = client.post(
        reverse("supplychain:confirm", args=[receivable.pk]),
        {"confirmed_amount": "600000", "next": "inbox"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("supplychain:inbox")
    receivable.refresh_from_db()
    assert receivable.state == ReceivableState.PARTLY_CONFIRMED
    assert receivable.confirmed_amount == Decimal("600000.00")
    # Confirming again: 409 as a message on the page it came from.
    again = client.post(
        reverse("supplychain:confirm", args=[receivable.pk]), {"confirmed_amount": ""}, follow=True
    )
    assert again.status_code == 200
    assert "不能执行" in again.content.decode()
    receivable.refresh_from_db()
    assert receivable.confirmed_amount == Decimal("600000.00")


def test_confirmation_above_the_amount_is_a_field_error(sc):
    receivable = _registered(sc)
    response = _client(sc.user("core_user")).post(
        reverse("supplychain:confirm", args=[receivable.pk]), {"confirmed_amount": "2000000"}
    )
    assert response.status_code == 422
    assert "confirmed_amount" in response.context["confirm_form"].errors
    receivable.refresh_from_db()
    assert receivable.state == ReceivableState.REGISTERED


def test_debtor_disputes_with_a_reason(sc):
    receivable = _registered(sc)
    client = _client(sc.user("core_user"))
    blank = client.post(reverse("supplychain:dispute", args=[receivable.pk]), {"reason": ""})
    assert blank.status_code == 422 and "reason" in blank.context["dispute_form"].errors
    done = client.post(
        reverse("supplychain:dispute", args=[receivable.pk]), {"reason": "货物未验收"}
    )
    assert done.status_code == 302
    receivable.refresh_from_db()
    assert receivable.state == ReceivableState.DISPUTED
    page = _client(sc.user("ent_user")).get(reverse("supplychain:receivable", args=[receivable.pk]))
    assert "货物未验收" in page.content.decode()


def test_only_creditor_debtor_and_those_it_is_offered_to_see_a_receivable(sc):
    receivable = _registered(sc)
    url = reverse("supplychain:receivable", args=[receivable.pk])
    assert _client(sc.user("ent_user")).get(url).status_code == 200
    assert _client(sc.user("core_user")).get(url).status_code == 200
    assert _client(sc.user("gov_jiashan")).get(url).status_code == 200
    for outsider in ("ent2_user", "bank_staff", "bank2_staff", "gov_jiangsu"):
        assert _client(sc.user(outsider)).get(url).status_code == 404, outsider
    # Someone else's receivable cannot be confirmed: 404 before any service.
    assert (
        _client(sc.user("ent2_user"))
        .post(reverse("supplychain:confirm", args=[receivable.pk]))
        .status_code
        == 404
    )
    # The supplier sees it but is not the debtor: 403, nothing changes.
    assert (
        _client(sc.user("ent_user"))
        .post(reverse("supplychain:confirm", args=[receivable.pk]))
        .status_code
        == 403
    )
    receivable.refresh_from_db()
    assert receivable.state == ReceivableState.REGISTERED
    # Once confirmed the authorised bank sees it; the other bank still does not.
    services.confirm(sc.user("core_user"), receivable)
    assert _client(sc.user("bank_staff")).get(url).status_code == 200
    assert _client(sc.user("bank2_staff")).get(url).status_code == 404


def test_detail_shows_invoices_confirmation_financing_balance_and_history(sc):
    receivable = _confirmed(sc)
    services.finance(
        sc.user("bank_staff"),
        receivable,
        {**_finance_form(), "backing": "600000", "amount": "480000"},
    )
    page = _client(sc.user("ent_user")).get(reverse("supplychain:receivable", args=[receivable.pk]))
    html = page.content.decode()
    assert receivable.invoices.get().number in html
    assert 'data-field="available">400,000.00' in html
    assert "06930000000000000001" in html
    history = [h["action"] for h in page.context["history"]]
    assert history == [
        "supplychain.receivable.register",
        "supplychain.receivable.confirm",
        "supplychain.financing.create",
    ]


def test_supplier_withdraws_before_confirmation(sc):
    receivable = _registered(sc)
    response = _client(sc.user("ent_user")).post(
        reverse("supplychain:withdraw", args=[receivable.pk])
    )
    assert response.status_code == 302
    receivable.refresh_from_db()
    assert receivable.state == ReceivableState.WITHDRAWN


# --- financing -------------------------------------------------------------------------


def test_bank_sees_what_it_may_finance_and_finances_it(sc):
    receivable = _confirmed(sc)
    client = _client(sc.user("bank_staff"))
    bank_page = client.get(reverse("supplychain:bank"))
    assert f'data-receivable="{receivable.pk}"' in bank_page.content.decode()
    form = client.get(reverse("supplychain:finance", args=[receivable.pk]))
    assert form.status_code == 200
    response = client.post(reverse("supplychain:finance", args=[receivable.pk]), _finance_form())
    assert response.status_code == 302
    financing = Financing.objects.get()
    assert financing.amount == Decimal("800000.00") and financing.backing == Decimal("1000000.00")
    # Now fully financed: gone from the offer, and a second attempt is a 409 message.
    assert (
        f'data-receivable="{receivable.pk}"'
        not in client.get(reverse("supplychain:bank")).content.decode()
    )
    again = client.post(
        reverse("supplychain:finance", args=[receivable.pk]),
        _finance_form(registration_no="06930000000000000002", contract_no="BL-2"),
    )
    assert again.status_code == 409
    html = again.content.decode()
    assert "已全部用于融资" in html and 'data-testid="finance-form"' in html
    assert Financing.objects.count() == 1


def test_financing_errors_by_field_nothing_written(sc):
    receivable = _confirmed(sc)
    response = _client(sc.user("bank_staff")).post(
        reverse("supplychain:finance", args=[receivable.pk]),
        _finance_form(mode="loan", advance_ratio="120", amount="0", registration_no="12"),
    )
    assert response.status_code == 422
    assert {"mode", "advance_ratio", "amount", "registration_no"} <= set(
        response.context["form"].errors
    )
    assert not Financing.objects.exists()
    receivable.refresh_from_db()
    assert receivable.financed == 0


def test_amount_above_the_ratio_is_a_field_error(sc):
    receivable = _confirmed(sc)
    response = _client(sc.user("bank_staff")).post(
        reverse("supplychain:finance", args=[receivable.pk]), _finance_form(amount="900000")
    )
    assert response.status_code == 422 and "amount" in response.context["form"].errors
    assert not Financing.objects.exists()


def test_finance_pages_are_for_banks_the_supplier_authorised(sc):
    receivable = _confirmed(sc)
    url = reverse("supplychain:finance", args=[receivable.pk])
    assert _client(sc.user("bank2_staff")).post(url, _finance_form()).status_code == 404
    assert _client(sc.user("ent_user")).get(url).status_code == 404
    assert _client(sc.user("ent_user")).get(reverse("supplychain:bank")).status_code == 404
    assert not Financing.objects.exists()


def test_government_procurement_financing_needs_the_repayment_account(sc):
    today = _today()
    receivable = services.register_receivable(
        sc.user("ent_user"),
        {
            "kind": "gov_procurement",
            "purchaser_agency": sc.world.gov_jiashan.pk,
            "contract_no": "ZC-1",
            "amount": "500000",
            "issued_on": today - timedelta(days=3),
            "due_on": today + timedelta(days=60),
        },
    )
    services.confirm(sc.user("gov_jiashan"), receivable)
    client = _client(sc.user("bank_staff"))
    form = client.get(reverse("supplychain:finance", args=[receivable.pk])).content.decode()
    assert 'name="repayment_account"' in form
    missing = client.post(
        reverse("supplychain:finance", args=[receivable.pk]), _finance_form(amount="400000")
    )
    assert missing.status_code == 422 and "repayment_account" in missing.context["form"].errors
    done = client.post(
        reverse("supplychain:finance", args=[receivable.pk]),
        _finance_form(amount="400000", repayment_account="嘉善农商行 1234 5678"),
    )
    assert done.status_code == 302
    assert Financing.objects.get().repayment_account == "嘉善农商行 1234 5678"


def test_bank_reports_repayment(sc):
    receivable = _confirmed(sc)
    financing = services.finance(sc.user("bank_staff"), receivable, _finance_form())
    client = _client(sc.user("bank_staff"))
    future = client.post(
        reverse("supplychain:repay", args=[financing.pk]),
        {"repaid_on": str(_today() + timedelta(days=3))},
        follow=True,
    )
    assert "不能晚于今天" in future.content.decode()
    financing.refresh_from_db()
    assert financing.state == "active"
    response = client.post(reverse("supplychain:repay", args=[financing.pk]), {"repaid_on": ""})
    assert response.status_code == 302
    financing.refresh_from_db()
    assert financing.state == "repaid"
    assert (
        _client(sc.user("bank2_staff"))
        .post(reverse("supplychain:repay", args=[financing.pk]))
        .status_code
        == 404
    )


# --- vouchers --------------------------------------------------------------------------


def test_core_enterprise_issues_a_voucher_from_the_payable(sc):
    receivable = _confirmed(sc)
    client = _client(sc.user("core_user"))
    page = client.get(reverse("supplychain:receivable", args=[receivable.pk])).content.decode()
    assert 'data-testid="issue-form"' in page
    bad = client.post(
        reverse("supplychain:issue_voucher", args=[receivable.pk]), {"amount": "5000000"}
    )
    assert bad.status_code == 422 and "amount" in bad.context["issue_form"].errors
    assert not Voucher.objects.exists()
    response = client.post(
        reverse("supplychain:issue_voucher", args=[receivable.pk]), {"amount": "600000"}
    )
    voucher = Voucher.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("supplychain:voucher", args=[voucher.pk])
    assert voucher.holder_id == sc.world.ent.pk and voucher.amount == Decimal("600000.00")
    # The supplier is not the debtor: no form, and a POST is refused.
    supplier_page = _client(sc.user("ent_user")).get(
        reverse("supplychain:receivable", args=[receivable.pk])
    )
    assert 'data-testid="issue-form"' not in supplier_page.content.decode()
    assert (
        _client(sc.user("ent_user"))
        .post(reverse("supplychain:issue_voucher", args=[receivable.pk]), {"amount": "1"})
        .status_code
        == 403
    )


def _voucher(sc, amount="1000000.00") -> Voucher:
    return services.issue_voucher(sc.user("core_user"), _confirmed(sc, amount), {})


def test_holder_splits_and_transfers_and_the_tree_sums_to_the_face(sc):
    voucher = _voucher(sc)
    client = _client(sc.user("ent_user"))
    transfer = client.post(
        reverse("supplychain:transfer", args=[voucher.pk]),
        {"to": sc.world.ent2.uscc, "amount": "300000"},
    )
    assert transfer.status_code == 302
    remainder = Voucher.objects.get(parent=voucher, holder=sc.world.ent)
    split = client.post(
        reverse("supplychain:split", args=[remainder.pk]),
        {
            "rows": "2",
            "part-0-holder": sc.world.ent_js.uscc,
            "part-0-amount": "200000",
            "part-1-holder": sc.world.ent.uscc,
            "part-1-amount": "100000",
        },
    )
    assert split.status_code == 302
    assert services.check_tree(voucher.pk).holds
    # The issuer sees the whole tree and the check.
    tree = _client(sc.user("core_user")).get(reverse("supplychain:voucher", args=[voucher.pk]))
    html = tree.content.decode()
    assert 'data-holds="1"' in html
    assert tree.context["check"].leaves == Decimal("1000000.00")
    assert html.count('class="sc-node') >= 6
    # The first holder sees its own nodes; what it passed on shows as amounts.
    mine = client.get(reverse("supplychain:voucher", args=[voucher.pk])).content.decode()
    assert f'data-hidden-of="{voucher.pk}"' in mine and "300,000.00" in mine
    # ent2 sees only its node; the root is a 404 for it, and for the other bank.
    part = Voucher.objects.get(holder=sc.world.ent2)
    assert (
        _client(sc.user("ent2_user"))
        .get(reverse("supplychain:voucher", args=[part.pk]))
        .status_code
        == 200
    )
    assert (
        _client(sc.user("ent2_user"))
        .get(reverse("supplychain:voucher", args=[voucher.pk]))
        .status_code
        == 404
    )
    assert (
        _client(sc.user("bank2_staff"))
        .get(reverse("supplychain:voucher", args=[voucher.pk]))
        .status_code
        == 404
    )


def test_split_errors_by_row_nothing_written(sc):
    voucher = _voucher(sc)
    response = _client(sc.user("ent_user")).post(
        reverse("supplychain:split", args=[voucher.pk]),
        {
            "rows": "2",
            "part-0-holder": "91330421000000000X",
            "part-0-amount": "100",
            "part-1-holder": sc.world.ent2.uscc,
            "part-1-amount": "-3",
        },
    )
    assert response.status_code == 422
    rows = {row["index"]: row["errors"] for row in response.context["rows"]}
    assert rows[0] and rows[1]
    voucher.refresh_from_db()
    assert voucher.state == VoucherState.HELD and Voucher.objects.count() == 1


def test_transfer_of_a_voucher_split_meanwhile_is_a_409_message(sc):
    voucher = _voucher(sc)
    services.transfer_voucher(sc.user("ent_user"), voucher, sc.world.ent2, "1000")
    response = _client(sc.user("ent_user")).post(
        reverse("supplychain:transfer", args=[voucher.pk]), {"to": sc.world.ent2.uscc}
    )
    assert response.status_code in (403, 409)
    assert Voucher.objects.count() == 3


def test_bank_discounts_a_part_of_a_voucher(sc):
    voucher = _voucher(sc)
    client = _client(sc.user("bank_staff"))
    offered = client.get(reverse("supplychain:vouchers")).content.decode()
    assert f'data-voucher="{voucher.pk}"' in offered
    bad = client.post(reverse("supplychain:discount", args=[voucher.pk]), {"discount_rate": "0"})
    assert bad.status_code == 422
    assert {"discount_rate", "contract_no"} <= set(bad.context["form"].errors)
    response = client.post(
        reverse("supplychain:discount", args=[voucher.pk]),
        {"amount": "400000", "discount_rate": "3.6", "contract_no": "TX-1"},
    )
    assert response.status_code == 302
    discounted = Voucher.objects.get(state=VoucherState.DISCOUNTED)
    assert discounted.amount == Decimal("400000.00") and discounted.bank_id == sc.world.bank.pk
    assert services.check_tree(voucher.pk).holds
    # The second bank has no authorisation: the page is not there for it.
    remainder = Voucher.objects.get(parent=voucher, state=VoucherState.HELD)
    assert (
        _client(sc.user("bank2_staff"))
        .get(reverse("supplychain:discount", args=[remainder.pk]))
        .status_code
        == 404
    )
