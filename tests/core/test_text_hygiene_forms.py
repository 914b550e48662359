"""Issue 15 finding 10 where the API's `Text` type does not reach: the
supply-chain web forms and services, and the Django admin. A name or code
carrying a right-to-left override and a zero-width joiner is refused with
an error on its field and nothing is written; a full-width code is stored
in ASCII (NFKC)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.core.errors import ValidationFailed
from chanrong.core.models import AuditEntry, Industry
from chanrong.finance.models import Branch, FinancialInstitution
from chanrong.supplychain import services
from chanrong.supplychain.forms import ChainForm, DiscountApplyForm
from chanrong.supplychain.models import Chain, ChainMeasure, Receivable
from tests.supplychain.conftest import invoice
from tests.supplychain.conftest import sc as sc  # noqa: F401 (the fixture, for this directory)

pytestmark = pytest.mark.django_db

SPOOFED = "嘉善\u202eGNP.exe\u200d有限公司"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- supply chain: forms, pages and services -------------------------------------------


def test_chain_form_refuses_bidi_and_zero_width_in_the_name():
    form = ChainForm({"name": SPOOFED})
    assert not form.is_valid()
    assert "U+202E" in form.errors["name"][0]
    assert ChainForm({"name": "嘉善精工（浙江）产业链"}).is_valid()


def test_free_text_keeps_zero_width_joiners_but_refuses_bidi():
    assert DiscountApplyForm({"note": "👩\u200d💻 说明"}).is_valid()
    form = DiscountApplyForm({"note": "说明\u202e"})
    assert not form.is_valid() and "note" in form.errors


def test_chain_page_refuses_a_spoofed_name_and_writes_nothing(sc):
    gov = _client(sc.user("gov_jiashan"))
    response = gov.post(reverse("supplychain:chains"), {"name": SPOOFED, "lead": sc.core.uscc})
    assert response.status_code == 422
    assert "name" in response.context["form"].errors
    assert not Chain.objects.exists()


def test_measure_text_with_a_bidi_override_is_refused(sc):
    gov = _client(sc.user("gov_jiashan"))
    gov.post(reverse("supplychain:chains"), {"name": "新能源汽车", "lead": sc.core.uscc})
    chain = Chain.objects.get(name="新能源汽车")
    url = reverse("supplychain:measure_add", args=[chain.pk])
    response = gov.post(url, {"text": "设立\u202e白名单"})
    assert response.status_code != 302
    assert not ChainMeasure.objects.exists()


def _receivable_form(sc, **over) -> dict:
    today = timezone.localdate()
    first = invoice()
    data = {
        "kind": "ordinary",
        "debtor_uscc": sc.core.uscc,
        "contract_no": "HT-HYG-0001",
        "amount": "1000000.00",
        "issued_on": str(today - timedelta(days=10)),
        "due_on": str(today + timedelta(days=90)),
        "rows": "1",
        "invoice-0-code": first["code"],
        "invoice-0-number": first["number"],
    }
    data.update(over)
    return data


def test_receivable_contract_number_spoofed_is_refused_full_width_is_normalised(sc):
    client = _client(sc.user("ent_user"))
    url = reverse("supplychain:receivable_new")
    bad = client.post(url, _receivable_form(sc, contract_no="HT\u200b-0001\u202e"))
    assert bad.status_code == 422
    assert "contract_no" in bad.context["form"].errors
    assert not Receivable.objects.exists()
    good = client.post(url, _receivable_form(sc, contract_no="ＨＴ－ＨＹＧ－０００２"))
    assert good.status_code == 302, good.content.decode()[:1000]
    assert Receivable.objects.get().contract_no == "HT-HYG-0002"


def test_services_refuse_the_same_text_given_directly(sc):
    """The API and imports reach the services without the forms."""
    with pytest.raises(ValidationFailed) as caught:
        services.create_chain(sc.user("gov_jiashan"), {"name": SPOOFED})
    assert [e.field for e in caught.value.errors] == ["name"]
    assert not Chain.objects.exists()
    today = timezone.localdate()
    data = {
        "debtor_uscc": sc.core.uscc,
        "contract_no": "HT\u202e1",
        "amount": "1000",
        "issued_on": today - timedelta(days=1),
        "due_on": today + timedelta(days=30),
        "invoices": [invoice()],
    }
    with pytest.raises(ValidationFailed) as caught:
        services.register_receivable(sc.user("ent_user"), data)
    assert "contract_no" in [e.field for e in caught.value.errors]
    assert not Receivable.objects.exists()


# --- the Django admin -----------------------------------------------------------------


def test_admin_add_form_refuses_a_spoofed_name_and_normalises_a_full_width_code(world):
    client = _client(world.user("admin"))
    url = reverse("admin:core_industry_add")
    before = AuditEntry.objects.count()
    bad = client.post(url, {"code": "C349", "name": SPOOFED, "level": "group"})
    assert bad.status_code == 200
    assert "name" in bad.context["adminform"].form.errors
    assert not Industry.objects.filter(code="C349").exists()
    assert AuditEntry.objects.count() == before
    zero_width_code = client.post(url, {"code": "C3\u200b49", "name": "测试", "level": "group"})
    assert "code" in zero_width_code.context["adminform"].form.errors
    good = client.post(url, {"code": "Ｃ３４９", "name": "测试行业", "level": "group"})
    assert good.status_code == 302, good.content.decode()[:2000]
    assert Industry.objects.get(code="C349").name == "测试行业"


def test_admin_change_form_and_its_inline_refuse_spoofed_names(world):
    """A model with no cleaning of its own (the institution) and its inline
    rows (branches): the admin-wide hook covers both."""
    client = _client(world.user("admin"))
    bank = world.bank
    url = reverse("admin:finance_financialinstitution_change", args=[bank.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {
        name: "" if value is None else getattr(value, "pk", value)
        for name, value in ((n, form[n].value()) for n in form.fields)
    }
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        prefix = formset.formset.prefix
        data.update(
            {
                f"{prefix}-{key}": value
                for key, value in management.initial.items()
                if key in ("TOTAL_FORMS", "INITIAL_FORMS")
            }
        )
        for i, row in enumerate(formset.formset.forms):
            for name in row.fields:
                value = row[name].value()
                data[f"{prefix}-{i}-{name}"] = "" if value is None else value
            branch_prefix, branch_form = prefix, row
    data = {k: v for k, v in data.items() if v is not False}
    name_before = bank.name
    # The page's own values post back cleanly: the refusals below are the names'.
    assert client.post(url, data).status_code == 302
    bad = client.post(url, {**data, "name": SPOOFED})
    assert bad.status_code == 200
    assert "name" in bad.context["adminform"].form.errors
    bank.refresh_from_db()
    assert bank.name == name_before
    bad_row = client.post(url, {**data, f"{branch_prefix}-0-name": SPOOFED})
    assert bad_row.status_code == 200
    assert not Branch.objects.filter(name=SPOOFED).exists()
    assert branch_form.instance.pk is not None
    assert FinancialInstitution.objects.get(pk=bank.pk).name == name_before
